"""numpy / scipy doing what `cargo bench --bench statistics` times, on data of the same shape:
10M reference rows N(0, 1) and 10M current rows N(0.1, 1.1^2), with a 20-level text category.

    python3 benches/statistics_scipy.py

Prints rows/s per statistic (best of 3), to divide into the Rust bench's rows/s.
"""

import time

import numpy as np
from scipy import spatial, stats

N = 10_000_000
rng = np.random.default_rng(7)
ref = rng.normal(0.0, 1.0, N)
cur = rng.normal(0.1, 1.1, N)
levels = np.array([f"level_{i}" for i in range(20)])
ref_cat = levels[np.clip(ref * 4 + 10, 0, 19).astype(int)]
cur_cat = levels[np.clip(cur * 4 + 10, 0, 19).astype(int)]
ROWS = 2 * N


def shares(edges):
    e = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1) / N
    a = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / N
    return e, a


def quantile_shares():
    edges = np.unique(np.quantile(ref, np.arange(1, 10) / 10))
    return shares(edges)


def psi():
    e, a = quantile_shares()
    e, a = np.where(e == 0, 1e-4, e), np.where(a == 0, 1e-4, a)
    return np.sum((a - e) * np.log(a / e))


def js():
    e, a = quantile_shares()
    return spatial.distance.jensenshannon(e, a) ** 2


def kl():
    e, a = quantile_shares()
    return stats.entropy(np.where(e == 0, 1e-4, e), np.where(a == 0, 1e-4, a))


def category_counts():
    names, inverse = np.unique(np.concatenate([ref_cat, cur_cat]), return_inverse=True)
    r = np.bincount(inverse[:N], minlength=len(names))
    c = np.bincount(inverse[N:], minlength=len(names))
    return r, c


def chi2():
    r, c = category_counts()
    return stats.chi2_contingency(np.array([r, c]))


def scan():
    both = np.concatenate([ref, cur])
    return len(both), both.sum()


CASES = [
    ("scan (count, sum)", scan),
    ("psi", psi),
    ("js_divergence", js),
    ("kl_divergence", kl),
    ("chi2_2samp", chi2),
    ("ks_2samp", lambda: stats.ks_2samp(ref, cur)),
    ("wasserstein", lambda: stats.wasserstein_distance(ref, cur)),
    ("sort of the 20M values", lambda: np.sort(np.concatenate([ref, cur]))),
]

for name, function in CASES:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    print(f"numpy/scipy {name:<24} {ROWS / best:>14.0f} rows/s  ({best:.3f} s)")
