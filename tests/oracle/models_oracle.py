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
  with ``iris_mlp_expected.json`` holding the expected outputs.

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


def main():
    assert DATA.is_dir(), DATA
    OUTDIR.mkdir(parents=True, exist_ok=True)
    for name, fn in [("breast_cancer", breast_cancer), ("diabetes", diabetes),
                     ("iris", iris), ("digits", digits)]:
        res = fn()
        print(f"{name:14s} " + "  ".join(f"{k}={v}" for k, v in res.items()))
    for p in sorted(OUTDIR.rglob("*")):
        if p.is_file():
            print(f"  {p.relative_to(HERE)}  {p.stat().st_size} bytes")


if __name__ == "__main__":
    sys.exit(main())
