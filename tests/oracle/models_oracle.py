#!/usr/bin/env python3
"""Golden files for Quiver's model training, prediction and model import.

    python3 tests/oracle/models_oracle.py

reads the data sets in ``<repo>/tests/data/`` (copies of ../shared/data) (breast_cancer.csv,
diabetes.csv, iris.csv, digits.csv) and writes, under
tests/oracle/golden/models/:

* ``breast_cancer.json``, ``iris.json``, ``digits.json``: a stratified 80/20
  split (``test_ids``) and scikit-learn's reference test metrics for it;
* ``diabetes.json``: an ordinary least-squares fit on all rows, with
  coefficients and one prediction per row;
* ``iris_mlp/`` and ``diabetes_linear/``: models trained by scikit-learn and
  exported in Quiver's model format (``model.json`` + ``model.safetensors``),
  with ``iris_mlp_expected.json`` holding the expected outputs;
* ``drift_train.csv`` and ``drift_current.csv``: synthetic data with NULLs
  (seed 2026), and ``drift_expected.json``: the drift rows of the current
  data against a profile of the training data, for features x and c.

Each exported model is read back from disk and run through a pure-numpy
forward pass, which must reproduce scikit-learn's predict / predict_proba
to 1e-12.  Deterministic: fixed seeds, sorted keys, floats written with
repr().  See README.md, section "Models".
"""

import csv
import json
import os
import platform
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy
import sklearn
import safetensors
from scipy import stats
from scipy.spatial.distance import jensenshannon
from safetensors.numpy import load_file, save_file
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore", category=ConvergenceWarning)

HERE = Path(__file__).resolve().parent
DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
OUTDIR = HERE / "golden" / "models"

SPLIT_SEED = 42
TEST_SIZE = 0.2
TOL = 1e-12

DRIFT_SEED = 2026
DRIFT_THRESHOLD = 0.1
SMOOTH = 1e-4           # replacement for zero shares in psi

GENERATED_BY = {
    "script": "tests/oracle/models_oracle.py",
    "python": platform.python_version(),
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "sklearn": sklearn.__version__,
    "safetensors": safetensors.__version__,
}


# --------------------------------------------------------------------------
# I/O
# --------------------------------------------------------------------------

def read_csv(name, label, label_type):
    """Returns (ids, feature names, X float64 (n, p), y list)."""
    with open(DATA / name, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert header[0] == "id", header
    li = header.index(label)
    fcols = [i for i in range(1, len(header)) if i != li]
    ids = np.array([int(r[0]) for r in body], dtype=np.int64)
    X = np.array([[float(r[i]) for i in fcols] for r in body], dtype=np.float64)
    conv = {"text": str, "bigint": int, "double": float}[label_type]
    y = [conv(r[li]) for r in body]
    assert len(set(ids.tolist())) == len(ids)
    return ids, [header[i] for i in fcols], X, y


def to_json(v):
    """numpy scalars / arrays -> plain Python (floats keep full precision)."""
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [to_json(x) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        assert np.isfinite(f), f
        return f
    return v


def write_json(path, obj):
    """Sorted keys; a top-level list of lists/dicts gets one element a line."""
    obj = to_json(obj)
    parts = []
    for k in sorted(obj):
        v = obj[k]
        if isinstance(v, list) and v and isinstance(v[0], (list, dict)):
            inner = ",\n".join(" " + json.dumps(e, sort_keys=True) for e in v)
            parts.append(f"{json.dumps(k)}: [\n{inner}\n]")
        else:
            parts.append(f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}")
    text = "{\n" + ",\n".join(parts) + "\n}\n"
    assert json.loads(text) == obj
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def split(ids, y):
    train_ids, test_ids = train_test_split(
        ids, stratify=y, test_size=TEST_SIZE, random_state=SPLIT_SEED)
    test = np.isin(ids, test_ids)
    return ~test, test


# --------------------------------------------------------------------------
# Quiver model format: export and an independent numpy forward pass
# --------------------------------------------------------------------------

def export_model(dirpath, model_type, label, label_type, classes, features,
                 mean, std, weights, biases, activations):
    std = np.where(std == 0.0, 1.0, std)
    meta = {
        "format": "quiver-model/1",
        "model_type": model_type,
        "label": {"name": label, "type": label_type},
    }
    if classes is not None:
        meta["classes"] = list(classes)
    meta["features"] = [
        {"name": n, "type": "double", "kind": "numeric",
         "mean": float(m), "std": float(s)}
        for n, m, s in zip(features, mean, std)]
    tensors, layers = {}, []
    assert activations[-1] == "identity"
    for i, (w, b, a) in enumerate(zip(weights, biases, activations)):
        w = np.ascontiguousarray(w, dtype=np.float64)
        b = np.ascontiguousarray(b, dtype=np.float64)
        assert w.ndim == 2 and b.shape == (w.shape[0],)
        tensors[f"layers.{i}.weight"] = w
        tensors[f"layers.{i}.bias"] = b
        layers.append({"weight": f"layers.{i}.weight",
                       "bias": f"layers.{i}.bias", "activation": a})
    meta["layers"] = layers
    dirpath.mkdir(parents=True, exist_ok=True)
    (dirpath / "model.json").write_text(
        json.dumps(to_json(meta), indent=2) + "\n")
    save_file(tensors, str(dirpath / "model.safetensors"))


ACTIVATIONS = {
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
}


def forward(dirpath, columns):
    """Runs the model in ``dirpath`` on ``columns`` ({feature name: array}).

    Returns raw outputs for regression, class probabilities (n, K) for
    classification, plus the model metadata."""
    meta = json.loads((dirpath / "model.json").read_text())
    tensors = load_file(str(dirpath / "model.safetensors"))
    assert meta["format"] == "quiver-model/1"
    for t in tensors.values():
        assert t.dtype == np.float64
    x = np.column_stack([
        (np.asarray(columns[f["name"]], dtype=np.float64) - f["mean"]) / f["std"]
        for f in meta["features"]])
    for layer in meta["layers"]:
        w, b = tensors[layer["weight"]], tensors[layer["bias"]]
        assert w.shape == (b.shape[0], x.shape[1])
        x = ACTIVATIONS[layer["activation"]](x @ w.T + b)
    if meta["model_type"] in ("linear_reg", "mlp_regressor"):
        assert x.shape[1] == 1
        return x[:, 0], meta
    k = len(meta["classes"])
    if x.shape[1] == 1:
        p1 = 1.0 / (1.0 + np.exp(-x[:, 0]))
        return np.column_stack([1.0 - p1, p1]), meta
    assert x.shape[1] == k
    z = np.exp(x - x.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True), meta


# --------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------

def breast_cancer():
    ids, feats, X, y = read_csv("breast_cancer.csv", "target", "bigint")
    y = np.array(y)
    tr, te = split(ids, y)
    C = 1.0
    pipe = make_pipeline(StandardScaler(),
                         LogisticRegression(C=C, max_iter=10000))
    pipe.fit(X[tr], y[tr])
    n_train = int(tr.sum())
    auc = roc_auc_score(y[te], pipe.predict_proba(X[te])[:, 1])
    acc = accuracy_score(y[te], pipe.predict(X[te]))
    write_json(OUTDIR / "breast_cancer.json", {
        "generated_by": GENERATED_BY,
        "label": "target",
        "features": feats,
        "test_ids": sorted(ids[te].tolist()),
        "n_train": n_train,
        "C": C,
        "l2_reg_equivalent": 1.0 / (C * n_train),
        "sklearn_test_roc_auc": auc,
        "sklearn_test_accuracy": acc,
    })
    return {"n_train": n_train, "n_test": int(te.sum()),
            "roc_auc": auc, "accuracy": acc}


def diabetes():
    ids, feats, X, y = read_csv("diabetes.csv", "target", "double")
    assert feats == ["age", "sex", "bmi", "bp",
                     "s1", "s2", "s3", "s4", "s5", "s6"], feats
    y = np.array(y)
    lr = LinearRegression().fit(X, y)
    pred = lr.predict(X)
    write_json(OUTDIR / "diabetes.json", {
        "generated_by": GENERATED_BY,
        "label": "target",
        "features": feats,
        "coef": lr.coef_,
        "intercept": lr.intercept_,
        "predictions": [[int(i), float(p)] for i, p in zip(ids, pred)],
    })

    # Same model, standardized: w_j = coef_j * std_j, b = intercept + coef.mean
    mean = X.mean(axis=0)
    std = X.std(axis=0, ddof=0)
    sc = StandardScaler().fit(X)
    assert np.allclose(mean, sc.mean_, rtol=1e-14, atol=0)
    assert np.allclose(std, sc.scale_, rtol=1e-14, atol=0)
    assert np.all(std > 0)
    w = (lr.coef_ * std)[None, :]
    b = np.array([lr.intercept_ + np.dot(lr.coef_, mean)])
    d = OUTDIR / "diabetes_linear"
    export_model(d, "linear_reg", "target", "double", None, feats,
                 mean, std, [w], [b], ["identity"])
    out, _ = forward(d, {n: X[:, j] for j, n in enumerate(feats)})
    err = np.max(np.abs(out - pred) / np.maximum(1.0, np.abs(pred)))
    assert err <= TOL, err
    return {"r2_train": lr.score(X, y), "export_max_rel_err": err}


def iris():
    ids, feats, X, y = read_csv("iris.csv", "species", "text")
    y = np.array(y, dtype=object)
    tr, te = split(ids, y)
    ref = make_pipeline(StandardScaler(), LogisticRegression(max_iter=10000))
    ref.fit(X[tr], y[tr])
    acc = accuracy_score(y[te], ref.predict(X[te]))
    write_json(OUTDIR / "iris.json", {
        "generated_by": GENERATED_BY,
        "label": "species",
        "features": feats,
        "test_ids": sorted(ids[te].tolist()),
        "sklearn_test_accuracy": acc,
    })

    # Imported model: StandardScaler + MLP(16 relu) trained on the train split.
    sc = StandardScaler()
    mlp = MLPClassifier(hidden_layer_sizes=(16,), activation="relu",
                        random_state=0, max_iter=2000)
    pipe = make_pipeline(sc, mlp).fit(X[tr], y[tr])
    classes = [str(c) for c in mlp.classes_]
    assert classes == sorted(set(y.tolist())) == ["setosa", "versicolor",
                                                   "virginica"]
    assert mlp.out_activation_ == "softmax" and mlp.n_outputs_ == 3
    acts = [mlp.activation] * (len(mlp.coefs_) - 1) + ["identity"]
    d = OUTDIR / "iris_mlp"
    export_model(d, "mlp_classifier", "species", "text", classes, feats,
                 sc.mean_, sc.scale_,
                 [c.T for c in mlp.coefs_], mlp.intercepts_, acts)

    proba = pipe.predict_proba(X)
    pred = pipe.predict(X)
    got, meta = forward(d, {n: X[:, j] for j, n in enumerate(feats)})
    err = np.max(np.abs(got - proba))
    assert err <= TOL, err
    assert [meta["classes"][k] for k in got.argmax(axis=1)] == pred.tolist()
    order = np.argsort(ids)
    write_json(OUTDIR / "iris_mlp_expected.json", {
        "generated_by": GENERATED_BY,
        "model": "iris_mlp",
        "classes": classes,
        "probabilities": [[int(ids[i]), proba[i].tolist()] for i in order],
        "predictions": [[int(ids[i]), str(pred[i])] for i in order],
    })
    return {"n_test": int(te.sum()), "accuracy": acc,
            "mlp_test_accuracy": accuracy_score(y[te], pred[te]),
            "mlp_n_iter": mlp.n_iter_, "export_max_abs_err": err}


def digits():
    ids, feats, X, y = read_csv("digits.csv", "target", "bigint")
    assert len(feats) == 64
    y = np.array(y)
    tr, te = split(ids, y)
    pipe = make_pipeline(StandardScaler(),
                         MLPClassifier(hidden_layer_sizes=(64,),
                                       random_state=0, max_iter=300))
    pipe.fit(X[tr], y[tr])
    acc = accuracy_score(y[te], pipe.predict(X[te]))
    write_json(OUTDIR / "digits.json", {
        "generated_by": GENERATED_BY,
        "label": "target",
        "features": feats,
        "test_ids": sorted(ids[te].tolist()),
        "sklearn_test_accuracy": acc,
    })
    return {"n_test": int(te.sum()), "accuracy": acc}


# --------------------------------------------------------------------------
# Drift against a training profile (synthetic data with NULLs)
# --------------------------------------------------------------------------

def with_nulls(vals, rng, count):
    """Sets exactly ``count`` entries, drawn without replacement, to None."""
    vals = list(vals)
    for i in rng.choice(len(vals), size=count, replace=False):
        vals[int(i)] = None
    return vals


def drift_side(rng, n, mean, sd, x_null, cats, p, c_null):
    """Draw order: x, x NULLs, c, c NULLs.  y = x > 10, or (x NULL and c
    == 'red')."""
    x = with_nulls([float(v) for v in np.round(rng.normal(mean, sd, n), 3)],
                   rng, round(x_null * n))
    c = with_nulls([str(v) for v in rng.choice(cats, size=n, p=p)],
                   rng, round(c_null * n))
    y = [1 if (xi is not None and xi > 10.0)
         or (xi is None and ci == "red") else 0 for xi, ci in zip(x, c)]
    return x, c, y


def write_drift_csv(path, x, c, y):
    """Header id,x,c,y; NULL is an empty field; x written with repr()."""
    lines = ["id,x,c,y"]
    for i, (xi, ci, yi) in enumerate(zip(x, c, y), start=1):
        if xi is not None:
            xs = repr(xi)
            assert "." in xs and "e" not in xs and not xs.startswith("-"), xs
        lines.append(",".join([str(i), "" if xi is None else xs,
                               "" if ci is None else ci, str(yi)]))
    path.write_text("\n".join(lines) + "\n")


def read_drift_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["id", "x", "c", "y"], rows[0]
    body = rows[1:]
    assert [int(r[0]) for r in body] == list(range(1, len(body) + 1))
    x = [float(r[1]) if r[1] != "" else None for r in body]
    c = [r[2] if r[2] != "" else None for r in body]
    return x, c


def psi_value(e, a):
    es, as_ = np.array(e, dtype=float), np.array(a, dtype=float)
    es[es == 0] = SMOOTH
    as_[as_ == 0] = SMOOTH
    v = float(np.sum((as_ - es) * np.log(as_ / es)))
    mine = 0.0
    for ei, ai in zip(e, a):
        ei = ei if ei != 0 else SMOOTH
        ai = ai if ai != 0 else SMOOTH
        mine += (ai - ei) * np.log(ai / ei)
    assert abs(v - mine) <= 1e-12 * max(1.0, abs(v)), (v, mine)
    return v


def drift_row(column, ref_all, cur_all):
    ref = [v for v in ref_all if v is not None]
    cur = [v for v in cur_all if v is not None]
    row = {
        "column": column,
        "n_ref": len(ref),
        "n_cur": len(cur),
        "null_share_ref": (len(ref_all) - len(ref)) / len(ref_all),
        "null_share_cur": (len(cur_all) - len(cur)) / len(cur_all),
        "threshold": DRIFT_THRESHOLD,
    }
    if isinstance(ref[0], float):
        r, cu = np.array(ref), np.array(cur)
        edges = np.unique(np.quantile(r, [k / 10 for k in range(1, 10)]))
        nb = len(edges) + 1
        rc = np.bincount(np.searchsorted(edges, r, side="right"), minlength=nb)
        cc = np.bincount(np.searchsorted(edges, cu, side="right"), minlength=nb)
        # second way: bin = number of edges <= v
        for vals, counts in ((ref, rc), (cur, cc)):
            mine = [0] * nb
            for v in vals:
                mine[sum(1 for e in edges if e <= v)] += 1
            assert mine == counts.tolist()
        psi = psi_value(rc / rc.sum(), cc / cc.sum())
        p = float(stats.chi2.sf(psi / (1 / len(ref) + 1 / len(cur)), nb - 1))
        row.update(kind="numeric", method="psi", statistic=psi, p_value=p,
                   psi=psi)
        extra = {"edges": edges, "ref_counts": rc, "cur_counts": cc}
    else:
        cats = sorted(set(ref)) + sorted(set(cur) - set(ref))
        rc = np.array([ref.count(k) for k in cats], dtype=np.int64)
        cc = np.array([cur.count(k) for k in cats], dtype=np.int64)
        es, as_ = rc / rc.sum(), cc / cc.sum()
        js = float(jensenshannon(es, as_))
        m = (es + as_) / 2
        kl = lambda p, q: sum(pi * np.log(pi / qi) for pi, qi in zip(p, q)
                              if pi > 0)
        mine = float(np.sqrt(0.5 * kl(es, m) + 0.5 * kl(as_, m)))
        assert abs(js - mine) <= 1e-12, (js, mine)
        keep = (rc + cc) > 0
        p = float(stats.chi2_contingency(np.array([rc[keep], cc[keep]])).pvalue)
        row.update(kind="categorical", method="jensenshannon", statistic=js,
                   p_value=p, psi=psi_value(es, as_))
        extra = {"categories": cats, "ref_counts": rc, "cur_counts": cc}
    # rounding in the engine must not flip the verdict
    assert abs(row["statistic"] - DRIFT_THRESHOLD) > 1e-6, row["statistic"]
    row["drifted"] = row["statistic"] >= DRIFT_THRESHOLD
    return row, extra


def drift():
    rng = np.random.default_rng(DRIFT_SEED)
    train = drift_side(rng, 400, 10.0, 2.0, 0.05,
                       ["red", "green", "blue"], [0.5, 0.3, 0.2], 0.03)
    current = drift_side(rng, 300, 11.0, 2.5, 0.10,
                         ["red", "green", "blue", "purple"],
                         [0.3, 0.3, 0.2, 0.2], 0.05)
    for name, (x, c, y) in (("train", train), ("current", current)):
        assert set(y) == {0, 1}
        write_drift_csv(OUTDIR / f"drift_{name}.csv", x, c, y)
    # expected values from the files as read back from disk
    tx, tc = read_drift_csv(OUTDIR / "drift_train.csv")
    cx, cc = read_drift_csv(OUTDIR / "drift_current.csv")
    assert tx == train[0] and tc == train[1]
    assert cx == current[0] and cc == current[1]
    rows = [drift_row(column, ref, cur)[0]
            for column, ref, cur in (("x", tx, cx), ("c", tc, cc))]
    write_json(OUTDIR / "drift_expected.json", {
        "generated_by": GENERATED_BY,
        "rows": rows,
    })
    return {r["column"]: (r["statistic"], r["p_value"], r["drifted"])
            for r in rows}


def main():
    assert DATA.is_dir(), DATA
    OUTDIR.mkdir(parents=True, exist_ok=True)
    for name, fn in [("breast_cancer", breast_cancer), ("diabetes", diabetes),
                     ("iris", iris), ("digits", digits), ("drift", drift)]:
        res = fn()
        print(f"{name:14s} " + "  ".join(f"{k}={v}" for k, v in res.items()))
    for p in sorted(OUTDIR.rglob("*")):
        if p.is_file():
            print(f"  {p.relative_to(HERE)}  {p.stat().st_size} bytes")


if __name__ == "__main__":
    sys.exit(main())
