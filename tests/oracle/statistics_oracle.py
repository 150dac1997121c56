#!/usr/bin/env python3
"""Golden-file oracle for the drift / evaluation / A/B aggregate functions of
quiver-udfs.

Every expected value is computed with numpy, scipy or scikit-learn (see
README.md in this directory for the exact definition of each function).

    python3 tests/oracle/statistics_oracle.py

writes tests/oracle/golden/<function>.json (one file per SQL function) plus
tests/oracle/golden/psi_hand.json.  The output is deterministic: all random
data comes from fixed seeds, keys are sorted and floats are written with
repr() so that they round-trip exactly.

File layout:
    {"cases": [ {"args": {...}, "expected": ..., "name": "...",
                 "x": [...], "y": [...]}, ... ],
     "function": "psi", "oracle": "...", "versions": {...}}

Each case is a list of rows (x[i], y[i]).  A row with a null in x or y is
ignored by every function; the expected values are computed after dropping
such rows (the script derives every expected value from the emitted x / y
lists, never from the generator's intermediate arrays).
"""

import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
import sklearn
from scipy import stats
from scipy.spatial.distance import jensenshannon
from sklearn import metrics

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")

VERSIONS = {
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "sklearn": sklearn.__version__,
}

SMOOTH = 1e-4  # replacement for zero proportions in psi / kl_divergence

# Library warnings (constant input, precision loss, ...) are expected for
# some edge cases; they do not change the values we record.
warnings.filterwarnings("ignore")


# --------------------------------------------------------------------------
# generic helpers
# --------------------------------------------------------------------------

def py(v):
    """numpy scalar / python value -> plain JSON-able python value."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            raise ValueError("non-finite value %r" % (v,))
        return f
    if isinstance(v, (str, np.str_)):
        return str(v)
    raise TypeError("unsupported value %r (%s)" % (v, type(v)))


def fnum(v):
    """expected float (finite) or None."""
    if v is None:
        return None
    f = float(v)
    if not math.isfinite(f):
        raise ValueError("non-finite expected value %r" % (v,))
    return f


def r6(a):
    """Round generated floats to 6 decimals: keeps the files small; the
    rounded doubles are the data (ties become a bit more frequent)."""
    return [float(v) for v in np.round(np.asarray(a, dtype=float), 6)]


def rows_without_nulls(x, y):
    return [(a, b) for a, b in zip(x, y) if a is not None and b is not None]


def split_bool(x, y):
    """(values where y is true, values where y is false), null rows dropped."""
    t, f = [], []
    for a, b in rows_without_nulls(x, y):
        if not isinstance(b, bool):
            raise TypeError("y must be boolean here, got %r" % (b,))
        (t if b else f).append(a)
    return t, f


def interleave(pairs, rng):
    """Shuffle rows deterministically so sides are not contiguous."""
    perm = rng.permutation(len(pairs))
    return [pairs[i] for i in perm]


def add_nulls(pairs, rng, null_rows):
    """Insert rows containing nulls at deterministic random positions.
    null_rows: list of (x, y) pairs with at least one None."""
    out = list(pairs)
    for row in null_rows:
        assert row[0] is None or row[1] is None
        pos = int(rng.integers(0, len(out) + 1))
        out.insert(pos, row)
    return out


def two_sample(ref, cur, rng, null_rows=()):
    """Rows for a two-sample case: y = True for reference, False for current."""
    pairs = [(v, True) for v in ref] + [(v, False) for v in cur]
    pairs = interleave(pairs, rng)
    pairs = add_nulls(pairs, rng, list(null_rows))
    return [p[0] for p in pairs], [p[1] for p in pairs]


def paired(xs, ys, null_rows=(), rng=None):
    pairs = list(zip(xs, ys))
    if null_rows:
        pairs = add_nulls(pairs, rng, list(null_rows))
    return [p[0] for p in pairs], [p[1] for p in pairs]


def make_case(name, x, y, expected, args=None):
    assert len(x) == len(y), name
    return {
        "name": name,
        "args": dict(args or {}),
        "x": [py(v) for v in x],
        "y": [py(v) for v in y],
        "expected": expected,
    }


def write_golden(function, oracle, cases, filename=None):
    names = [c["name"] for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError("%s: duplicate case names %s" % (function, sorted(dup)))
    os.makedirs(GOLDEN, exist_ok=True)
    path = os.path.join(GOLDEN, (filename or function) + ".json")
    dumps = lambda o: json.dumps(o, sort_keys=True, allow_nan=False,
                                 ensure_ascii=True)
    lines = ["{", '"cases": [']
    for i, c in enumerate(cases):
        lines.append(dumps(c) + ("," if i + 1 < len(cases) else ""))
    lines.append("],")
    lines.append('"function": %s,' % dumps(function))
    lines.append('"oracle": %s,' % dumps(oracle))
    lines.append('"versions": %s' % dumps(VERSIONS))
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # self-check
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        fh.write(text)
    SUMMARY.append((os.path.basename(path), function, len(cases),
                    sum(1 for c in cases if c["expected"] is None),
                    len(text)))
    return path


SUMMARY = []


# --------------------------------------------------------------------------
# two-sample data sets (y = is_reference)
# --------------------------------------------------------------------------

def numeric_two_sample_datasets(seed):
    """List of (name, x, y) numeric two-sample cases shared by ks_2samp,
    wasserstein and the binned divergences."""
    rng = np.random.default_rng(seed)
    out = []

    def add(name, ref, cur, null_rows=()):
        x, y = two_sample(ref, cur, rng, null_rows)
        out.append((name, x, y))

    add("normal_same_dist", r6(rng.normal(0, 1, 200)), r6(rng.normal(0, 1, 150)))
    add("normal_shift", r6(rng.normal(0, 1, 300)), r6(rng.normal(0.5, 1, 300)))
    add("normal_scale_change", r6(rng.normal(0, 1, 250)), r6(rng.normal(0, 2, 180)))
    add("ties_small_ints",
        [float(v) for v in rng.integers(0, 5, 30)],
        [float(v) for v in rng.integers(0, 6, 25)])
    add("ties_half_steps",
        [float(v) / 2 for v in rng.integers(-4, 5, 80)],
        [float(v) / 2 for v in rng.integers(-3, 7, 60)])
    add("duplicates_blocks",
        [1.0] * 7 + [2.0] * 5 + [3.0] * 3 + [10.0] * 5,
        [1.0] * 2 + [2.0] * 9 + [3.0] * 6 + [7.5] * 3)
    add("tiny_1_vs_1", [0.5], [1.5])
    add("tiny_1_vs_1_equal", [2.0], [2.0])
    add("tiny_1_vs_3", [0.0], [-1.0, 0.0, 2.5])
    add("tiny_2_vs_2", [1.0, 3.0], [2.0, 4.0])
    add("tiny_3_vs_5", [0.1, 0.7, 0.4], [0.2, 0.9, 1.3, 0.4, 0.05])
    add("tiny_5_vs_4", [5.0, 1.0, 4.0, 2.0, 3.0], [2.5, 3.5, 10.0, -1.0])
    add("unequal_sizes_1000_vs_37",
        r6(rng.normal(0, 1, 1000)), r6(rng.normal(0.3, 1.2, 37)))
    add("unequal_sizes_12_vs_800",
        r6(rng.exponential(1.0, 12)), r6(rng.exponential(1.3, 800)))
    add("cauchy_heavy_tails",
        r6(rng.standard_cauchy(400)), r6(rng.standard_cauchy(300) + 0.5))
    add("lognormal_heavy_tails",
        r6(rng.lognormal(0, 1.5, 500)), r6(rng.lognormal(0.2, 1.0, 400)))
    add("all_equal_both", [3.0] * 50, [3.0] * 40)
    add("all_equal_ref_only", [3.0] * 30, r6(rng.normal(3, 1, 40)))
    add("all_equal_different_constants", [1.0] * 10, [2.0] * 12)
    add("negative_values",
        r6(-np.abs(rng.normal(5, 2, 120)) - 1), r6(-np.abs(rng.normal(6, 2, 90)) - 1))
    add("mixed_sign_with_zeros",
        [0.0] * 10 + r6(rng.normal(0, 3, 60)), [0.0] * 25 + r6(rng.normal(1, 3, 50)))
    shared = r6(rng.normal(0, 1, 100))
    add("identical_samples", shared, list(shared))
    add("disjoint_supports", r6(rng.uniform(0, 1, 40)), r6(rng.uniform(10, 11, 35)))
    add("integer_valued_json_ints",
        [int(v) for v in rng.integers(-3, 20, 70)],
        [int(v) for v in rng.integers(0, 25, 65)])
    add("with_nulls",
        r6(rng.normal(0, 1, 60)), r6(rng.normal(0.4, 1, 50)),
        null_rows=[(None, True), (None, False), (1.25, None), (None, None),
                   (-7.0, None), (None, True)])
    add("large_3000_vs_3000",
        r6(rng.normal(0, 1, 3000)), r6(rng.normal(0.05, 1.05, 3000)))
    add("large_5000_vs_2000_lognormal",
        r6(rng.lognormal(0, 1, 5000)), r6(rng.lognormal(0.1, 1, 2000)))
    # NULL results
    add("empty_reference", [], [1.0, 2.0, 3.0])
    add("empty_current", [1.0, 2.0, 3.0], [])
    add("no_rows", [], [])
    add("only_null_rows", [], [],
        null_rows=[(None, True), (None, False), (4.0, None)])
    add("reference_only_nulls", [], [0.5, 1.5],
        null_rows=[(None, True), (None, True)])
    return out


def categorical_two_sample_datasets(seed):
    rng = np.random.default_rng(seed)
    out = []

    def add(name, ref, cur, null_rows=()):
        x, y = two_sample(ref, cur, rng, null_rows)
        out.append((name, x, y))

    def draw(cats, probs, n):
        return [cats[i] for i in rng.choice(len(cats), size=n, p=probs)]

    abcd = ["a", "b", "c", "d"]
    add("cat_same_dist", draw(abcd, [.4, .3, .2, .1], 200), draw(abcd, [.4, .3, .2, .1], 180))
    add("cat_shifted", draw(abcd, [.4, .3, .2, .1], 300), draw(abcd, [.1, .2, .3, .4], 250))
    add("cat_only_in_current",
        draw(abcd[:3], [.5, .3, .2], 100), draw(abcd + ["e"], [.3, .3, .2, .1, .1], 90))
    add("cat_only_in_reference",
        draw(abcd + ["z"], [.3, .3, .2, .1, .1], 120), draw(abcd, [.25, .25, .25, .25], 80))
    add("cat_disjoint", ["a", "a", "b"], ["c", "d", "d", "d"])
    add("cat_single_category", ["x"] * 20, ["x"] * 15)
    add("cat_two_categories", draw(["no", "yes"], [.7, .3], 150), draw(["no", "yes"], [.6, .4], 140))
    add("cat_tiny_1_vs_1", ["a"], ["b"])
    add("cat_tiny_1_vs_1_same", ["a"], ["a"])
    add("cat_tiny_2_vs_3", ["a", "b"], ["b", "b", "a"])
    add("cat_case_sensitive", ["A", "a", "a", "B", "b"], ["a", "A", "A", "A", "b", "B"])
    add("cat_with_spaces_and_digits",
        draw(["new york", "los angeles", "42", "x-1"], [.4, .3, .2, .1], 60),
        draw(["new york", "los angeles", "42", "x-1"], [.2, .2, .3, .3], 70))
    many = ["c%02d" % i for i in range(40)]
    p = rng.dirichlet(np.ones(40) * 0.5)
    q = rng.dirichlet(np.ones(40) * 0.5)
    add("cat_many_rare_categories", draw(many, p, 300), draw(many, q, 200))
    add("cat_unequal_sizes", draw(abcd, [.4, .3, .2, .1], 1000), draw(abcd, [.3, .3, .3, .1], 25))
    twelve = ["k%d" % i for i in range(12)]
    add("cat_large_4000_vs_3000",
        draw(twelve, rng.dirichlet(np.ones(12) * 2), 4000),
        draw(twelve, rng.dirichlet(np.ones(12) * 2), 3000))
    add("cat_with_nulls", draw(abcd, [.25, .25, .25, .25], 50), draw(abcd, [.1, .2, .3, .4], 40),
        null_rows=[(None, True), ("a", None), (None, False), (None, None), ("zz", None)])
    add("cat_empty_reference", [], ["a", "b"])
    add("cat_empty_current", ["a", "b"], [])
    return out


def int_category_datasets(seed):
    rng = np.random.default_rng(seed)
    out = []

    def add(name, ref, cur, null_rows=()):
        x, y = two_sample(ref, cur, rng, null_rows)
        out.append((name, x, y))

    add("intcat_small", [int(v) for v in rng.integers(0, 4, 60)],
        [int(v) for v in rng.integers(0, 4, 50)])
    add("intcat_negative_and_only_current",
        [int(v) for v in rng.choice([-2, -1, 0, 1], 80)],
        [int(v) for v in rng.choice([-1, 0, 1, 5], 70)])
    add("intcat_binary_yates", [int(v) for v in rng.binomial(1, 0.3, 100)],
        [int(v) for v in rng.binomial(1, 0.45, 90)])
    add("intcat_with_nulls", [int(v) for v in rng.integers(1, 6, 40)],
        [int(v) for v in rng.integers(2, 7, 45)],
        null_rows=[(None, True), (3, None), (None, False)])
    return out


# --------------------------------------------------------------------------
# binning shared by psi / psi_pvalue / js_divergence / kl_divergence
# --------------------------------------------------------------------------

def is_categorical(values):
    return any(isinstance(v, str) for v in values)


def binned_proportions(ref, cur, bins=10, binning="quantile"):
    """Return (e, a) proportions over the bins, or None if a side is empty."""
    if len(ref) == 0 or len(cur) == 0:
        return None
    if is_categorical(ref) or is_categorical(cur):
        cats = sorted(set(ref) | set(cur))
        index = {c: i for i, c in enumerate(cats)}
        rc = np.bincount([index[v] for v in ref], minlength=len(cats))
        cc = np.bincount([index[v] for v in cur], minlength=len(cats))
    else:
        r = np.asarray(ref, dtype=float)
        c = np.asarray(cur, dtype=float)
        if binning == "quantile":
            qs = [k / bins for k in range(1, bins)]
            edges = np.unique(np.quantile(r, qs))
        elif binning == "equal_width":
            lo, hi = r.min(), r.max()
            edges = np.unique(lo + np.arange(1, bins) * ((hi - lo) / bins))
        else:
            raise ValueError(binning)
        nb = len(edges) + 1
        rc = np.bincount(np.searchsorted(edges, r, side="right"), minlength=nb)
        cc = np.bincount(np.searchsorted(edges, c, side="right"), minlength=nb)
    e = rc / len(ref)
    a = cc / len(cur)
    return e, a


def smooth(p):
    p = np.array(p, dtype=float)
    p[p == 0] = SMOOTH
    return p


def psi_value(e, a):
    es, as_ = smooth(e), smooth(a)
    return float(np.sum((as_ - es) * np.log(as_ / es)))


def kl_direct(p, q):
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


# --------------------------------------------------------------------------
# two-sample functions
# --------------------------------------------------------------------------

def gen_ks_2samp():
    cases = []
    for name, x, y in numeric_two_sample_datasets(1001):
        ref, cur = split_bool(x, y)
        if not ref or not cur:
            exp = None
        else:
            r = stats.ks_2samp(ref, cur)
            exp = {"statistic": fnum(r.statistic), "pvalue": fnum(r.pvalue)}
        cases.append(make_case(name, x, y, exp))
    # asymptotic p-values (max(n1, n2) > 10000)
    rng = np.random.default_rng(1002)
    for name, ref, cur in [
        ("asymp_12000_vs_50", r6(rng.normal(0, 1, 12000)), r6(rng.normal(0.3, 1, 50))),
        ("asymp_10001_vs_200_same", r6(rng.normal(0, 1, 10001)), r6(rng.normal(0, 1, 200))),
        ("asymp_40_vs_10500_ties", [float(v) for v in rng.integers(0, 20, 40)],
         [float(v) for v in rng.integers(0, 22, 10500)]),
    ]:
        x, y = two_sample(ref, cur, rng)
        ref2, cur2 = split_bool(x, y)
        assert max(len(ref2), len(cur2)) > 10000
        r = stats.ks_2samp(ref2, cur2)
        cases.append(make_case(name, x, y,
                               {"statistic": fnum(r.statistic), "pvalue": fnum(r.pvalue)}))
    write_golden("ks_2samp", "scipy.stats.ks_2samp(ref, cur) (defaults: "
                 "alternative='two-sided', method='auto': exact when max(n1,n2) <= 10000, "
                 "else asymptotic)", cases)


def gen_wasserstein():
    cases = []
    for name, x, y in numeric_two_sample_datasets(2001):
        ref, cur = split_bool(x, y)
        exp = None if (not ref or not cur) else fnum(stats.wasserstein_distance(ref, cur))
        cases.append(make_case(name, x, y, exp))
    write_golden("wasserstein", "scipy.stats.wasserstein_distance(ref, cur)", cases)


def binned_cases(seed, arg_variants, include_categorical=True):
    """Yield (name, x, y, args) for the binned divergences."""
    out = []
    for name, x, y in numeric_two_sample_datasets(seed):
        out.append((name, x, y, {}))
    # argument variants on a few data sets
    rng = np.random.default_rng(seed + 7)
    variant_data = [
        ("normal_shift", r6(rng.normal(0, 1, 400)), r6(rng.normal(0.4, 1.1, 350))),
        ("lognormal", r6(rng.lognormal(0, 1.2, 300)), r6(rng.lognormal(0.3, 1.0, 320))),
        ("ties_ints", [float(v) for v in rng.integers(0, 8, 100)],
         [float(v) for v in rng.integers(0, 10, 90)]),
        ("tiny_3_vs_4", [1.0, 2.0, 3.0], [0.5, 2.0, 2.5, 9.0]),
        ("cur_outside_ref_range", r6(rng.uniform(0, 1, 50)), r6(rng.uniform(-0.5, 1.5, 60))),
        ("all_equal_ref", [5.0] * 20, [4.0, 5.0, 5.0, 6.0, 7.0]),
    ]
    for dname, ref, cur in variant_data:
        x, y = two_sample(ref, cur, rng)
        for args in arg_variants:
            suffix = "_".join("%s_%s" % (k, args[k]) for k in sorted(args))
            out.append(("%s__%s" % (dname, suffix), x, y, dict(args)))
    if include_categorical:
        for name, x, y in categorical_two_sample_datasets(seed + 1):
            out.append((name, x, y, {}))
    return out


PSI_ARG_VARIANTS = [
    {"bins": 5},
    {"bins": 20},
    {"bins": 2},
    {"binning": "equal_width"},
    {"bins": 4, "binning": "equal_width"},
]
DIV_ARG_VARIANTS = [{"bins": 5}, {"bins": 20}, {"bins": 2}]


def props_for(x, y, args):
    ref, cur = split_bool(x, y)
    return binned_proportions(ref, cur, args.get("bins", 10),
                              args.get("binning", "quantile")), ref, cur


def gen_psi():
    cases = []
    for name, x, y, args in binned_cases(3001, PSI_ARG_VARIANTS):
        ea, _, _ = props_for(x, y, args)
        exp = None if ea is None else fnum(psi_value(*ea))
        cases.append(make_case(name, x, y, exp, args))
    write_golden("psi", "numpy: sum((a-e)*ln(a/e)) over bins, zero proportions -> 1e-4 "
                 "(no renormalisation); quantile edges = np.unique(np.quantile(ref, k/bins)), "
                 "equal_width edges = np.unique(min + arange(1,bins)*(max-min)/bins), "
                 "bin = np.searchsorted(edges, v, side='right')", cases)


def gen_psi_pvalue():
    cases = []
    for name, x, y, args in binned_cases(4001, PSI_ARG_VARIANTS):
        ea, ref, cur = props_for(x, y, args)
        if ea is None:
            exp = None
        else:
            e, a = ea
            nb = len(e)
            if nb == 1:
                exp = 1.0
            else:
                stat = psi_value(e, a) / (1.0 / len(ref) + 1.0 / len(cur))
                exp = fnum(stats.chi2.sf(stat, nb - 1))
        cases.append(make_case(name, x, y, exp, args))
    write_golden("psi_pvalue", "scipy.stats.chi2.sf(psi / (1/n_ref + 1/n_cur), df=nbins-1); "
                 "1.0 when nbins == 1; psi and binning as in psi.json", cases)


def gen_js_divergence():
    cases = []
    for name, x, y, args in binned_cases(5001, DIV_ARG_VARIANTS):
        ea, _, _ = props_for(x, y, args)
        if ea is None:
            exp = None
        else:
            e, a = ea
            js_scipy = float(jensenshannon(e, a)) ** 2
            m = (e + a) / 2
            js_direct = 0.5 * kl_direct(e, m) + 0.5 * kl_direct(a, m)
            assert abs(js_scipy - js_direct) <= 1e-12, (name, js_scipy, js_direct)
            exp = fnum(js_scipy)
        cases.append(make_case(name, x, y, exp, args))
    write_golden("js_divergence", "scipy.spatial.distance.jensenshannon(e, a) ** 2 (natural log, "
                 "no smoothing), checked against 0.5*KL(e||m)+0.5*KL(a||m) to 1e-12; "
                 "quantile binning as in psi.json", cases)


def gen_kl_divergence():
    cases = []
    for name, x, y, args in binned_cases(6001, DIV_ARG_VARIANTS):
        ea, _, _ = props_for(x, y, args)
        if ea is None:
            exp = None
        else:
            e, a = ea
            exp = fnum(stats.entropy(smooth(e), smooth(a)))
        cases.append(make_case(name, x, y, exp, args))
    write_golden("kl_divergence", "scipy.stats.entropy(e_s, a_s) = KL(reference || current), "
                 "zero proportions -> 1e-4 then renormalised by scipy; quantile binning as in "
                 "psi.json", cases)


def gen_chi2_2samp():
    cases = []
    datasets = categorical_two_sample_datasets(7001) + int_category_datasets(7002)
    rng = np.random.default_rng(7003)
    # Yates correction with |O - E| < 0.5 in every cell (correction clipped)
    x, y = two_sample(["a"] * 10 + ["b"] * 10, ["a"] * 10 + ["b"] * 11, rng)
    datasets.append(("cat_yates_small_difference", x, y))
    x, y = two_sample(["a"] * 3 + ["b"], ["a"] + ["b"] * 4, rng)
    datasets.append(("cat_yates_tiny_counts", x, y))
    for name, x, y in datasets:
        ref, cur = split_bool(x, y)
        if not ref or not cur:
            exp = None
        else:
            cats = sorted(set(ref) | set(cur))
            table = np.array([[ref.count(c) for c in cats], [cur.count(c) for c in cats]])
            if len(cats) == 1:
                exp = {"statistic": 0.0, "pvalue": 1.0, "dof": 0}
            else:
                r = stats.chi2_contingency(table)
                exp = {"statistic": fnum(r.statistic), "pvalue": fnum(r.pvalue),
                       "dof": int(r.dof)}
        cases.append(make_case(name, x, y, exp))
    write_golden("chi2_2samp", "scipy.stats.chi2_contingency([[ref counts], [cur counts]]) "
                 "with defaults (Yates correction when dof == 1); categories = sorted(ref | cur); "
                 "k == 1 -> statistic 0, pvalue 1, dof 0", cases)


# --------------------------------------------------------------------------
# evaluation functions (x = score / prediction, y = true label)
# --------------------------------------------------------------------------

def binary_score_datasets(seed):
    rng = np.random.default_rng(seed)
    out = []

    def add(name, scores, labels, null_rows=()):
        x, y = paired(list(scores), [int(v) for v in labels], null_rows, rng)
        out.append((name, x, y))

    lab = rng.binomial(1, 0.4, 200)
    add("basic_noisy", np.round(lab * 0.8 + rng.normal(0, 1, 200), 3), lab)
    lab = rng.binomial(1, 0.5, 150)
    add("ties_int_scores", [float(v) for v in np.clip(lab * 1 + rng.integers(0, 4, 150), 0, 4)], lab)
    add("all_equal_scores", [0.5] * 20, [0, 1] * 10)
    add("perfect_separation", [0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [0, 0, 0, 1, 1, 1])
    add("perfectly_reversed", [0.9, 0.8, 0.7, 0.3, 0.2, 0.1], [0, 0, 0, 1, 1, 1])
    add("tiny_2", [0.1, 0.9], [0, 1])
    add("tiny_2_tied", [0.4, 0.4], [1, 0])
    add("tiny_3", [0.3, 0.6, 0.2], [1, 0, 0])
    add("tiny_5", [0.35, 0.8, 0.1, 0.8, 0.5], [1, 1, 0, 0, 0])
    lab = rng.binomial(1, 0.3, 300)
    add("negative_scores", np.round(-5 + lab * 1.5 + rng.normal(0, 2, 300), 4), lab)
    lab = rng.binomial(1, 0.5, 400)
    add("cauchy_scores", r6(lab * 1.0 + rng.standard_cauchy(400)), lab)
    lab = rng.binomial(1, 0.35, 350)
    add("lognormal_scores", r6(rng.lognormal(lab * 0.7, 1.0, 350)), lab)
    lab = (rng.uniform(size=1000) < 0.02).astype(int)
    add("imbalanced_2pct_positive", np.round(lab * 1.2 + rng.normal(0, 1, 1000), 4), lab)
    lab = (rng.uniform(size=500) < 0.95).astype(int)
    add("imbalanced_95pct_positive", np.round(lab * 0.5 + rng.normal(0, 1, 500), 4), lab)
    lab = rng.binomial(1, 0.45, 5000)
    add("large_5000", np.round(1 / (1 + np.exp(-(lab * 1.1 + rng.normal(0, 1.3, 5000) - 0.5))), 5), lab)
    lab = rng.binomial(1, 0.5, 80)
    add("with_nulls", np.round(lab * 0.6 + rng.normal(0, 1, 80), 3), lab,
        null_rows=[(None, 1), (None, 0), (0.7, None), (None, None), (-3.0, None)])
    add("duplicated_rows", [0.2, 0.2, 0.2, 0.6, 0.6, 0.9, 0.9, 0.9],
        [0, 0, 1, 0, 1, 1, 1, 1])
    add("one_class_all_negative", [0.1, 0.4, 0.35, 0.8], [0, 0, 0, 0])
    add("one_class_all_positive", [0.1, 0.4, 0.35, 0.8], [1, 1, 1, 1])
    add("single_row_positive", [0.3], [1])
    add("empty", [], [])
    add("only_null_rows", [], [], null_rows=[(None, 1), (0.5, None)])
    return out


def gen_ranking_metrics():
    datasets = binary_score_datasets(8001)
    auc_cases, pr_cases, ks_cases, gini_cases = [], [], [], []
    for name, x, y in datasets:
        rows = rows_without_nulls(x, y)
        s = np.array([r[0] for r in rows], dtype=float)
        t = np.array([r[1] for r in rows], dtype=int)
        two_classes = len(set(t.tolist())) == 2
        if two_classes:
            auc = metrics.roc_auc_score(t, s)
            fpr, tpr, _ = metrics.roc_curve(t, s, drop_intermediate=False)
            ks = float(np.max(tpr - fpr))
            auc_e, ks_e, gini_e = fnum(auc), fnum(ks), fnum(2 * auc - 1)
        else:
            auc_e = ks_e = gini_e = None
        pr_e = fnum(metrics.average_precision_score(t, s)) if (t == 1).any() else None
        auc_cases.append(make_case(name, x, y, auc_e))
        pr_cases.append(make_case(name, x, y, pr_e))
        ks_cases.append(make_case(name, x, y, ks_e))
        gini_cases.append(make_case(name, x, y, gini_e))
    write_golden("roc_auc", "sklearn.metrics.roc_auc_score(y, x); NULL if y has one class", auc_cases)
    write_golden("pr_auc", "sklearn.metrics.average_precision_score(y, x); NULL if no positive",
                 pr_cases)
    write_golden("ks_score", "max(tpr - fpr) from sklearn.metrics.roc_curve(y, x, "
                 "drop_intermediate=False); NULL if y has one class", ks_cases)
    write_golden("gini", "2 * sklearn.metrics.roc_auc_score(y, x) - 1; NULL if y has one class",
                 gini_cases)


def gen_log_loss():
    rng = np.random.default_rng(9001)
    cases = []

    def add(name, probs, labels, null_rows=()):
        x, y = paired([float(v) for v in probs], [int(v) for v in labels], null_rows, rng)
        rows = rows_without_nulls(x, y)
        if not rows:
            exp = None
        else:
            p = np.array([r[0] for r in rows], dtype=float)
            t = np.array([r[1] for r in rows], dtype=int)
            exp = fnum(metrics.log_loss(t, y_proba=p, labels=[0, 1]))
        cases.append(make_case(name, x, y, exp))

    def sig(z):
        return 1 / (1 + np.exp(-z))

    lab = rng.binomial(1, 0.4, 200)
    add("basic", np.round(sig(lab * 1.5 - 0.7 + rng.normal(0, 1, 200)), 6), lab)
    add("exact_zero_and_one_correct", [0.0, 1.0, 0.0, 1.0, 0.25], [0, 1, 0, 1, 0])
    add("exact_one_wrong", [1.0, 0.3], [0, 1])
    add("exact_zero_wrong", [0.0, 0.8, 0.6], [1, 1, 0])
    add("all_extremes_wrong", [0.0, 1.0], [1, 0])
    add("near_extremes", [1e-20, 1 - 1e-17, 1e-300, 0.9999999999999999], [0, 1, 1, 0])
    add("half_everywhere", [0.5] * 7, [0, 1, 1, 0, 1, 0, 0])
    add("tiny_1_positive", [0.9], [1])
    add("tiny_1_negative", [0.9], [0])
    add("tiny_3", [0.2, 0.7, 0.55], [0, 1, 0])
    add("one_class_all_negative", [0.1, 0.2, 0.05, 0.4], [0, 0, 0, 0])
    add("one_class_all_positive", [0.9, 0.6, 0.99, 0.51], [1, 1, 1, 1])
    lab = rng.binomial(1, 0.5, 300)
    add("ties_rounded_probs", np.round(sig(lab * 1.0 + rng.normal(0, 1, 300)), 1), lab)
    lab = (rng.uniform(size=800) < 0.03).astype(int)
    add("imbalanced", np.round(sig(lab * 2.0 - 3.0 + rng.normal(0, 1, 800)), 6), lab)
    lab = rng.binomial(1, 0.5, 300)
    add("heavy_tailed_logits", np.round(sig(lab * 1.0 + rng.standard_cauchy(300)), 8), lab)
    lab = rng.binomial(1, 0.5, 400)
    add("badly_calibrated", np.round(sig(-(lab * 1.0) + rng.normal(0, 2, 400)), 6), lab)
    lab = rng.binomial(1, 0.45, 5000)
    add("large_5000", np.round(sig(lab * 1.1 - 0.5 + rng.normal(0, 1.3, 5000)), 6), lab)
    lab = rng.binomial(1, 0.5, 60)
    add("with_nulls", np.round(sig(lab * 1.0 + rng.normal(0, 1, 60)), 4), lab,
        null_rows=[(None, 1), (None, 0), (0.3, None), (None, None)])
    add("duplicates", [0.3, 0.3, 0.3, 0.8, 0.8], [0, 1, 0, 1, 1])
    add("empty", [], [])
    add("only_null_rows", [], [], null_rows=[(None, 0), (0.2, None)])
    write_golden("log_loss", "sklearn.metrics.log_loss(y, y_proba=x, labels=[0, 1]); "
                 "probabilities clipped to [eps, 1-eps] with eps = np.finfo(float64).eps "
                 "(2**-52): per row -ln(clip(p)) if y == 1 else -ln(clip(1-p)); NULL for no rows",
                 cases)


def label_datasets(seed):
    """(name, x=predicted, y=actual) label cases; all have at least one row
    except the explicit empty ones."""
    rng = np.random.default_rng(seed)
    out = []

    def add(name, pred, actual, null_rows=()):
        x, y = paired(list(pred), list(actual), null_rows, rng)
        out.append((name, x, y))

    def noisy(actual, labels, err):
        pred = []
        for a in actual:
            if rng.uniform() < err:
                pred.append(labels[int(rng.integers(0, len(labels)))])
            else:
                pred.append(a)
        return pred

    act = [int(v) for v in rng.binomial(1, 0.4, 200)]
    add("binary_ints", noisy(act, [0, 1], 0.3), act)
    act = [int(v) for v in rng.integers(0, 5, 300)]
    add("multiclass_ints", noisy(act, [0, 1, 2, 3, 4], 0.4), act)
    sl = ["cat", "dog", "fish"]
    act = [sl[i] for i in rng.integers(0, 3, 150)]
    add("multiclass_strings", noisy(act, sl, 0.35), act)
    act = [["no", "yes"][i] for i in rng.binomial(1, 0.3, 120)]
    add("binary_strings_yes_no", noisy(act, ["no", "yes"], 0.3), act)
    add("all_correct", [0, 1, 1, 0, 1], [0, 1, 1, 0, 1])
    add("all_wrong", [1, 0, 0, 1], [0, 1, 1, 0])
    add("tiny_1", [1], [1])
    add("tiny_2_wrong", [0, 0], [1, 0])
    add("label_only_in_predictions", [0, 1, 2, 2, 1], [0, 1, 1, 0, 1])
    add("label_only_in_actual", ["a", "b", "b", "a"], ["a", "c", "b", "c"])
    add("all_same_label", [3, 3, 3], [3, 3, 3])
    act = [int(v) for v in rng.integers(0, 3, 60)]
    add("with_nulls", noisy(act, [0, 1, 2], 0.3), act,
        null_rows=[(None, 1), (2, None), (None, None), (None, 0)])
    act = [int(v) for v in rng.integers(0, 4, 5000)]
    add("large_5000", noisy(act, [0, 1, 2, 3], 0.25), act)
    add("tiny_3_multiclass", [2, 0, 1], [0, 1, 2])
    add("tiny_5_strings", ["b", "a", "c", "a", "b"], ["b", "a", "a", "c", "c"])
    act = [int(v) for v in rng.choice([-1, 0, 1], 90)]
    add("negative_int_labels", noisy(act, [-1, 0, 1], 0.3), act)
    add("duplicated_rows", [1, 1, 1, 0, 0, 2, 2, 2], [1, 1, 0, 0, 0, 2, 2, 1])
    act = [int(v) for v in (rng.uniform(size=1000) < 0.02)]
    add("imbalanced_binary", noisy(act, [0, 1], 0.05), act)
    act = [["A", "a", "B"][i] for i in rng.integers(0, 3, 50)]
    add("strings_case_sensitive", noisy(act, ["A", "a", "B"], 0.3), act)
    act = [sl[i] for i in rng.integers(0, 3, 40)]
    add("strings_with_nulls", noisy(act, sl, 0.3), act,
        null_rows=[(None, "cat"), ("dog", None), (None, None)])
    act = [int(v) for v in rng.integers(0, 10, 500)]
    add("ten_classes_digits", noisy(act, list(range(10)), 0.5), act)
    act = [int(v) for v in rng.integers(0, 3, 100)]
    add("constant_prediction", [0] * 100, act)
    add("empty", [], [])
    add("only_null_rows", [], [], null_rows=[(None, 1), (1, None)])
    return out


def gen_accuracy():
    cases = []
    for name, x, y in label_datasets(10001):
        rows = rows_without_nulls(x, y)
        if not rows:
            exp = None
        else:
            exp = fnum(metrics.accuracy_score([r[1] for r in rows], [r[0] for r in rows]))
        cases.append(make_case(name, x, y, exp))
    write_golden("accuracy", "sklearn.metrics.accuracy_score(y, x); NULL for no rows", cases)


def binary_label_datasets(seed):
    """(name, x=pred, y=actual, args) binary cases for precision/recall/f1."""
    rng = np.random.default_rng(seed)
    out = []

    def add(name, pred, actual, args=None, null_rows=()):
        x, y = paired(list(pred), list(actual), null_rows, rng)
        out.append((name, x, y, dict(args or {})))

    def flip(actual, labels, err):
        return [labels[1 - labels.index(a)] if rng.uniform() < err else a for a in actual]

    act = [int(v) for v in rng.binomial(1, 0.4, 200)]
    add("binary_ints", flip(act, [0, 1], 0.25), act)
    act = [int(v) for v in rng.binomial(1, 0.4, 200)]
    add("binary_ints_positive_0", flip(act, [0, 1], 0.25), act, {"positive_label": 0})
    act = [["no", "yes"][i] for i in rng.binomial(1, 0.35, 150)]
    add("strings_yes_no", flip(act, ["no", "yes"], 0.3), act, {"positive_label": "yes"})
    add("strings_tiny", ["yes", "no", "yes"], ["yes", "yes", "no"], {"positive_label": "yes"})
    add("strings_positive_never_occurs", ["no", "no", "no"], ["no", "no", "no"],
        {"positive_label": "yes"})
    add("no_predicted_positives", [0, 0, 0, 0, 0], [1, 0, 1, 0, 0])
    add("no_actual_positives", [1, 0, 1, 0], [0, 0, 0, 0])
    add("no_positives_at_all", [0, 0, 0], [0, 0, 0])
    add("all_predicted_positive", [1, 1, 1, 1, 1, 1], [1, 0, 1, 1, 0, 0])
    add("all_correct", [1, 0, 1, 1], [1, 0, 1, 1])
    add("all_wrong", [1, 0, 1, 0], [0, 1, 0, 1])
    add("tiny_1_tp", [1], [1])
    add("tiny_1_fp", [1], [0])
    add("tiny_1_fn", [0], [1])
    add("tiny_2", [1, 0], [1, 1])
    act = [int(v) for v in (rng.uniform(size=1000) < 0.03)]
    add("imbalanced", flip(act, [0, 1], 0.05), act)
    act = [int(v) for v in rng.binomial(1, 0.5, 60)]
    add("with_nulls", flip(act, [0, 1], 0.3), act,
        null_rows=[(None, 1), (1, None), (None, None), (None, 0), (0, None)])
    act = [int(v) for v in rng.binomial(1, 0.45, 5000)]
    add("large_5000", flip(act, [0, 1], 0.2), act)
    act = [["no", "yes"][i] for i in rng.binomial(1, 0.5, 40)]
    add("strings_with_nulls", flip(act, ["no", "yes"], 0.3), act, {"positive_label": "yes"},
        null_rows=[(None, "yes"), ("yes", None)])
    add("empty", [], [])
    add("only_null_rows", [], [], null_rows=[(None, 1), (1, None)])
    return out


def gen_prf():
    fns = [("precision_score", metrics.precision_score),
           ("recall_score", metrics.recall_score),
           ("f1_score", metrics.f1_score)]
    per = {n: [] for n, _ in fns}
    for name, x, y, args in binary_label_datasets(11001):
        rows = rows_without_nulls(x, y)
        pos = args.get("positive_label", 1)
        for fname, fn in fns:
            if not rows:
                exp = None
            else:
                exp = fnum(fn([r[1] for r in rows], [r[0] for r in rows], pos_label=pos,
                              average="binary", zero_division=0.0))
            per[fname].append(make_case(name, x, y, exp, args))
    for fname, fn in fns:
        write_golden(fname, "sklearn.metrics.%s(y, x, pos_label=positive_label (default 1), "
                     "average='binary', zero_division=0.0); NULL for no rows" % fname, per[fname])


def gen_confusion_matrix():
    cases = []
    for name, x, y in label_datasets(12001):
        rows = rows_without_nulls(x, y)
        if not rows:
            exp = None
        else:
            yt = [r[1] for r in rows]
            yp = [r[0] for r in rows]
            labels = sorted(set(yt) | set(yp))
            # numeric vs string sort must agree so that the order is unambiguous
            assert sorted(str(v) for v in labels) == [str(v) for v in labels], name
            cm = metrics.confusion_matrix(yt, yp, labels=labels)
            exp = {"labels": [str(v) for v in labels],
                   "matrix": [[int(v) for v in row] for row in cm]}
        cases.append(make_case(name, x, y, exp))
    write_golden("confusion_matrix", "sklearn.metrics.confusion_matrix(y, x, labels=sorted(set(y)|set(x))); "
                 "rows = actual, columns = predicted; labels reported as str(); NULL for no rows",
                 cases)


def regression_datasets(seed):
    rng = np.random.default_rng(seed)
    out = []

    def add(name, pred, actual, null_rows=()):
        x, y = paired([float(v) for v in pred], [float(v) for v in actual], null_rows, rng)
        out.append((name, x, y))

    act = rng.normal(10, 3, 200)
    add("basic", r6(act + rng.normal(0, 1, 200)), r6(act))
    add("perfect", [1.5, -2.0, 3.25, 0.0], [1.5, -2.0, 3.25, 0.0])
    add("constant_actual_perfect", [4.0, 4.0, 4.0], [4.0, 4.0, 4.0])
    add("constant_actual_imperfect", [4.0, 5.0, 3.5], [4.0, 4.0, 4.0])
    add("tiny_2", [1.0, 2.0], [1.5, 3.0])
    add("tiny_3", [0.0, 0.0, 0.0], [1.0, 2.0, 3.0])
    add("tiny_5", [2.5, 0.0, 2.1, 7.8, -1.0], [3.0, -0.5, 2.0, 7.0, 0.0])
    act = -np.abs(rng.normal(50, 20, 150))
    add("negative_values", r6(act * 1.1 + rng.normal(0, 5, 150)), r6(act))
    act = rng.standard_cauchy(300)
    add("cauchy_heavy_tails", r6(act + rng.standard_cauchy(300)), r6(act))
    act = rng.lognormal(0, 1.5, 300)
    add("lognormal_heavy_tails", r6(act * rng.lognormal(0, 0.3, 300)), r6(act))
    act = rng.integers(0, 5, 100).astype(float)
    add("ties_and_duplicates", [float(v) for v in np.clip(act + rng.integers(-1, 2, 100), 0, 4)],
        [float(v) for v in act])
    add("worse_than_mean", [3.0, 2.0, 1.0], [1.0, 2.0, 3.0])
    add("large_offsets", [1e6 + 1.0, 1e6 + 2.5, 1e6 - 3.0], [1e6, 1e6 + 2.0, 1e6 - 1.0])
    act = rng.normal(0, 1, 80)
    add("with_nulls", r6(act + rng.normal(0, 0.5, 80)), r6(act),
        null_rows=[(None, 1.0), (2.0, None), (None, None), (None, -4.0)])
    act = rng.normal(100, 15, 5000)
    add("large_5000", r6(act + rng.normal(0, 5, 5000)), r6(act))
    act = rng.normal(0, 10, 120)
    add("mixed_sign_zero_predictions", [0.0] * 120, r6(act))
    add("single_outlier", [1.0, 2.0, 3.0, 4.0, 1000.0], [1.1, 2.1, 2.9, 4.2, 5.0])
    add("duplicated_rows", [1.0, 1.0, 1.0, 2.0, 2.0, 2.0], [1.5, 1.5, 1.5, 1.0, 1.0, 3.0])
    add("single_row", [2.0], [3.5])
    add("single_row_perfect", [3.5], [3.5])
    add("empty", [], [])
    add("only_null_rows", [], [], null_rows=[(None, 1.0), (1.0, None)])
    return out


def gen_regression():
    rmse_c, mae_c, r2_c = [], [], []
    for name, x, y in regression_datasets(13001):
        rows = rows_without_nulls(x, y)
        if not rows:
            rmse_e = mae_e = r2_e = None
        else:
            yt = np.array([r[1] for r in rows])
            yp = np.array([r[0] for r in rows])
            rmse_e = fnum(math.sqrt(metrics.mean_squared_error(yt, yp)))
            mae_e = fnum(metrics.mean_absolute_error(yt, yp))
            r2 = metrics.r2_score(yt, yp)
            # sklearn returns NaN (UndefinedMetricWarning) for fewer than 2 rows
            r2_e = None if not math.isfinite(r2) else fnum(r2)
        rmse_c.append(make_case(name, x, y, rmse_e))
        mae_c.append(make_case(name, x, y, mae_e))
        r2_c.append(make_case(name, x, y, r2_e))
    write_golden("rmse", "sqrt(sklearn.metrics.mean_squared_error(y, x)); NULL for no rows", rmse_c)
    write_golden("mae", "sklearn.metrics.mean_absolute_error(y, x); NULL for no rows", mae_c)
    write_golden("r2_score", "sklearn.metrics.r2_score(y, x) (force_finite=True: constant y -> "
                 "1.0 if perfect else 0.0); NULL for no rows and for a single row "
                 "(sklearn returns NaN when n < 2)", r2_c)


# --------------------------------------------------------------------------
# A/B functions (y = is_treatment)
# --------------------------------------------------------------------------

def gen_welch_ttest():
    rng = np.random.default_rng(14001)
    cases = []

    def add(name, treat, ctrl, null_rows=()):
        x, y = two_sample(treat, ctrl, rng, null_rows)
        t, c = split_bool(x, y)
        if len(t) < 2 or len(c) < 2:
            exp = None
        else:
            r = stats.ttest_ind(t, c, equal_var=False)
            ci = r.confidence_interval(0.95)
            exp = {"statistic": fnum(r.statistic), "pvalue": fnum(r.pvalue),
                   "mean_diff": fnum(np.mean(t) - np.mean(c)),
                   "ci_low": fnum(ci.low), "ci_high": fnum(ci.high)}
        cases.append(make_case(name, x, y, exp))

    add("normal_no_effect", r6(rng.normal(10, 2, 200)), r6(rng.normal(10, 2, 210)))
    add("normal_effect", r6(rng.normal(10.5, 2, 300)), r6(rng.normal(10, 2, 300)))
    add("unequal_variances", r6(rng.normal(5, 5, 80)), r6(rng.normal(4, 1, 300)))
    add("unequal_sizes_15_vs_900", r6(rng.normal(1, 1, 15)), r6(rng.normal(0.8, 1.5, 900)))
    add("tiny_2_vs_2", [1.0, 2.0], [2.0, 4.0])
    add("tiny_2_vs_3", [0.5, 1.5], [1.0, 1.2, 0.9])
    add("tiny_5_vs_4", [3.0, 4.5, 2.0, 5.0, 4.0], [2.0, 2.5, 1.0, 3.5])
    add("ties_ints", [float(v) for v in rng.integers(0, 5, 60)],
        [float(v) for v in rng.integers(0, 4, 70)])
    add("duplicates", [1.0, 1.0, 1.0, 2.0, 2.0, 5.0], [1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0])
    add("lognormal_revenue", r6(rng.lognormal(3, 1.2, 400)), r6(rng.lognormal(2.9, 1.2, 380)))
    add("cauchy_heavy_tails", r6(rng.standard_cauchy(200) + 0.3), r6(rng.standard_cauchy(220)))
    add("negative_values", r6(rng.normal(-20, 4, 100)), r6(rng.normal(-21, 3, 120)))
    add("zero_variance_control_only", r6(rng.normal(1, 0.5, 30)), [1.0] * 25)
    add("treatment_lower", r6(rng.normal(9, 1, 150)), r6(rng.normal(10, 1, 150)))
    add("large_offsets", r6(1e6 + rng.normal(0, 1, 100)), r6(1e6 + 0.2 + rng.normal(0, 1, 100)))
    add("with_nulls", r6(rng.normal(2, 1, 50)), r6(rng.normal(1.6, 1, 45)),
        null_rows=[(None, True), (None, False), (3.0, None), (None, None)])
    add("large_5000_vs_4000", r6(rng.normal(100, 15, 5000)), r6(rng.normal(99.5, 15, 4000)))
    add("bernoulli_as_numeric", [float(v) for v in rng.binomial(1, 0.12, 2000)],
        [float(v) for v in rng.binomial(1, 0.10, 2000)])
    # NULL results
    add("treatment_single_value", [1.0], [1.0, 2.0, 3.0])
    add("control_single_value", [1.0, 2.0, 3.0], [5.0])
    add("empty_treatment", [], [1.0, 2.0])
    add("empty_control", [1.0, 2.0], [])
    add("no_rows", [], [])
    add("only_null_rows", [], [], null_rows=[(None, True), (None, False), (1.0, None)])
    add("treatment_reduced_to_one_by_nulls", [4.0], [1.0, 2.0, 3.0],
        null_rows=[(None, True), (None, True)])
    for c in cases:
        if c["expected"] is not None:
            assert all(math.isfinite(v) for v in c["expected"].values()), c["name"]
    write_golden("welch_ttest", "r = scipy.stats.ttest_ind(treat, control, equal_var=False); "
                 "mean_diff = mean(treat) - mean(control); (ci_low, ci_high) = "
                 "r.confidence_interval(0.95); NULL if an arm has < 2 values", cases)


def gen_chi2_test():
    rng = np.random.default_rng(15001)
    cases = []

    def add(name, treat, ctrl, null_rows=()):
        x, y = two_sample(treat, ctrl, rng, null_rows)
        t, c = split_bool(x, y)
        if not t or not c:
            exp = None
        else:
            tc = sum(int(v) for v in t)
            cc = sum(int(v) for v in c)
            table = np.array([[tc, len(t) - tc], [cc, len(c) - cc]])
            assert (table.sum(axis=0) > 0).all(), name  # scipy rejects zero margins
            r = stats.chi2_contingency(table, correction=False)
            rate_t = tc / len(t)
            rate_c = cc / len(c)
            exp = {"statistic": fnum(r.statistic), "pvalue": fnum(r.pvalue),
                   "lift": None if rate_c == 0 else fnum(rate_t / rate_c - 1)}
        cases.append(make_case(name, x, y, exp))

    def conv(p, n, as_bool=False):
        v = rng.binomial(1, p, n)
        return [bool(b) for b in v] if as_bool else [int(b) for b in v]

    add("no_effect", conv(0.1, 1000), conv(0.1, 1000))
    add("positive_lift", conv(0.13, 2000), conv(0.10, 2000))
    add("negative_lift", conv(0.08, 1500), conv(0.11, 1500))
    add("booleans", conv(0.3, 200, True), conv(0.25, 220, True))
    add("unequal_sizes_50_vs_3000", conv(0.2, 50), conv(0.15, 3000))
    add("tiny_1_vs_1", [1], [0])
    add("tiny_1_vs_1_bool", [False], [True])
    add("tiny_2_vs_3", [1, 0], [0, 0, 1])
    add("tiny_5_vs_4", [1, 1, 0, 1, 0], [0, 0, 1, 0])
    add("control_zero_conversions_lift_null", [1, 0, 0, 1, 0], [0, 0, 0, 0])
    add("control_zero_conversions_large", conv(0.02, 400), [0] * 350)
    add("treatment_zero_conversions", [0] * 100, [1] * 5 + [0] * 95)
    add("identical_rates", [1] * 10 + [0] * 90, [1] * 20 + [0] * 180)
    add("all_converted_treatment", [1] * 30, [1] * 20 + [0] * 10)
    add("duplicates_small_counts", [1, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0])
    add("high_rates", conv(0.9, 300), conv(0.85, 300))
    add("rare_events", conv(0.005, 4000), conv(0.003, 4000))
    add("with_nulls", conv(0.4, 60), conv(0.3, 70),
        null_rows=[(None, True), (None, False), (1, None), (None, None), (0, None)])
    add("with_nulls_bool", conv(0.4, 40, True), conv(0.3, 45, True),
        null_rows=[(None, True), (True, None)])
    add("large_5000", conv(0.215, 5000), conv(0.2, 5000))
    # NULL results
    add("empty_treatment", [], [0, 1, 1])
    add("empty_control", [1, 0], [])
    add("no_rows", [], [])
    add("only_null_rows", [], [], null_rows=[(None, True), (1, None)])
    write_golden("chi2_test", "table [[treat_conv, treat_nonconv], [ctrl_conv, ctrl_nonconv]]; "
                 "statistic, pvalue = scipy.stats.chi2_contingency(table, correction=False)[:2]; "
                 "lift = rate_treat / rate_ctrl - 1 (null if rate_ctrl == 0); NULL if an arm is "
                 "empty (tables with a zero column sum are not included)", cases)


def gen_ab_sample_size():
    cases = []
    grid = []
    for p1 in [0.01, 0.05, 0.1, 0.2, 0.35, 0.5]:
        for lift in [0.05, 0.1, 0.25, -0.1]:
            grid.append((p1, lift, 0.05, 0.8))
    grid += [
        (0.1, 0.1, 0.01, 0.8), (0.1, 0.1, 0.1, 0.8), (0.1, 0.1, 0.05, 0.9),
        (0.1, 0.1, 0.01, 0.95), (0.03, 0.2, 0.05, 0.9), (0.25, 0.02, 0.05, 0.8),
        (0.6, 0.5, 0.05, 0.8), (0.4, -0.5, 0.05, 0.8), (0.001, 1.0, 0.05, 0.8),
        (0.5, 0.9, 0.2, 0.5), (0.02, 0.15, 0.1, 0.99), (0.15, -0.3, 0.01, 0.9),
    ]
    z = stats.norm.ppf
    for p1, lift, alpha, power in grid:
        p2 = p1 * (1 + lift)
        assert 0 < p2 < 1
        pbar = (p1 + p2) / 2
        num = (z(1 - alpha / 2) * math.sqrt(2 * pbar * (1 - pbar))
               + z(power) * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2
        raw = num / (p2 - p1) ** 2
        frac = raw - math.floor(raw)
        # keep ceil() unambiguous under last-bit differences in the Rust port
        if frac < 1e-6 or frac > 1 - 1e-6:
            print("skipping near-integer sample size", p1, lift, alpha, power, raw)
            continue
        name = "p1_%s_lift_%s_alpha_%s_power_%s" % (p1, lift, alpha, power)
        cases.append({"name": name,
                      "args": {"p1": p1, "lift": lift, "alpha": alpha, "power": power},
                      "x": [], "y": [], "expected": int(math.ceil(raw))})
    write_golden("ab_sample_size", "n per arm = ceil((z(1-alpha/2)*sqrt(2*pbar*(1-pbar)) + "
                 "z(power)*sqrt(p1*(1-p1)+p2*(1-p2)))**2 / (p2-p1)**2), p2 = p1*(1+lift), "
                 "pbar = (p1+p2)/2, z = scipy.stats.norm.ppf", cases)


# --------------------------------------------------------------------------
# hand-checkable PSI case
# --------------------------------------------------------------------------

def gen_psi_hand():
    ref = [float(v) for v in range(1, 11)]
    cur = [1.0, 1.0, 2.0, 2.0, 3.0, 8.0, 9.0, 10.0, 10.0, 10.0]
    bins = 5
    edges = np.unique(np.quantile(np.array(ref), [k / bins for k in range(1, bins)]))
    rc = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1)
    cc = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
    e, a = rc / len(ref), cc / len(cur)
    es, as_ = smooth(e), smooth(a)
    terms = (as_ - es) * np.log(as_ / es)
    total = float(np.sum(terms))
    assert abs(total - psi_value(*binned_proportions(ref, cur, bins, "quantile"))) == 0.0
    # rows in a fixed, readable order: reference first, then current
    x = ref + cur
    y = [True] * len(ref) + [False] * len(cur)
    case = make_case("hand_checkable_bins5_quantile", x, y, fnum(total), {"bins": bins})
    write_golden("psi", "numpy (hand-checkable case, see README.md)", [case], filename="psi_hand")
    print("psi_hand: edges", [float(v) for v in edges])
    print("psi_hand: ref counts", rc.tolist(), "cur counts", cc.tolist())
    print("psi_hand: e", e.tolist(), "a", a.tolist())
    print("psi_hand: terms", [float(v) for v in terms], "psi", repr(total))


# --------------------------------------------------------------------------
# large samples, given by formulas that SQL reproduces exactly
# --------------------------------------------------------------------------

# Each sample: value_i = shift + scale * ((u - 0.5) * (1.0 + u)) with
# u = ((i * step) % spread) / spread for i = 0 .. rows-1: integer arithmetic,
# then IEEE operations in the same order in numpy and in SQL, so both sides
# see the same doubles. Large enough for the bucket-count paths (> 100k).
LARGE_CASES = [
    ("spread_shifted",
     {"rows": 300_000, "step": 7919, "spread": 299_993, "shift": 0.0, "scale": 1.0},
     {"rows": 250_000, "step": 7927, "spread": 249_989, "shift": 0.01, "scale": 1.1}),
    ("forty_levels_tied",
     {"rows": 300_000, "step": 7919, "spread": 40, "shift": 0.0, "scale": 2.0},
     {"rows": 200_000, "step": 7927, "spread": 37, "shift": 0.0, "scale": 2.0}),
]


def formula_sample(spec):
    i = np.arange(spec["rows"], dtype=np.int64)
    u = ((i * spec["step"]) % spec["spread"]).astype(np.float64) / float(spec["spread"])
    return spec["shift"] + spec["scale"] * ((u - 0.5) * (1.0 + u))


def gen_large_samples():
    cases = []
    for name, ref_spec, cur_spec in LARGE_CASES:
        ref, cur = formula_sample(ref_spec), formula_sample(cur_spec)
        ks = stats.ks_2samp(ref, cur)
        e, a = binned_proportions(ref, cur)
        ew_e, ew_a = binned_proportions(ref, cur, binning="equal_width")
        expected = {
            "psi": fnum(psi_value(smooth(e), smooth(a))),
            "psi_equal_width": fnum(psi_value(smooth(ew_e), smooth(ew_a))),
            "js_divergence": fnum(float(jensenshannon(e, a)) ** 2),
            "ks_statistic": fnum(ks.statistic),
            "ks_pvalue": fnum(ks.pvalue),
            "wasserstein": fnum(stats.wasserstein_distance(ref, cur)),
        }
        cases.append({"name": name, "reference": ref_spec, "current": cur_spec,
                      "expected": expected})
    path = os.path.join(GOLDEN, "large_samples.json")
    with open(path, "w") as f:
        json.dump({"cases": cases, "versions": VERSIONS,
                   "oracle": "numpy / scipy on samples given by formulas (see LARGE_CASES)"},
                  f, indent=1, sort_keys=True)
        f.write("\n")
    print("large_samples:", [(c["name"], c["expected"]) for c in cases])


def main():
    np.seterr(all="ignore")
    gen_ks_2samp()
    gen_wasserstein()
    gen_psi()
    gen_psi_pvalue()
    gen_js_divergence()
    gen_kl_divergence()
    gen_chi2_2samp()
    gen_ranking_metrics()
    gen_log_loss()
    gen_accuracy()
    gen_prf()
    gen_confusion_matrix()
    gen_regression()
    gen_welch_ttest()
    gen_chi2_test()
    gen_ab_sample_size()
    gen_psi_hand()
    gen_large_samples()
    print("%-24s %-18s %6s %6s %10s" % ("file", "function", "cases", "nulls", "bytes"))
    for fname, function, n, nnull, size in SUMMARY:
        print("%-24s %-18s %6d %6d %10d" % (fname, function, n, nnull, size))
        if function != "psi" or fname != "psi_hand.json":
            assert n >= 20, fname
        assert size < 3_000_000, fname


if __name__ == "__main__":
    sys.exit(main())
