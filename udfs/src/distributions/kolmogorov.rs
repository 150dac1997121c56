//! Null distributions of the Kolmogorov–Smirnov statistics, matching SciPy 1.17:
//! `scipy.stats.ks_2samp(alternative='two-sided', method='auto')` and `scipy.stats.kstwo.sf`.
//!
//! Two-sample test. When both samples have at most 10 000 values the p-value is exact, from
//! lattice-path counting (Hodges 1958): the reflection ("outside square") series when
//! `n1 == n2`, otherwise Hodges' "inside" recursion. The recursion carries the probability
//! that a random path has already left the band rather than the number of paths that have
//! not (Viehmann 2021), so a tiny p-value keeps its relative precision instead of being the
//! difference of two numbers close to one. Larger samples use the one-sample distribution
//! of `D_en` with `en = round(n1 n2 / (n1 + n2))`, as SciPy does.
//!
//! One-sample two-sided survival function `P(D_n >= x)`: SciPy's implementation of the
//! algorithm selection of Simard & L'Ecuyer (2011) — the Ruben–Gambino closed forms at both
//! ends of the support, the Durbin matrix evaluated as in Marsaglia, Tsang & Wang (2003),
//! the Pomeranz (1974) recursion, the Pelz–Good (1976) expansion, and `2 P(D_n^+ >= x)` where
//! the two one-sided tails cannot overlap (`x >= 1/2`) or the overlap is negligible. The
//! one-sided tail is the Smirnov (1944) / Birnbaum–Tingey (1951) finite sum, evaluated term by
//! term in Loader's (2000) saddle-point form so that no term loses relative precision.
//!
//! References:
//! - J. L. Hodges Jr. (1958), "The significance probability of the Smirnov two-sample test",
//!   Arkiv för Matematik 3(43), 469–486.
//! - T. Viehmann (2021), "Numerically more stable computation of the p-values for the
//!   two-sample Kolmogorov–Smirnov test", arXiv:2102.08037.
//! - R. Simard, P. L'Ecuyer (2011), "Computing the two-sided Kolmogorov–Smirnov
//!   distribution", Journal of Statistical Software 39(11), 1–18.
//! - J. Durbin (1968), "The probability that the sample distribution function lies between
//!   two parallel straight lines", Annals of Mathematical Statistics 39, 398–411.
//! - G. Marsaglia, W. W. Tsang, J. Wang (2003), "Evaluating Kolmogorov's distribution",
//!   Journal of Statistical Software 8(18), 1–4.
//! - J. Pomeranz (1974), "Exact cumulative distribution of the Kolmogorov–Smirnov statistic
//!   for small samples (Algorithm 487)", Communications of the ACM 17(12), 703–704.
//! - W. Pelz, I. J. Good (1976), "Approximating the lower tail-areas of the
//!   Kolmogorov–Smirnov one-sample statistic", JRSS Series B 38(2), 152–156.
//! - H. Ruben, J. Gambino (1982), "The exact distribution of Kolmogorov's statistic D_n for
//!   n <= 10", Annals of the Institute of Statistical Mathematics 34, 167–173.
//! - N. V. Smirnov (1944), "Approximate laws of distribution of random variables from
//!   empirical data", Uspekhi Mat. Nauk no. 10, 179–206; Z. W. Birnbaum, F. H. Tingey (1951),
//!   "One-sided confidence contours for probability distribution functions", Annals of
//!   Mathematical Statistics 22(4), 592–596.
//! - C. Loader (2000), "Fast and accurate computation of binomial probabilities".
//! - P. van Mulbregt (2018), "Computing the cumulative distribution function and quantiles
//!   of the one-sided Kolmogorov–Smirnov statistic", arXiv:1802.06966 (SciPy's `smirnov`,
//!   whose large-n approximation is reproduced here so results agree beyond n = 10^6).

use std::f64::consts::{LN_2, PI};

/// SciPy's `MAX_AUTO_N`: above this sample size 'auto' stops trying the exact distribution.
const MAX_EXACT_N: u64 = 10_000;

/// `ln(sqrt(2 pi))`.
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
/// `sqrt(2 pi)`.
const SQRT_2PI: f64 = 2.506_628_274_631_000_7;

/// Intermediate results are rescaled by this factor, as in SciPy, so that the points at
/// which SciPy over- or underflows are the points at which this code does.
const TWO_POW_128: f64 = pow2(128);
const TWO_POW_MINUS_128: f64 = pow2(-128);

/// `ln(2^-1075)`: past it `exp` underflows even the smallest subnormal, so the one-sided tail
/// is reported as exactly zero (the cut-off of SciPy's `smirnov`).
const EXP_UNDERFLOW_LOG: f64 = -745.133_219_101_941_2;

/// SciPy's `smirnov` switches to an approximation above this `n` to bound its running time;
/// reproducing the switch keeps large-sample p-values identical to SciPy's.
const SMIRNOV_EXACT_MAX_N: u64 = 1_000_000;

/// p-value of the two-sided two-sample KS test as scipy.stats.ks_2samp(method='auto'):
/// returns (statistic, pvalue). `d` is the observed max |ECDF1-ECDF2|, n1,n2 >= 1.
/// Like scipy, in exact mode the statistic is snapped to h/lcm(n1,n2) (h = round(d*lcm)).
///
/// An empty sample, or a `d` outside `[0, 1]` (NaN included), yields `(NaN, NaN)`.
pub fn ks_2samp_two_sided(n1: u64, n2: u64, d: f64) -> (f64, f64) {
    if n1 == 0 || n2 == 0 || !(0.0..=1.0).contains(&d) {
        return (f64::NAN, f64::NAN);
    }
    if n1.max(n2) > MAX_EXACT_N {
        return (d, asymptotic_pvalue(n1, n2, d));
    }
    let g = gcd(n1, n2);
    let lcm = (n1 / g) * n2;
    // Every attainable statistic is a multiple of 1/lcm; rounding removes the floating-point
    // noise of the ECDF difference before it selects a lattice boundary.
    let h = (d * lcm as f64).round_ties_even() as u64;
    let statistic = h as f64 / lcm as f64;
    if h == 0 {
        return (statistic, 1.0);
    }
    let p = if n1 == n2 {
        prob_outside_square(n1, h)
    } else {
        prob_outside_band(n1, n2, g, h)
    };
    if (0.0..=1.0).contains(&p) {
        (statistic, p)
    } else {
        // SciPy gives up on an exact result that rounding pushed out of [0, 1] (it happens
        // for equal sizes and h = 1, where the series evaluates to 1 + 2^-52).
        (statistic, asymptotic_pvalue(n1, n2, statistic))
    }
}

/// scipy.stats.kstwo.sf(x, n): survival function of the one-sample two-sided KS statistic D_n.
///
/// `n == 0` or a NaN `x` yields NaN.
pub fn kstwo_sf(n: u64, x: f64) -> f64 {
    if n == 0 || x.is_nan() {
        return f64::NAN;
    }
    // D_n >= 1/(2n) always and D_n <= 1, so outside (1/(2n), 1) the answer is known.
    if x <= 0.5 / n as f64 {
        return 1.0;
    }
    if x >= 1.0 {
        return 0.0;
    }
    kolmogorov_sf(n, x)
}

/// SciPy's large-sample fallback: the one-sample distribution at the "effective" size.
fn asymptotic_pvalue(n1: u64, n2: u64, d: f64) -> f64 {
    let (big, small) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let en = (big * small / (big + small)).round_ties_even();
    if en < 1.0 {
        return f64::NAN;
    }
    kstwo_sf(en as u64, d).clamp(0.0, 1.0)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn clip(p: f64) -> f64 {
    p.clamp(0.0, 1.0)
}

/// `2^e` for `-1022 <= e <= 1023`, built from the exponent bits so it is exact.
const fn pow2(e: i32) -> f64 {
    f64::from_bits(((1023 + e) as u64) << 52)
}

/// `x * 2^e` for any `e` (C's `ldexp`).
fn scale_pow2(mut x: f64, mut e: i64) -> f64 {
    while e > 1000 {
        x *= pow2(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= pow2(-1000);
        e += 1000;
    }
    x * pow2(e as i32)
}

// ---------------------------------------------------------------------------------------
// Exact two-sample distribution (Hodges 1958).
// ---------------------------------------------------------------------------------------

/// `P(D_{n,n} >= h/n)` by the reflection principle:
/// `2 [C(2n, n-h) - C(2n, n-2h) + C(2n, n-3h) - ...] / C(2n, n)`.
/// The alternating sum is evaluated as the nested product
/// `2 a_1 (1 - a_2 (1 - a_3 (1 - ...)))`, where `a_k = C(2n, n-kh) / C(2n, n-(k-1)h)` is a
/// ratio of `h` simple factors, so no binomial coefficient is ever formed and nothing
/// cancels catastrophically. Operation order follows SciPy so the result is bit-identical.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let (n, h) = (n as i64, h as i64);
    let mut p = 0.0;
    for k in (0..=n / h).rev() {
        let mut ratio = 1.0;
        for j in 0..h {
            ratio = ((n - k * h - j) as f64 * ratio) / ((n + k * h + j + 1) as f64);
        }
        p = ratio * (1.0 - p);
    }
    2.0 * p
}

/// `P(D_{m,n} >= h/lcm(m, n))` for `m != n` with Hodges' inside method.
///
/// Lattice paths run from (0, 0) to (m, n); a path is rejected when some point (i, j) on it
/// has `|n i - m j| / g >= h`. Column `i` keeps, for every `j` inside the band, the
/// probability that a uniformly random path from the origin to (i, j) has already been
/// outside. A path reaches (i, j) from (i-1, j) with probability `i/(i+j)` and from
/// (i, j-1) with probability `j/(i+j)`, and points outside the band count as 1, so the
/// answer is the value at (m, n). Only the band of the current column is stored.
fn prob_outside_band(n1: u64, n2: u64, g: u64, h: u64) -> f64 {
    // The band is symmetric in the two samples; walking the longer axis keeps columns short.
    let (m, n) = (n1.max(n2) as i64, n1.min(n2) as i64);
    let (mg, ng) = (m / g as i64, n / g as i64);
    let h = h as i64;

    let mut lo = 0_i64;
    let mut hi = ceil_div(h, mg).min(n + 1);
    // Entries at or past the current band length always hold 1 ("already outside"), which is
    // what a cell entering the band from above must see.
    let mut column = vec![1.0_f64; n as usize + 1];
    column[..hi as usize].fill(0.0);
    let mut band = hi - lo;
    // i + j <= m + n; a table of reciprocals turns the per-cell division into products.
    let reciprocal: Vec<f64> = (0..=m + n)
        .map(|s| if s == 0 { 0.0 } else { 1.0 / s as f64 })
        .collect();

    for i in 1..=m {
        let (last_lo, last_band) = (lo, band);
        lo = (floor_div(ng * i - h, mg) + 1).clamp(0, n);
        hi = ceil_div(ng * i + h, mg).min(n + 1);
        if hi <= lo {
            // Every path must leave the band.
            return 1.0;
        }
        band = hi - lo;
        advance_column(
            &mut column,
            i,
            lo,
            band as usize,
            (lo - last_lo) as usize,
            &reciprocal,
        );
        if last_band > band {
            column[band as usize..last_band as usize].fill(1.0);
        }
    }
    column[(band - 1) as usize].clamp(0.0, 1.0)
}

/// One column step of the inside method:
/// `v_j = w_j a_j + b_j v_{j-1}` with `w_j = i/(i+j)`, `b_j = j/(i+j)`, `a_j` the value of the
/// previous column at the same height (stored `shift` slots further along, because the band
/// moves up) and `v_{lo-1}` equal to 0 at the axis and 1 (outside) above it.
///
/// The recurrence is serial, which makes its latency the cost of the whole test at
/// n = 10 000. Folding two steps into one,
/// `v_{j+1} = (b_{j+1} b_j) v_{j-1} + (b_{j+1} w_j a_j + w_{j+1} a_{j+1})`, halves the serial
/// chain; every quantity is non-negative, so the reassociation changes results only at the
/// level of rounding (a few ulps per step, and the recurrence is an average so errors do not
/// grow).
fn advance_column(
    column: &mut [f64],
    i: i64,
    lo: i64,
    band: usize,
    shift: usize,
    reciprocal: &[f64],
) {
    let fi = i as f64;
    let first = (i + lo) as usize;
    let recip = &reciprocal[first..first + band];
    let column = &mut column[..band + shift];
    let mut below = if lo == 0 { 0.0 } else { 1.0 };
    let mut k = 0;
    while k + 1 < band {
        let j = (lo as usize + k) as f64;
        let (r0, r1) = (recip[k], recip[k + 1]);
        let (b0, b1) = (j * r0, (j + 1.0) * r1);
        let a0 = column[k + shift] * (fi * r0);
        let a1 = column[k + 1 + shift] * (fi * r1);
        let v0 = b0 * below + a0;
        let v1 = (b1 * b0) * below + (b1 * a0 + a1);
        column[k] = v0;
        column[k + 1] = v1;
        below = v1;
        k += 2;
    }
    if k < band {
        let j = (lo as usize + k) as f64;
        let r = recip[k];
        column[k] = (j * r) * below + column[k + shift] * (fi * r);
    }
}

/// Floor of `a / b` for `b > 0`.
fn floor_div(a: i64, b: i64) -> i64 {
    a.div_euclid(b)
}

/// Ceiling of `a / b` for `b > 0`.
fn ceil_div(a: i64, b: i64) -> i64 {
    -(-a).div_euclid(b)
}

// ---------------------------------------------------------------------------------------
// One-sample two-sided distribution (Simard & L'Ecuyer 2011, as selected by SciPy).
// ---------------------------------------------------------------------------------------

/// `P(D_n >= x)` for `1/(2n) < x < 1`. The thresholds are SciPy's, which in turn are the
/// accuracy/speed trade-offs measured by Simard & L'Ecuyer.
fn kolmogorov_sf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let t = nf * x;
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        return clip(1.0 - ruben_gambino_lower_cdf(n, t));
    }
    if t >= nf - 1.0 {
        // Near x = 1 only the extreme orderings exceed x, and the two tails are disjoint.
        return clip(2.0 * (1.0 - x).powf(nf));
    }
    if x >= 0.5 {
        // D_n^+ >= x and D_n^- >= x cannot both hold when x >= 1/2.
        return clip(2.0 * smirnov_sf(n, x));
    }
    let nxx = t * x;
    if n <= 140 {
        let cdf = if nxx <= 0.754693 {
            durbin_cdf(n, x)
        } else if nxx <= 4.0 {
            pomeranz_cdf(n, x)
        } else {
            // Far enough into the tail that the overlap of the one-sided tails is negligible.
            return clip(2.0 * smirnov_sf(n, x));
        };
        return clip(1.0 - cdf);
    }
    if nxx >= 370.0 {
        return 0.0;
    }
    if nxx >= 2.2 {
        return clip(2.0 * smirnov_sf(n, x));
    }
    let cdf = if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        durbin_cdf(n, x)
    } else {
        pelz_good_cdf(n, x)
    };
    clip(1.0 - cdf)
}

/// `P(D_n <= x) = n!/n^n (2nx - 1)^n` for `1/(2n) < x <= 1/n` (Ruben & Gambino), with
/// `t = n x`.
fn ruben_gambino_lower_cdf(n: u64, t: f64) -> f64 {
    let nf = n as f64;
    let base = 2.0 * t - 1.0;
    if n <= 140 {
        let inv_n = 1.0 / nf;
        (1..=n).fold(1.0, |acc, i| acc * (i as f64 * inv_n * base))
    } else {
        // Past SciPy's cut-over the n-term product gives way to logarithms, with n!/n^n
        // from Stirling's series; the two cut-overs must coincide for results to agree.
        let ln_nfact_over_npown = 0.5 * nf.ln() - nf + LN_SQRT_2PI + stirling_error(nf);
        (ln_nfact_over_npown + nf * base.ln()).exp()
    }
}

/// Stirling's error `ln(k!) - [(k + 1/2) ln k - k + ln sqrt(2 pi)]` for integer `k >= 1`.
///
/// Below 16 the asymptotic series is not accurate to double precision, so the values are
/// tabulated (computed with mpmath at 40 digits, then rounded). From 16 on, the series
/// through `B_16` is accurate to well below an ulp.
fn stirling_error(k: f64) -> f64 {
    const SMALL: [f64; 16] = [
        0.0,
        0.081_061_466_795_327_26,
        0.041_340_695_955_409_3,
        0.027_677_925_684_998_34,
        0.020_790_672_103_765_093,
        0.016_644_691_189_821_193,
        0.013_876_128_823_070_748,
        0.011_896_709_945_891_77,
        0.010_411_265_261_972_096,
        0.009_255_462_182_712_733,
        0.008_330_563_433_362_87,
        0.007_573_675_487_951_841,
        0.006_942_840_107_209_53,
        0.006_408_994_188_004_207,
        0.005_951_370_112_758_847_5,
        0.005_554_733_551_962_801,
    ];
    if k < 16.0 {
        return SMALL[k as usize];
    }
    // B_{2j} / (2j (2j - 1)) for j = 1..=8.
    const COEFFS: [f64; 8] = [
        1.0 / 12.0,
        -1.0 / 360.0,
        1.0 / 1260.0,
        -1.0 / 1680.0,
        1.0 / 1188.0,
        -691.0 / 360_360.0,
        1.0 / 156.0,
        -3617.0 / 122_400.0,
    ];
    let r = 1.0 / k;
    let r2 = r * r;
    r * COEFFS.iter().rev().fold(0.0, |acc, &c| acc * r2 + c)
}

/// Durbin's matrix formula for `P(D_n < d)`, evaluated as Marsaglia, Tsang & Wang do: write
/// `n d = k - h` with integer `k` and `0 <= h < 1`; then `P = n!/n^n (H^n)_{k,k}` for a
/// `(2k-1) x (2k-1)` matrix `H` whose entries are `1/j!` apart from a corrected first column
/// and last row. The power is taken by repeated squaring with power-of-two rescaling, since
/// the entries grow like `e^n` while the answer is at most 1.
fn durbin_cdf(n: u64, d: f64) -> f64 {
    let nf = n as f64;
    let nd = nf * d;
    if d >= 1.0 {
        return 1.0;
    }
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;

    let mut inv_fact = vec![1.0; m + 1];
    for j in 1..=m {
        inv_fact[j] = inv_fact[j - 1] / j as f64;
    }
    let mut step = vec![0.0; m * m];
    for row in 0..m {
        for col in 1..=(row + 1).min(m - 1) {
            step[row * m + col] = inv_fact[row + 1 - col];
        }
        step[row * m] = (1.0 - h.powf((row + 1) as f64)) * inv_fact[row + 1];
    }
    for col in 1..m {
        step[(m - 1) * m + col] = (1.0 - h.powf((m - col) as f64)) * inv_fact[m - col];
    }
    // The corner corrects for paths cut by both boundaries, which needs h > 1/2.
    let both = (2.0 * h - 1.0).max(0.0).powf(m as f64) - 2.0 * h.powf(m as f64);
    step[(m - 1) * m] = (1.0 + both) * inv_fact[m];

    let centre = (k - 1) * m + (k - 1);
    let mut power: Option<Vec<f64>> = None;
    let mut power_exp = 0_i64;
    let mut base = step;
    let mut base_exp = 0_i64;
    let mut remaining = n;
    loop {
        if remaining & 1 == 1 {
            power = Some(match power {
                None => base.clone(),
                Some(p) => mat_mul(&p, &base, m),
            });
            power_exp += base_exp;
        }
        remaining >>= 1;
        if remaining == 0 {
            break;
        }
        base = mat_mul(&base, &base, m);
        base_exp *= 2;
        if base[centre].abs() > TWO_POW_128 {
            base.iter_mut().for_each(|v| *v *= TWO_POW_MINUS_128);
            base_exp += 128;
        }
    }
    let Some(power) = power else {
        return f64::NAN;
    };

    let mut p = power[centre];
    let mut exponent = power_exp;
    for i in 1..=n {
        p = (i as f64 * p) / nf;
        if p.abs() < TWO_POW_MINUS_128 {
            p *= TWO_POW_128;
            exponent -= 128;
        }
    }
    clip(scale_pow2(p, exponent))
}

/// Product of two row-major `m x m` matrices.
fn mat_mul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * m];
    for (a_row, c_row) in a.chunks_exact(m).zip(c.chunks_exact_mut(m)) {
        for (&a_ik, b_row) in a_row.iter().zip(b.chunks_exact(m)) {
            for (c_ij, &b_kj) in c_row.iter_mut().zip(b_row) {
                *c_ij += a_ik * b_kj;
            }
        }
    }
    c
}

/// Pomeranz's recursion for `P(D_n < x)`.
///
/// Scale the uniform sample to `[0, n]` and let `N(u)` count the points below `u`; the event
/// is `|N(u) - u| < t` for all `u`, with `t = n x`. The bounds `u - t` and `u + t` cross an
/// integer only where `frac(u)` equals `g = min(frac t, 1 - frac t)` or `1 - g`, so it is
/// enough to follow the distribution of `N` at `0, g, 1-g, 1+g, 2-g, ..., n-g, n`; between
/// consecutive points the increment of `N` is Poisson-like with weights
/// `(len/n)^j / j!`, and `n!` times the final mass at `N(n) = n` is the probability.
fn pomeranz_cdf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let ni = n as i64;
    let t = nf * x;
    let whole = t.floor();
    let frac = t - whole;
    let l = whole as i64;
    let g = frac.min(1.0 - frac);
    let frac_pos = i64::from(frac > 0.0);
    let frac_above_half = i64::from(frac > 0.5);

    let size = n as usize + 1;
    let weights = |len: f64| {
        let step = len / nf;
        let mut w = vec![1.0; size];
        for j in 1..size {
            w[j] = w[j - 1] * step / j as f64;
        }
        w
    };
    let edge = weights(g);
    let wide = weights(2.0 * g);
    let narrow = weights(1.0 - 2.0 * g);

    // Allowed counts at grid point `row`: floor(u - t) + 1 ..= ceil(u + t) - 1, written with
    // integers because u - t or u + t is an exact integer at every grid point.
    let last_row = 2 * ni + 1;
    let bounds = |row: i64| -> (i64, i64) {
        let (lo, hi) = if row == last_row {
            (ni - l - frac_pos + 1, ni)
        } else if row % 2 == 1 {
            let k = (row + 1) / 2;
            (k - l - frac_above_half, k + l + frac_pos - 2)
        } else {
            let k = row / 2;
            (k - l, k + l + frac_above_half - 1)
        };
        (lo.max(0), hi.min(ni))
    };

    let mut prev = vec![0.0; size];
    let mut next = vec![0.0; size];
    prev[0] = 1.0;
    let (mut prev_lo, mut prev_hi) = (0_i64, 0_i64);
    let mut exponent = 0_i64;
    for row in 1..=last_row {
        let w = if row == 1 || row == last_row {
            &edge
        } else if row % 2 == 1 {
            &wide
        } else {
            &narrow
        };
        let (lo, hi) = bounds(row);
        if lo > hi {
            return 0.0;
        }
        next.fill(0.0);
        let mut largest = 0.0_f64;
        for count in lo..=hi {
            let mut s = 0.0;
            for from in prev_lo..=count.min(prev_hi) {
                s += prev[from as usize] * w[(count - from) as usize];
            }
            next[count as usize] = s;
            largest = largest.max(s);
        }
        if largest > 0.0 && largest < TWO_POW_MINUS_128 {
            next.iter_mut().for_each(|v| *v *= TWO_POW_128);
            exponent -= 128;
        }
        std::mem::swap(&mut prev, &mut next);
        (prev_lo, prev_hi) = (lo, hi);
    }

    let mut p = prev[n as usize];
    for i in 1..=n {
        if p.abs() > TWO_POW_128 {
            p *= TWO_POW_MINUS_128;
            exponent += 128;
        }
        p *= i as f64;
    }
    clip(scale_pow2(p, exponent))
}

/// Pelz–Good approximation of `P(D_n <= x)`: the Li-Chien/Korolyuk expansion
/// `K0(z) + K1(z)/sqrt(n) + K2(z)/n + K3(z)/n^(3/2)` (`z = x sqrt(n)`), with each `K_i`
/// rewritten through the Jacobi theta transformation into series in `q = exp(-pi^2/(8 z^2))`
/// that converge quickly for the small `z` where it is used.
fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let z2 = z * z;
    let z3 = z2 * z;
    let z4 = z2 * z2;
    let z6 = z.powi(6);
    let z8 = z.powi(8);
    let pi2 = PI * PI;
    let pi4 = pi2 * pi2;
    let pi6 = pi4 * pi2;

    let log_q = -pi2 / 8.0 / z2;
    // q underflows; every term carries at least one factor q.
    if log_q < -708.0 {
        return 0.0;
    }
    let q = log_q.exp();

    // Polynomials in m^2 (m odd) multiplying q^(m^2) in K1, K2 and K3.
    let k1 = [-z2, pi2 / 4.0];
    let k2 = [
        6.0 * z6 + 2.0 * z4,
        (2.0 * z4 - 5.0 * z2) * pi2 / 4.0,
        pi4 * (1.0 - 2.0 * z2) / 16.0,
    ];
    let k3 = [
        -30.0 * z6 - 90.0 * z8,
        pi2 * (135.0 * z4 - 96.0 * z6) / 4.0,
        pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0,
        pi6 * (5.0 - 30.0 * z2) / 64.0,
    ];

    // Sum over odd m = 2k - 1 of c(m) q^(m^2), Horner-style in q^(8k), the ratio of
    // consecutive powers q^((2k+1)^2) / q^((2k-1)^2).
    let terms = (16.0 * z / PI).ceil() as u64;
    let mut sums = [0.0_f64; 4];
    for k in (1..=terms).rev() {
        let m2 = ((2 * k - 1) * (2 * k - 1)) as f64;
        let m4 = m2 * m2;
        let m6 = m4 * m2;
        let q_step = q.powf((8 * k) as f64);
        let coeffs = [
            1.0,
            k1[0] + k1[1] * m2,
            k2[0] + k2[1] * m2 + k2[2] * m4,
            k3[0] + k3[1] * m2 + k3[2] * m4 + k3[3] * m6,
        ];
        for (s, c) in sums.iter_mut().zip(coeffs) {
            *s = *s * q_step + c;
        }
    }
    let denominators = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (s, den) in sums.iter_mut().zip(denominators) {
        *s = *s * q * SQRT_2PI / den;
    }

    // K2 and K3 also carry sums over all integers k of k^2 exp(-pi^2 k^2 / (2 z^2)).
    let q_all = (-pi2 / 2.0 / z2).exp();
    let mut extra2 = 0.0;
    let mut extra3 = 0.0;
    for k in (1..=terms).rev() {
        let kf = k as f64;
        let k2f = kf * kf;
        let weight = k2f * q_all.powf(k2f);
        extra2 += weight;
        extra3 += (3.0 * z2 - pi2 * k2f) * weight;
    }
    sums[2] += extra2 * pi2 * SQRT_2PI / (-36.0 * z3);
    sums[3] += extra3 * pi2 * SQRT_2PI / (216.0 * z6);

    sums[0] + sums[1] / nf.sqrt() + sums[2] / nf + sums[3] / nf.powf(1.5)
}

// ---------------------------------------------------------------------------------------
// One-sided tail P(D_n^+ >= x) (Smirnov 1944, Birnbaum & Tingey 1951).
// ---------------------------------------------------------------------------------------

/// `P(D_n^+ >= x)` for `0 < x < 1`, the quantity SciPy calls `smirnov(n, x)`.
fn smirnov_sf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    if n == 1 {
        return 1.0 - x;
    }
    let nx = nf * x;
    if nx <= 1.0 {
        // Here the complementary form of the sum (over v > n(1-x)) has the single term v = n.
        return clip(1.0 - x * (1.0 + x).powf(nf - 1.0));
    }
    // The tail is below exp(-2 n x^2) (Hoeffding), which no double can represent here.
    if -2.0 * nx * x < EXP_UNDERFLOW_LOG {
        return 0.0;
    }
    if nx >= nf - 1.0 {
        return (1.0 - x).powf(nf);
    }
    if n > SMIRNOV_EXACT_MAX_N {
        // SciPy's large-n approximation p ~ exp(-(6 n x + 1)^2 / (18 n)).
        let a = 6.0 * nf * x + 1.0;
        let log_p = -(a * a) / 18.0 / nf;
        return if log_p < -LN_2 {
            log_p.exp()
        } else {
            1.0 - (-log_p.exp_m1())
        };
    }
    clip(birnbaum_tingey_sum(n, x))
}

/// `x * sum_{v=0}^{floor(n(1-x))} C(n, v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v)`.
///
/// All terms are positive, so the sum itself is well conditioned; the difficulty is that
/// each term is a product of huge and tiny factors. Writing term `v` as
/// `dbinom(v; n, p_v) / p_v` with `p_v = x + v/n` and evaluating the binomial probability in
/// Loader's form (Stirling errors plus deviance terms, no large logarithms cancelling) keeps
/// every term accurate to a few ulps for any `n`.
fn birnbaum_tingey_sum(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let nx = nf * x;
    let se_n = stirling_error(nf);
    let last = (nf - nx).floor();
    // Terms are log-concave in v, so once they fall they keep falling, and the rest of the sum
    // is at most (terms left) * (current term).
    let mut sum = 0.0_f64;
    let mut compensation = 0.0_f64;
    let mut previous = 0.0_f64;
    let mut v = 1.0_f64;
    while v <= last {
        let rest = nf - v;
        // n (1 - p_v); zero or below means (1 - x - v/n)^(n-v) vanishes.
        let mean_rest = rest - nx;
        if mean_rest <= 0.0 {
            break;
        }
        let mean_v = nx + v;
        let log_core = se_n
            - stirling_error(v)
            - stirling_error(rest)
            - deviance(v, mean_v, -nx)
            - deviance(rest, mean_rest, nx);
        let term = log_core.exp() * (nf / (2.0 * PI * v * rest)).sqrt() * (nf / mean_v);
        // Neumaier summation: up to 10^6 terms of similar size.
        let total = sum + term;
        compensation += if sum.abs() >= term {
            (sum - total) + term
        } else {
            (term - total) + sum
        };
        sum = total;
        if term < previous && term * (last - v) <= f64::EPSILON * 0.125 * sum {
            break;
        }
        previous = term;
        v += 1.0;
    }
    // The v = 0 term is (1-x)^n; in log form it stays accurate for large n.
    (nf * (-x).ln_1p()).exp() + x * (sum + compensation)
}

/// Loader's deviance `k ln(k/mean) + mean - k`, given `diff = k - mean` exactly, summing its
/// series in `(k - mean)/(k + mean)` when the naive form would cancel.
fn deviance(k: f64, mean: f64, diff: f64) -> f64 {
    if diff.abs() < 0.1 * (k + mean) {
        let v = diff / (k + mean);
        let v2 = v * v;
        let mut s = diff * v;
        let mut odd_power = 2.0 * k * v;
        let mut denom = 1.0;
        // |v| < 0.1, so each term is under 1% of the previous one: a handful converge.
        for _ in 0..64 {
            odd_power *= v2;
            denom += 2.0;
            let next = s + odd_power / denom;
            if next == s {
                break;
            }
            s = next;
        }
        return s;
    }
    k * (k / mean).ln() + mean - k
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const GOLDEN: &str = include_str!("../../../tests/oracle/golden/kolmogorov.json");
    const REL_TOL: f64 = 1e-9;
    const ABS_TOL: f64 = 1e-14;

    fn golden() -> Value {
        serde_json::from_str(GOLDEN).expect("golden file is valid JSON")
    }

    fn cases<'a>(golden: &'a Value, key: &str) -> &'a [Value] {
        golden[key]
            .as_array()
            .unwrap_or_else(|| panic!("golden file has no {key} array"))
    }

    fn uint(case: &Value, key: &str) -> u64 {
        case[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key} missing in {case}"))
    }

    fn float(case: &Value, key: &str) -> f64 {
        case[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing in {case}"))
    }

    fn rel_err(got: f64, want: f64) -> f64 {
        if got == want {
            0.0
        } else {
            (got - want).abs() / want.abs()
        }
    }

    fn close(got: f64, want: f64) -> bool {
        (got - want).abs() <= ABS_TOL || rel_err(got, want) <= REL_TOL
    }

    /// Worst relative error over values large enough for relative error to be meaningful.
    fn worst(errors: &[(f64, String)]) -> String {
        errors
            .iter()
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map_or_else(
                || "none".to_string(),
                |(e, what)| format!("{e:.3e} at {what}"),
            )
    }

    #[test]
    fn kstwo_sf_matches_scipy() {
        let golden = golden();
        let mut failures = Vec::new();
        let mut errors = Vec::new();
        for case in cases(&golden, "kstwo_sf") {
            let (n, x, want) = (uint(case, "n"), float(case, "x"), float(case, "sf"));
            let got = kstwo_sf(n, x);
            let what = format!("n={n} x={x:e} [{}]", case["branch"]);
            if !close(got, want) {
                failures.push(format!("{what}: got {got:e}, scipy {want:e}"));
            }
            if want.abs() > ABS_TOL {
                errors.push((rel_err(got, want), what));
            }
        }
        eprintln!("kstwo_sf worst relative error: {}", worst(&errors));
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn smirnov_matches_scipy() {
        let golden = golden();
        let mut failures = Vec::new();
        let mut errors = Vec::new();
        for case in cases(&golden, "smirnov") {
            let (n, x, want) = (uint(case, "n"), float(case, "x"), float(case, "sf"));
            let got = smirnov_sf(n, x);
            let what = format!("n={n} x={x:e}");
            if !close(got, want) {
                failures.push(format!("{what}: got {got:e}, scipy {want:e}"));
            }
            if want.abs() > ABS_TOL {
                errors.push((rel_err(got, want), what));
            }
        }
        eprintln!("smirnov worst relative error: {}", worst(&errors));
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn ks_2samp_matches_scipy() {
        let golden = golden();
        let mut failures = Vec::new();
        let mut errors = Vec::new();
        for case in cases(&golden, "ks_2samp") {
            let (n1, n2, d) = (uint(case, "n1"), uint(case, "n2"), float(case, "d"));
            let (want_stat, want_p) = (float(case, "statistic"), float(case, "pvalue"));
            let (stat, p) = ks_2samp_two_sided(n1, n2, d);
            let what = format!("n1={n1} n2={n2} d={d:e} [{}]", case["mode"]);
            if rel_err(stat, want_stat) > 1e-12 {
                failures.push(format!("{what}: statistic {stat:e}, scipy {want_stat:e}"));
            }
            if !close(p, want_p) {
                failures.push(format!("{what}: p-value {p:e}, scipy {want_p:e}"));
            }
            if want_p.abs() > ABS_TOL {
                errors.push((rel_err(p, want_p), what));
            }
        }
        eprintln!("ks_2samp worst relative error: {}", worst(&errors));
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn golden_cases_reach_every_branch() {
        let golden = golden();
        let branches: std::collections::BTreeSet<&str> = cases(&golden, "kstwo_sf")
            .iter()
            .filter_map(|c| c["branch"].as_str())
            .collect();
        for expected in [
            "below_support",
            "above_support",
            "t_le_half",
            "ruben_gambino_small_n",
            "ruben_gambino_large_n",
            "ruben_gambino_upper",
            "smirnov_x_ge_half",
            "dmtw_small_n",
            "pomeranz",
            "smirnov_small_n",
            "zero_tail",
            "smirnov_large_n",
            "smirnov_asymptotic_n",
            "dmtw_large_n",
            "pelz_good",
        ] {
            assert!(branches.contains(expected), "no golden case for {expected}");
        }
        let modes: std::collections::BTreeSet<&str> = cases(&golden, "ks_2samp")
            .iter()
            .filter_map(|c| c["mode"].as_str())
            .collect();
        for expected in [
            "exact_square",
            "exact_inside",
            "exact_rejected_asymptotic",
            "asymptotic",
        ] {
            assert!(modes.contains(expected), "no golden case for {expected}");
        }
    }

    #[test]
    fn sample_order_does_not_matter() {
        for (n1, n2, d) in [(3, 7, 0.5), (37, 10_000, 0.2), (20_000, 15_000, 0.01)] {
            let forward = ks_2samp_two_sided(n1, n2, d);
            let backward = ks_2samp_two_sided(n2, n1, d);
            assert_eq!(forward.0, backward.0);
            assert!(close(forward.1, backward.1), "{forward:?} vs {backward:?}");
        }
    }

    #[test]
    fn degenerate_inputs() {
        assert!(ks_2samp_two_sided(0, 5, 0.5).1.is_nan());
        assert!(ks_2samp_two_sided(5, 5, f64::NAN).1.is_nan());
        assert!(ks_2samp_two_sided(5, 5, 1.5).1.is_nan());
        assert_eq!(ks_2samp_two_sided(4, 6, 0.0), (0.0, 1.0));
        assert!(kstwo_sf(0, 0.5).is_nan());
        assert!(kstwo_sf(10, f64::NAN).is_nan());
        assert_eq!(kstwo_sf(10, 0.0), 1.0);
        assert_eq!(kstwo_sf(10, 1.0), 0.0);
    }

    #[test]
    fn exact_p_values_of_tiny_samples() {
        // With n1 = 1, n2 = 2 the statistic is 1/2 (prob 1/3) or 1 (prob 2/3).
        assert!(close(ks_2samp_two_sided(1, 2, 0.5).1, 1.0));
        assert!(close(ks_2samp_two_sided(1, 2, 1.0).1, 2.0 / 3.0));
        // n1 = n2 = 2: D = 1 only when the samples do not interleave (2 of 6 orderings).
        assert!(close(ks_2samp_two_sided(2, 2, 1.0).1, 1.0 / 3.0));
    }
}
