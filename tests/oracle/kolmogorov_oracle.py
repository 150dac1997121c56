#!/usr/bin/env python3
"""Golden values for udfs/src/distributions/kolmogorov.rs.

Writes tests/oracle/golden/kolmogorov.json with reference values from SciPy:

* ``kstwo_sf``: ``scipy.stats.kstwo.sf(x, n)``, the survival function of the
  one-sample two-sided Kolmogorov-Smirnov statistic. The cases are chosen so
  that every branch of SciPy's ``_kolmogn`` (Simard & L'Ecuyer 2011 selection
  of Ruben-Gambino, Durbin/Marsaglia-Tsang-Wang, Pomeranz, Pelz-Good and the
  one-sided Smirnov sum) is exercised; each entry names its branch.
* ``smirnov``: ``scipy.special.smirnov(n, x)``, the one-sided tail
  P(D_n^+ >= x) that ``_kolmogn`` doubles in its tail branches.
* ``ks_2samp``: ``scipy.stats.ks_2samp(a, b)`` (two-sided, method='auto') on
  random samples. Each entry records the raw statistic ``d`` (max |ECDF
  difference|, computed here with NumPy before SciPy snaps it to a multiple of
  1/lcm(n1, n2)), SciPy's statistic and its p-value.

Deterministic: every random draw comes from a fixed seed. Run from anywhere:

    python3 tests/oracle/kolmogorov_oracle.py
"""

import json
import math
import pathlib
import warnings

import numpy as np
import scipy
import scipy.special
from scipy import stats

OUT = pathlib.Path(__file__).resolve().parent / "golden" / "kolmogorov.json"
MAX_AUTO_N = 10000


def kstwo_branch(n, x):
    """Name of the branch SciPy's kstwo.sf takes (mirrors _kolmogn, cdf=False)."""
    if x <= 0.5 / n:
        return "below_support"
    if x >= 1.0:
        return "above_support"
    t = n * x
    if t <= 1.0:
        if t <= 0.5:
            return "t_le_half"
        return "ruben_gambino_small_n" if n <= 140 else "ruben_gambino_large_n"
    if t >= n - 1:
        return "ruben_gambino_upper"
    if x >= 0.5:
        return "smirnov_x_ge_half"
    nxx = t * x
    if n <= 140:
        if nxx <= 0.754693:
            return "dmtw_small_n"
        if nxx <= 4:
            return "pomeranz"
        return "smirnov_small_n"
    if nxx >= 370.0:
        return "zero_tail"
    if nxx >= 2.2:
        return "smirnov_large_n" if n <= 1000000 else "smirnov_asymptotic_n"
    if n <= 100000 and n * x**1.5 <= 1.4:
        return "dmtw_large_n"
    return "pelz_good"


def kstwo_cases():
    fixed = [
        # outside the support / degenerate
        (10, 0.0), (10, 1.0), (7, 1.5), (5, -0.1), (10, 0.05), (10, 0.04),
        # just above 1/(2n), yet n*x rounds to exactly 1/2
        (3, float(np.nextafter(0.5 / 3, 1.0))), (17, float(np.nextafter(0.5 / 17, 1.0))),
        # Ruben-Gambino lower tail, 1/2n < x <= 1/n
        (1, 0.75), (1, 0.999), (2, 0.3), (10, 0.07), (57, 0.017), (140, 0.005),
        (141, 0.9 / 141), (1000, 0.00075), (500000, 1.5e-6),
        # Ruben-Gambino upper tail, x >= 1 - 1/n
        (2, 0.6), (3, 0.7), (5, 0.85), (100, 0.995),
        # x >= 0.5: exact 2 * smirnov
        (3, 0.55), (4, 0.5), (10, 0.5), (10, 0.75), (100, 0.5), (100, 0.6),
        (140, 0.55), (500, 0.5), (1400, 0.5), (1000, 0.52),
        # n <= 140, Durbin matrix
        (3, 0.4), (4, 0.3), (10, 0.2), (50, 0.1), (100, 0.0868), (140, 0.07),
        # n <= 140, Pomeranz (fractional part of n*x zero, one half, above/below)
        (10, 0.3), (50, 0.2), (140, 0.15), (40, 0.25), (24, 0.3125), (30, 0.29),
        (17, 0.41), (6, 0.45),
        # n <= 140, n x^2 > 4: 2 * smirnov
        (100, 0.25), (140, 0.3), (20, 0.48), (30, 0.45),
        # n > 140 tails
        (2000, 0.45), (1000, 0.49), (1000, 0.05), (141, 0.2), (100000, 0.006),
        (1000000, 0.0015), (999999, 0.002), (2000000, 0.0015), (5000000, 0.001),
        (3000, 0.3),
        # n > 140, Durbin matrix (n <= 100000, n x^1.5 <= 1.4)
        (1000, 0.01), (141, 0.04), (100000, 5e-4), (5000, 0.004), (8571, 0.0031),
        # n > 140, Pelz-Good
        (1000, 0.03), (100001, 5e-4), (200000, 0.003), (10000000, 3e-4),
        (1000000000, 1e-5), (300, 0.08),
    ]
    rng = np.random.default_rng(20240611)
    cases = list(fixed)
    # Random sweep over the moderate range: n log-uniform, z = sqrt(n) x log-uniform.
    for _ in range(160):
        n = int(np.exp(rng.uniform(0.0, np.log(200000.0))))
        n = max(n, 1)
        z = float(np.exp(rng.uniform(np.log(0.05), np.log(6.0))))
        x = z / math.sqrt(n)
        if x >= 1.0:
            x = float(rng.uniform(0.5, 1.0))
        cases.append((n, float(x)))
    # Small n, x anywhere.
    for _ in range(60):
        n = int(rng.integers(1, 141))
        x = float(rng.uniform(0.0, 1.0))
        cases.append((n, x))
    out = []
    for n, x in cases:
        sf = float(stats.kstwo.sf(x, n))
        out.append({"n": n, "x": float(x), "sf": sf, "branch": kstwo_branch(n, x)})
    return out


def smirnov_cases():
    fixed = [
        (2, 0.3), (2, 0.7), (3, 0.2), (3, 0.5), (5, 0.1), (5, 0.9), (10, 0.05),
        (10, 0.1), (10, 0.35), (10, 0.95), (50, 0.02), (50, 0.3), (140, 0.25),
        (141, 0.007), (1000, 0.001), (1000, 0.005), (1000, 0.05), (1000, 0.3),
        (1000, 0.6), (1000, 0.9995), (100000, 0.001), (100000, 0.01),
        (999999, 0.0015), (1000000, 0.001), (1000001, 0.001), (1000001, 1e-4),
        (5000000, 0.0005),
    ]
    rng = np.random.default_rng(1951)
    cases = list(fixed)
    for _ in range(80):
        n = int(np.exp(rng.uniform(np.log(2.0), np.log(50000.0))))
        z = float(np.exp(rng.uniform(np.log(0.02), np.log(8.0))))
        x = z / math.sqrt(n)
        if x >= 1.0:
            x = float(rng.uniform(0.01, 0.99))
        cases.append((n, float(x)))
    return [{"n": n, "x": float(x), "sf": float(scipy.special.smirnov(n, x))}
            for n, x in cases]


def raw_d(a, b):
    """max |ECDF_a - ECDF_b| evaluated at every data point, as ks_2samp does."""
    a = np.sort(a)
    b = np.sort(b)
    both = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, both, side="right") / a.shape[0]
    cdf_b = np.searchsorted(b, both, side="right") / b.shape[0]
    diff = cdf_a - cdf_b
    return float(max(np.clip(-diff.min(), 0, 1), diff.max()))


def ks_mode(n1, n2):
    if max(n1, n2) <= MAX_AUTO_N:
        return "exact_square" if n1 == n2 else "exact_inside"
    return "asymptotic"


def ks2_cases():
    rng = np.random.default_rng(1958)
    samples = []

    def normal_pair(n1, n2, shift, label):
        a = rng.normal(size=n1)
        b = rng.normal(loc=shift, size=n2)
        samples.append((a, b, label))

    # Every pair of tiny sizes.
    for n1 in range(1, 6):
        for n2 in range(1, 6):
            for rep in range(2):
                normal_pair(n1, n2, 0.8 * rep, "tiny")
    # Equal sizes (outside-square formula).
    for n in (6, 10, 25, 100, 500, 1000, 5000, 10000):
        for shift in (0.0, 0.3, 1.0):
            normal_pair(n, n, shift, "equal")
    # Unequal sizes (inside method), coprime and not.
    for n1, n2 in ((7, 13), (13, 7), (20, 30), (4, 6), (6, 4), (100, 150),
                   (999, 1000), (1000, 2000), (3, 10000), (37, 10000),
                   (10000, 37), (128, 96), (5000, 7001)):
        for shift in (0.0, 0.5):
            normal_pair(n1, n2, shift, "unequal")
    # The largest exact case, modest and large statistic.
    normal_pair(10000, 9999, 0.05, "largest_exact")
    normal_pair(10000, 9999, 0.5, "largest_exact")
    normal_pair(9999, 10000, 0.0, "largest_exact")
    normal_pair(10000, 9999, 1.5, "largest_exact")
    # Ties: integer-valued data.
    for n1, n2 in ((30, 45), (200, 200), (1000, 350)):
        a = rng.integers(0, 6, size=n1).astype(float)
        b = rng.integers(1, 7, size=n2).astype(float)
        samples.append((a, b, "ties"))
    # d = 1: the samples do not overlap.
    for n1, n2 in ((1, 1), (5, 7), (100, 100), (10000, 37), (10000, 9999),
                   (20000, 15000), (2, 30000)):
        a = rng.normal(size=n1)
        b = a.max() + 1.0 + rng.random(size=n2)
        samples.append((a, b, "disjoint"))
    # Tiny d: interleaved or identical samples.
    for n1, n2 in ((50, 50), (40, 60), (7, 9), (1000, 1001)):
        a = np.linspace(0.0, 1.0, n1)
        b = np.linspace(0.0, 1.0, n2) + 1e-3 / n2
        samples.append((a, b, "interleaved"))
    a = rng.normal(size=300)
    samples.append((a, a.copy(), "identical"))
    # Equal sizes, d = 1/n: rounding takes the exact p-value to 1 + 2^-52, so SciPy
    # abandons it for the asymptotic distribution at the snapped statistic.
    for n in (5, 7, 14, 89, 705):
        a = np.linspace(0.0, 1.0, n)
        samples.append((a, a + 1e-3 / n, "exact_rejected"))
    # Asymptotic (max(n1, n2) > 10000).
    for n1, n2, shift in ((20000, 15000, 0.0), (20000, 15000, 0.02),
                          (15000, 20000, 0.1), (10001, 10001, 0.0),
                          (10001, 10001, 0.05), (10001, 3, 0.0), (10001, 3, 2.0),
                          (30000, 1, 0.0), (12000, 50, 0.3), (50000, 40000, 0.01),
                          (10001, 10000, 0.03), (400000, 300000, 0.003)):
        normal_pair(n1, n2, shift, "asymptotic")

    out = []
    for a, b, label in samples:
        n1, n2 = len(a), len(b)
        d = raw_d(a, b)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = stats.ks_2samp(a, b, alternative="two-sided", method="auto")
        mode = ks_mode(n1, n2)
        if any("Exact calculation unsuccessful" in str(w.message) for w in caught):
            mode = "exact_rejected_asymptotic"
        out.append({
            "n1": n1,
            "n2": n2,
            "d": d,
            "statistic": float(res.statistic),
            "pvalue": float(res.pvalue),
            "mode": mode,
            "case": label,
        })
    return out


def main():
    golden = {
        "generator": "tests/oracle/kolmogorov_oracle.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "kstwo_sf": kstwo_cases(),
        "smirnov": smirnov_cases(),
        "ks_2samp": ks2_cases(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w") as fh:
        json.dump(golden, fh, indent=1, allow_nan=False)
        fh.write("\n")
    print(f"wrote {OUT}: {len(golden['kstwo_sf'])} kstwo_sf, "
          f"{len(golden['smirnov'])} smirnov, {len(golden['ks_2samp'])} ks_2samp cases")


if __name__ == "__main__":
    main()
