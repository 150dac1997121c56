#!/usr/bin/env python3
"""Golden files for the SQL table function
``drift_report(reference_query, current_query [, options])``.

    python3 tests/oracle/drift_report_oracle.py

writes, under tests/oracle/golden/drift_report/, for every scenario S:

* ``S_reference.csv`` and ``S_current.csv``: header row, one column per
  line field, empty field = NULL, numbers written with repr(), booleans as
  ``true`` / ``false``, text without commas or quotes;
* ``S_expected.json``: the expected report (see README.md, section
  "drift_report").

Every expected value is computed from the CSV files as they are read back
from disk (never from the generator's arrays), with numpy / scipy.  Each
statistic is computed a second way (own implementation of the formula) and
the two are asserted to agree.  Deterministic: fixed seeds, sorted keys,
floats written with repr().
"""

import csv
import io
import json
import math
import os
import re
import sys
import warnings

import numpy as np
import scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon

HERE = os.path.dirname(os.path.abspath(__file__))
OUTDIR = os.path.join(HERE, "golden", "drift_report")

SMOOTH = 1e-4           # replacement for zero shares in psi / kl
STD_FLOOR = 0.001       # wasserstein is divided by max(std(ref), STD_FLOOR)
SMALL_REF_ROWS = 1000   # reference rows <= this: ks / chi2, else wasserstein / js
MAX_CAT_UNIQUE = 5      # numeric with n_unique <= this is treated as categories
DEFAULT_BINS = 10
MAX_CSV_BYTES = 200_000
METHODS = ("ks", "chi2", "wasserstein", "jensenshannon", "psi", "kl")
DEFAULT_THRESHOLD = {"ks": 0.05, "chi2": 0.05, "wasserstein": 0.1,
                     "jensenshannon": 0.1, "psi": 0.1, "kl": 0.1}

warnings.filterwarnings("ignore")


# --------------------------------------------------------------------------
# CSV writing / reading
# --------------------------------------------------------------------------

def fmt(v, typ):
    if v is None:
        return ""
    if typ == "float":
        s = repr(float(v))
        # arrow-csv style inference needs a '.'; keep plain decimal notation
        assert "." in s and "e" not in s and "n" not in s, s
        return s
    if typ == "int":
        assert isinstance(v, int) and not isinstance(v, bool)
        return repr(v)
    if typ == "bool":
        assert isinstance(v, bool)
        return "true" if v else "false"
    if typ == "text":
        assert isinstance(v, str) and v and not re.search(r'[,"\'\s]', v), v
        return v
    raise ValueError(typ)


def write_csv(path, header, types, columns):
    n = len(columns[0]) if columns else 0
    assert all(len(c) == n for c in columns)
    lines = [",".join(header)]
    for i in range(n):
        lines.append(",".join(fmt(col[i], t) for col, t in zip(columns, types)))
    text = "\n".join(lines) + "\n"
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        fh.write(text)
    assert len(text.encode()) < MAX_CSV_BYTES, (path, len(text))
    return len(text.encode())


INT_RE = re.compile(r"^-?\d+$")
FLOAT_RE = re.compile(r"^-?\d+\.\d+$")


def infer_type(raw):
    vals = [s for s in raw if s != ""]
    if not vals:
        return None
    if all(s in ("true", "false") for s in vals):
        return "bool"
    if all(INT_RE.match(s) for s in vals):
        return "int"
    if all(FLOAT_RE.match(s) or INT_RE.match(s) for s in vals):
        return "float"
    return "text"


def parse(s, typ):
    if s == "":
        return None
    if typ == "bool":
        return s  # booleans are the categories 'true' / 'false'
    if typ in ("int", "float"):
        return float(s)  # numbers are compared by value
    return s


def read_csv(path, fallback_types=None):
    """-> (header, types, {name: [value or None]}, n_rows)."""
    with open(path, encoding="ascii", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert all(len(r) == len(header) for r in body)
    types, cols = [], {}
    for j, name in enumerate(header):
        raw = [r[j] for r in body]
        t = infer_type(raw)
        if t is None:
            # no non-NULL value (e.g. zero rows): type taken from the reference
            t = fallback_types[name]
        types.append(t)
        cols[name] = [parse(s, t) for s in raw]
    return header, types, cols, len(body)


# --------------------------------------------------------------------------
# statistics, each with a second independent computation
# --------------------------------------------------------------------------

def close(a, b, rel=1e-12, abs_=1e-15):
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_)


def quantile_linear(sorted_vals, q):
    """numpy's default 'linear' quantile, as README.md spells it out."""
    n = len(sorted_vals)
    idx = (n - 1) * q
    lo = math.floor(idx)
    t = idx - lo
    if idx >= n - 1:
        return sorted_vals[-1]
    a, b = sorted_vals[lo], sorted_vals[lo + 1]
    return a + (b - a) * t if t < 0.5 else b - (b - a) * (1 - t)


def quantile_edges(ref, bins):
    r = np.asarray(ref, dtype=float)
    qs = [k / bins for k in range(1, bins)]
    edges = np.unique(np.quantile(r, qs))
    s = sorted(ref)
    mine = sorted(set(quantile_linear(s, q) for q in qs))
    assert list(edges) == mine, (list(edges), mine)
    return edges


def bin_counts(ref, cur, as_category, bins):
    """(labels, ref counts, cur counts) over every bin / category."""
    if as_category:
        cats = sorted(set(ref) | set(cur))
        rc = np.array([sum(1 for v in ref if v == c) for c in cats], dtype=np.int64)
        cc = np.array([sum(1 for v in cur if v == c) for c in cats], dtype=np.int64)
        return cats, rc, cc
    edges = quantile_edges(ref, bins)
    nb = len(edges) + 1
    rc = np.bincount(np.searchsorted(edges, np.asarray(ref, float), side="right"), minlength=nb)
    cc = np.bincount(np.searchsorted(edges, np.asarray(cur, float), side="right"), minlength=nb)
    # second way: linear scan, bin = number of edges <= v
    for vals, counts in ((ref, rc), (cur, cc)):
        mine = [0] * nb
        for v in vals:
            mine[sum(1 for e in edges if e <= v)] += 1
        assert mine == list(counts)
    return ["bin%d" % i for i in range(nb)], rc, cc


def smooth(p):
    p = np.array(p, dtype=float)
    p[p == 0] = SMOOTH
    return p


def psi_value(e, a):
    es, as_ = smooth(e), smooth(a)
    v = float(np.sum((as_ - es) * np.log(as_ / es)))
    mine = 0.0
    for ei, ai in zip(e, a):
        ei = ei if ei != 0 else SMOOTH
        ai = ai if ai != 0 else SMOOTH
        mine += (ai - ei) * math.log(ai / ei)
    assert close(v, mine, 1e-12, 1e-15), (v, mine)
    return v


def kl_value(e, a):
    v = float(stats.entropy(smooth(e), smooth(a)))
    p, q = smooth(e), smooth(a)
    p, q = p / p.sum(), q / q.sum()
    mine = sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))
    assert close(v, mine, 1e-10, 1e-15), (v, mine)
    return v


def js_value(e, a):
    v = float(jensenshannon(e, a))
    m = [(x + y) / 2 for x, y in zip(e, a)]
    kl = lambda p, q: sum(pi * math.log(pi / qi) for pi, qi in zip(p, q) if pi > 0)
    mine = math.sqrt(max(0.0, 0.5 * kl(e, m) + 0.5 * kl(a, m)))
    assert close(v, mine, 1e-10, 1e-12), (v, mine)
    return v


def ks_value(ref, cur):
    r = stats.ks_2samp(ref, cur)
    rs, cs = np.sort(ref), np.sort(cur)
    allv = np.concatenate([rs, cs])
    d = float(np.max(np.abs(np.searchsorted(rs, allv, side="right") / len(rs)
                            - np.searchsorted(cs, allv, side="right") / len(cs))))
    assert close(float(r.statistic), d, 1e-12, 1e-15), (r.statistic, d)
    if max(len(ref), len(cur)) <= 10000:
        ex = stats.ks_2samp(ref, cur, method="exact")
        assert float(ex.pvalue) == float(r.pvalue)
    return float(r.statistic), float(r.pvalue)


def chi2_value(rc, cc):
    keep = (rc + cc) > 0   # only binned numeric bins can be empty on both sides
    table = np.array([rc[keep], cc[keep]])
    if table.shape[1] == 1:
        return 0.0, 1.0
    r = stats.chi2_contingency(table)
    # second way: explicit expected counts and Yates correction for dof 1
    n = table.sum()
    exp = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    dof = table.shape[1] - 1
    stat = 0.0
    for o, e in zip(table.ravel(), exp.ravel()):
        diff = abs(o - e)
        if dof == 1:
            diff -= min(0.5, diff)
        stat += diff * diff / e
    p = float(stats.chi2.sf(stat, dof))
    assert close(float(r.statistic), stat, 1e-10, 1e-12), (r.statistic, stat)
    assert close(float(r.pvalue), p, 1e-9, 1e-300), (r.pvalue, p)
    return float(r.statistic), float(r.pvalue)


def wasserstein_value(ref, cur):
    w = float(stats.wasserstein_distance(ref, cur))
    sd = float(np.std(np.asarray(ref, float)))
    v = w / max(sd, STD_FLOOR)
    # second way: area between the ECDFs; std from its definition
    rs, cs = np.sort(ref), np.sort(cur)
    allv = np.sort(np.concatenate([rs, cs]))
    deltas = np.diff(allv)
    fr = np.searchsorted(rs, allv[:-1], side="right") / len(rs)
    fc = np.searchsorted(cs, allv[:-1], side="right") / len(cs)
    w2 = math.fsum(abs(x - y) * d for x, y, d in zip(fr, fc, deltas))
    mean = math.fsum(ref) / len(ref)
    sd2 = math.sqrt(math.fsum((x - mean) ** 2 for x in ref) / len(ref))
    assert close(w, w2, 1e-10, 1e-13), (w, w2)
    assert close(sd, sd2, 1e-10, 1e-13), (sd, sd2)
    return v


# --------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------

def parse_options(s):
    opts = {}
    if not s.strip():
        return opts
    for part in s.split(","):
        k, v = (x.strip() for x in part.split("=", 1))
        if k == "method":
            assert v in METHODS, v
            opts[k] = v
        elif k == "threshold":
            opts[k] = float(v)
        elif k == "bins":
            opts[k] = int(v)
        else:
            raise ValueError(k)
    return opts


def column_report(name, typ, ref_all, cur_all, ref_rows, cur_rows, opts):
    kind = "numeric" if typ in ("int", "float") else "categorical"
    ref = [v for v in ref_all if v is not None]
    cur = [v for v in cur_all if v is not None]
    n_unique = len(set(ref) | set(cur))
    small = ref_rows <= SMALL_REF_ROWS
    as_category = kind == "categorical" or n_unique <= MAX_CAT_UNIQUE
    if as_category:
        default = "chi2" if small else "jensenshannon"
    else:
        default = "ks" if small else "wasserstein"
    method = opts.get("method", default)
    if method in ("ks", "wasserstein") and kind == "categorical":
        method = "chi2" if small else "jensenshannon"
    threshold = opts.get("threshold", DEFAULT_THRESHOLD[method])
    bins = opts.get("bins", DEFAULT_BINS)

    row = {
        "column": name, "kind": kind, "method": method, "threshold": threshold,
        "n_ref": len(ref), "n_cur": len(cur),
        "null_share_ref": (ref_rows - len(ref)) / ref_rows if ref_rows else None,
        "null_share_cur": (cur_rows - len(cur)) / cur_rows if cur_rows else None,
        "statistic": None, "p_value": None, "psi": None, "drifted": False,
    }
    if not ref or not cur:
        return row

    _, rc, cc = bin_counts(ref, cur, as_category, bins)
    e, a = rc / len(ref), cc / len(cur)
    row["psi"] = psi_value(e, a)
    if method == "ks":
        row["statistic"], row["p_value"] = ks_value(ref, cur)
    elif method == "chi2":
        row["statistic"], row["p_value"] = chi2_value(rc, cc)
    elif method == "wasserstein":
        row["statistic"] = wasserstein_value(ref, cur)
    elif method == "jensenshannon":
        row["statistic"] = js_value(e, a)
    elif method == "psi":
        row["statistic"] = row["psi"]
    elif method == "kl":
        row["statistic"] = kl_value(e, a)
    if method in ("ks", "chi2"):
        row["drifted"] = row["p_value"] < threshold
        margin = row["p_value"]
    else:
        row["drifted"] = row["statistic"] >= threshold
        margin = row["statistic"]
    # keep every decision well clear of its threshold, so that last-bit
    # differences in another implementation cannot flip `drifted`
    assert abs(margin - threshold) > 1e-6 * threshold, (name, margin, threshold)
    return row


def drift_report(ref_path, cur_path, options):
    rh, rt, rcols, rrows = read_csv(ref_path)
    ref_types = dict(zip(rh, rt))
    ch, ct, ccols, crows = read_csv(cur_path, ref_types)
    cur_types = dict(zip(ch, ct))
    opts = parse_options(options)
    rows = []
    for name in rh:
        if name not in ccols:
            continue
        assert cur_types[name] == ref_types[name], name
        rows.append(column_report(name, ref_types[name], rcols[name], ccols[name],
                                  rrows, crows, opts))
    ncols = len(rows)
    drifted = sum(1 for r in rows if r["drifted"])
    share = drifted / ncols if ncols else None
    if share is not None and share > 0.2:
        status = "HIGH_DRIFT"
    elif share is not None and share > 0.1:
        status = "MEDIUM_DRIFT"
    else:
        status = "NO_DRIFT"
    return rows, {"columns": ncols, "drifted_columns": drifted,
                  "drift_share": share, "status": status}, rt


# --------------------------------------------------------------------------
# data sets
# --------------------------------------------------------------------------

def rnd(a):
    """4 decimals: keeps the large CSVs under 200 KB and repr() in plain
    decimal notation (repr switches to exponents below 1e-4)."""
    return [float(v) for v in np.round(np.asarray(a, dtype=float), 4)]


def with_nulls(vals, rng, count):
    vals = list(vals)
    for i in rng.choice(len(vals), size=count, replace=False):
        vals[int(i)] = None
    return vals


def small_data():
    rng = np.random.default_rng(20250101)
    nr, nc = 500, 400
    header = ["a", "b", "c", "d", "e", "f"]
    types = ["float", "float", "int", "text", "bool", "float"]
    ref = [
        rnd(rng.normal(0, 1, nr)),
        rnd(rng.normal(0, 1, nr)),
        [int(v) for v in rng.choice([0, 1, 2], nr, p=[0.5, 0.3, 0.2])],
        [str(v) for v in rng.choice(["red", "green", "blue"], nr, p=[0.5, 0.3, 0.2])],
        [bool(v) for v in rng.random(nr) < 0.6],
        rnd(rng.normal(10, 2, nr)),
    ]
    cur = [
        rnd(rng.normal(0, 1, nc)),
        rnd(rng.normal(0.5, 1, nc)),                        # shift 0.5 sd
        [int(v) for v in rng.choice([0, 1, 2], nc, p=[0.35, 0.35, 0.3])],
        [str(v) for v in rng.choice(["red", "green", "blue", "violet"], nc,
                                    p=[0.45, 0.3, 0.17, 0.08])],  # violet: current only
        [bool(v) for v in rng.random(nc) < 0.56],
        with_nulls(rnd(rng.normal(10, 2, nc)), rng, nc // 10),   # 10% NULL
    ]
    return header, types, ref, cur


def large_data():
    rng = np.random.default_rng(20250202)
    nr, nc = 3000, 2500
    header = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
    types = ["float", "float", "int", "text", "bool", "float", "float", "float",
             "text", "float"]
    h_cur = [7.0] * nc
    for i in rng.choice(nc, size=int(nc * 0.3), replace=False):
        h_cur[int(i)] = rnd([rng.normal(7.3, 0.2)])[0]
    ref = [
        rnd(rng.normal(0, 1, nr)),                                   # a
        rnd(rng.normal(0, 1, nr)),                                   # b
        [int(v) for v in rng.choice([0, 1, 2], nr, p=[0.5, 0.3, 0.2])],
        [str(v) for v in rng.choice(["red", "green", "blue"], nr, p=[0.5, 0.3, 0.2])],
        [bool(v) for v in rng.random(nr) < 0.5],
        rnd(rng.normal(10, 2, nr)),                                  # f
        [7.0] * nr,                                                  # g constant
        [7.0] * nr,                                                  # h constant ref
        [str(v) for v in rng.choice(["north", "south", "east", "west"], nr,
                                    p=[0.4, 0.3, 0.2, 0.1])],        # i unchanged
        rnd(rng.normal(5, 1, nr)),                                   # j
    ]
    cur = [
        rnd(rng.normal(0, 1, nc)),                                   # a: no drift
        rnd(rng.normal(0.3, 1, nc)),                                 # b: 0.3 sd shift
        [int(v) for v in rng.choice([0, 1, 2], nc, p=[0.44, 0.32, 0.24])],  # c: mild
        [str(v) for v in rng.choice(["red", "green", "blue", "violet"], nc,
                                    p=[0.4, 0.25, 0.2, 0.15])],      # d: new level
        [bool(v) for v in rng.random(nc) < 0.7],                     # e: 0.5 -> 0.7
        with_nulls(rnd(rng.normal(10, 2.6, nc)), rng, nc // 10),     # f: scale, 10% NULL
        [7.0] * nc,                                                  # g: same constant
        h_cur,                                                       # h: 30% moved
        [str(v) for v in rng.choice(["north", "south", "east", "west"], nc,
                                    p=[0.4, 0.3, 0.2, 0.1])],        # i: unchanged
        rnd(rng.normal(5.05, 1, nc)),                                # j: 0.05 sd shift
    ]
    return header, types, ref, cur


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------

ROW_KEYS = ["column", "kind", "n_ref", "n_cur", "null_share_ref", "null_share_cur",
            "method", "statistic", "p_value", "psi", "threshold", "drifted"]


def write_expected(scenario, options, rows, summary):
    dumps = lambda o: json.dumps(o, sort_keys=True, allow_nan=False, ensure_ascii=True)
    for r in rows:
        assert sorted(r) == sorted(ROW_KEYS)
        for k, v in r.items():
            assert not isinstance(v, float) or math.isfinite(v), (scenario, r)
    lines = ["{", '"options": %s,' % dumps(options), '"rows": [']
    for i, r in enumerate(rows):
        lines.append(dumps(r) + ("," if i + 1 < len(rows) else ""))
    lines.append("],")
    lines.append('"scenario": %s,' % dumps(scenario))
    lines.append('"summary": %s' % dumps(summary))
    lines.append("}")
    text = "\n".join(lines) + "\n"
    obj = json.loads(text)
    assert obj["rows"] == rows and obj["summary"] == summary
    path = os.path.join(OUTDIR, scenario + "_expected.json")
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        fh.write(text)


def show(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "%.6g" % v
    return str(v)


def print_table(scenario, options, rows, summary):
    print("== %s  options=%r" % (scenario, options))
    cols = ["column", "kind", "n_ref", "n_cur", "null_share_ref", "null_share_cur",
            "method", "statistic", "p_value", "psi", "threshold", "drifted"]
    short = ["col", "kind", "n_ref", "n_cur", "null_r", "null_c", "method",
             "statistic", "p_value", "psi", "thr", "drift"]
    table = [short] + [[show(r[c]) for c in cols] for r in rows]
    widths = [max(len(t[i]) for t in table) for i in range(len(cols))]
    for t in table:
        print("  " + "  ".join(s.ljust(w) for s, w in zip(t, widths)))
    print("  summary: %s" % json.dumps(summary, sort_keys=True))


SCENARIOS = [
    # (scenario, data, options, empty current)
    ("small", "small", "", False),
    ("large", "large", "", False),
    ("large_psi", "large", "method=psi, threshold=0.2", False),
    ("small_ks_bins", "small", "method=ks, bins=5", False),
    ("empty_current", "small", "", True),
]


def main():
    np.seterr(all="ignore")
    os.makedirs(OUTDIR, exist_ok=True)
    data = {"small": small_data(), "large": large_data()}
    sizes = []
    for scenario, dname, options, empty_current in SCENARIOS:
        header, types, ref, cur = data[dname]
        rp = os.path.join(OUTDIR, scenario + "_reference.csv")
        cp = os.path.join(OUTDIR, scenario + "_current.csv")
        sizes.append((os.path.basename(rp), write_csv(rp, header, types, ref)))
        if empty_current:
            cur = [[] for _ in header]
        sizes.append((os.path.basename(cp), write_csv(cp, header, types, cur)))
        rows, summary, read_types = drift_report(rp, cp, options)
        assert read_types == types, (scenario, read_types, types)
        write_expected(scenario, options, rows, summary)
        print_table(scenario, options, rows, summary)
    print()
    for name, size in sizes:
        print("%-32s %8d bytes" % (name, size))
    print("versions: numpy %s, scipy %s, python %s" % (
        np.__version__, scipy.__version__, sys.version.split()[0]))


if __name__ == "__main__":
    sys.exit(main())
