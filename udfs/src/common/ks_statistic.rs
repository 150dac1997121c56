//! The two-sample Kolmogorov–Smirnov statistic D = max |F_ref(x) − F_cur(x)| over the values x,
//! each CDF the share of its sample at or below x (scipy's `ks_2samp` statistic, bit for bit).
//!
//! Small samples are sorted and walked value by value. Large ones need not be sorted whole: the
//! samples' counts per bucket of 18 bits of their order key (`order_key`, which orders like the
//! values; see `sample`) give both CDFs exactly at every bucket boundary. Inside a bucket the
//! CDFs can only move by the bucket's own counts, which bounds |F_ref − F_cur| there; only the
//! buckets whose bound beats the best value so far are looked into, by the same method on the
//! next 16 key bits, and what remains is sorted and walked. The answer is the same as the
//! full walk's, and usually only a small share of the values is ever sorted.

use super::bucket_passes::{ChosenBuckets, bucket_counts, gather_by};
use super::order_key::{BUCKET_BITS, order_key};
use super::sample::{Sample, gather_pair, worth_counting_pair};
use super::{both, large_pair, sort_both};

/// A bucket with fewer values than this is sorted rather than split further.
const LEAF: usize = 4096;
/// How many times a bucket is split before what is left is sorted: first by the samples' own
/// bucket counts, then by the next 16 key bits.
const LEVELS: u32 = 2;
const SUB_BUCKET_BITS: u32 = 16;
const SUB_BUCKETS: usize = 1 << SUB_BUCKET_BITS;

/// The statistic of two non-empty samples.
pub(crate) fn ks_statistic(reference: &mut Sample, current: &mut Sample) -> f64 {
    let (n, m) = (reference.len(), current.len());
    let gap = |i: usize, j: usize| (i as f64 / n as f64 - j as f64 / m as f64).abs();
    if !worth_counting_pair(reference, current) {
        let (reference, current) = (reference.values_mut(), current.values_mut());
        sort_both(reference, current);
        return walk(reference, current, 0, 0, gap);
    }
    // The first split comes from the samples' own bucket counts.
    let (reference, current) = (reference.counted(), current.counted());
    let mut best = 0.0;
    let (buckets, belows) =
        candidate_buckets(&reference.counts, &current.counts, (0, 0), &gap, &mut best);
    let (reference, current) = gather_pair(&reference, &current, &buckets);
    let (reference, current) = (reference.values, current.values);
    for ((mut reference, mut current), below) in reference.into_iter().zip(current).zip(belows) {
        widest_gap(&mut reference, &mut current, below, 1, &gap, &mut best);
    }
    best
}

/// Raises `best` to the largest gap at the bucket boundaries given the counts of both samples
/// per bucket (with `below` values of each under the first bucket), and returns the buckets
/// inside which the gap may still be larger, each with the values of each sample below it.
fn candidate_buckets(
    in_reference: &[u32],
    in_current: &[u32],
    below: (usize, usize),
    gap: &impl Fn(usize, usize) -> f64,
    best: &mut f64,
) -> (Vec<usize>, Vec<(usize, usize)>) {
    // The gap at each boundary is the gap after the last value of the bucket below it.
    let (mut i, mut j) = below;
    for (&r, &c) in in_reference.iter().zip(in_current) {
        (i, j) = (i + r as usize, j + c as usize);
        *best = best.max(gap(i, j));
    }
    // Inside a bucket i runs from i0 to i1 and j from j0 to j1, so the gap is at most the larger
    // of |i0/n − j1/m| and |i1/n − j0/m| (rounding is monotone, so this holds in floating point).
    let (mut buckets, mut belows) = (Vec::new(), Vec::new());
    let (mut i, mut j) = below;
    for (bucket, (&r, &c)) in in_reference.iter().zip(in_current).enumerate() {
        let (i1, j1) = (i + r as usize, j + c as usize);
        if r as usize + c as usize > 1 && gap(i, j1).max(gap(i1, j)) > *best {
            buckets.push(bucket);
            belows.push((i, j));
        }
        (i, j) = (i1, j1);
    }
    (buckets, belows)
}

/// Raises `best` to the largest gap at the values of `reference` and `current`: the values of
/// one bucket of `level`, with `below` values of each sample under the bucket.
fn widest_gap(
    reference: &mut [f64],
    current: &mut [f64],
    below: (usize, usize),
    level: u32,
    gap: &impl Fn(usize, usize) -> f64,
    best: &mut f64,
) {
    if level == LEVELS || reference.len() + current.len() < LEAF {
        sort_both(reference, current);
        *best = best.max(walk(reference, current, below.0, below.1, gap));
        return;
    }
    let shift = 64 - BUCKET_BITS - SUB_BUCKET_BITS * level;
    let bucket = |value: f64| ((order_key(value) >> shift) as usize) & (SUB_BUCKETS - 1);
    let (in_reference, in_current) = both(
        large_pair(reference.len(), current.len()),
        || bucket_counts(reference, SUB_BUCKETS, bucket),
        || bucket_counts(current, SUB_BUCKETS, bucket),
    );
    let (buckets, belows) = candidate_buckets(&in_reference, &in_current, below, gap, best);
    let chosen = ChosenBuckets::<SUB_BUCKETS>::new(&buckets, |bucket| bucket);
    let sizes = |counts: &[u32]| -> Vec<usize> {
        buckets
            .iter()
            .map(|&bucket| counts[bucket] as usize)
            .collect()
    };
    let bucket_of_bits = |bits: u64| bucket(f64::from_bits(bits));
    let reference_parts = gather_by(reference, bucket_of_bits, &chosen, &sizes(&in_reference));
    let current_parts = gather_by(current, bucket_of_bits, &chosen, &sizes(&in_current));
    for ((mut reference, mut current), below) in
        reference_parts.into_iter().zip(current_parts).zip(belows)
    {
        widest_gap(&mut reference, &mut current, below, level + 1, gap, best);
    }
}

/// The largest gap at the distinct values of two sorted runs, starting from `i0` reference and
/// `j0` current values below them.
fn walk(
    reference: &[f64],
    current: &[f64],
    i0: usize,
    j0: usize,
    gap: impl Fn(usize, usize) -> f64,
) -> f64 {
    let (mut a, mut b) = (0usize, 0usize);
    let mut best: f64 = 0.0;
    while a < reference.len() || b < current.len() {
        let at = match (reference.get(a), current.get(b)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        while a < reference.len() && reference[a] <= at {
            a += 1;
        }
        while b < current.len() && current[b] <= at {
            b += 1;
        }
        best = best.max(gap(i0 + a, j0 + b));
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scrambled sample of `n` values: `spread` distinct levels, shifted and scaled.
    fn sample(n: usize, seed: usize, spread: usize, shift: f64, scale: f64) -> Vec<f64> {
        (0..n)
            .map(|i| ((i * 7_919 + seed) % spread) as f64 / spread as f64)
            .map(|u| shift + scale * (u - 0.5) * (1.0 + u))
            .collect()
    }

    /// The definition: the largest gap between the two CDFs at any value of either sample.
    fn by_definition(reference: &[f64], current: &[f64]) -> f64 {
        let (mut sorted_reference, mut sorted_current) = (reference.to_vec(), current.to_vec());
        sort_both(&mut sorted_reference, &mut sorted_current);
        let at_or_below = |sorted: &[f64], x: f64| sorted.partition_point(|&v| v <= x);
        let (n, m) = (reference.len() as f64, current.len() as f64);
        reference
            .iter()
            .chain(current)
            .map(|&x| {
                let i = at_or_below(&sorted_reference, x) as f64;
                let j = at_or_below(&sorted_current, x) as f64;
                (i / n - j / m).abs()
            })
            .fold(0.0, f64::max)
    }

    fn both_ways(reference: Vec<f64>, current: Vec<f64>) {
        let expected = by_definition(&reference, &current);
        let bucketed = ks_statistic(&mut reference.into(), &mut current.into());
        assert_eq!(
            bucketed.to_bits(),
            expected.to_bits(),
            "{bucketed} vs {expected}"
        );
    }

    #[test]
    fn bucketed_statistic_equals_the_definition() {
        // shifted, rescaled, heavily tied, of unequal sizes, and with both signs
        both_ways(
            sample(300_000, 1, 299_993, 0.0, 1.0),
            sample(250_000, 7, 249_989, 0.01, 1.1),
        );
        both_ways(
            sample(300_000, 3, 40, 0.0, 2.0),
            sample(200_000, 5, 37, 0.0, 2.0),
        );
        both_ways(
            sample(500_000, 11, 499_979, -3.0, 1e-6),
            sample(100, 13, 97, -3.0, 1e-6),
        );
        // identical samples: every bucket's bound is zero
        both_ways(
            sample(300_000, 1, 1000, 0.0, 1.0),
            sample(300_000, 1, 1000, 0.0, 1.0),
        );
    }

    #[test]
    fn small_samples_merge_after_sorting() {
        let statistic = |reference: Vec<f64>, current: Vec<f64>| {
            ks_statistic(&mut reference.into(), &mut current.into())
        };
        assert_eq!(statistic(vec![1.0, 2.0], vec![3.0, 4.0]), 1.0);
        assert_eq!(statistic(vec![1.0, 2.0], vec![2.0, 1.0]), 0.0);
        let (reference, current) = (
            sample(5_000, 1, 997, 0.0, 1.0),
            sample(300, 2, 89, 0.1, 1.0),
        );
        let expected = by_definition(&reference, &current);
        assert_eq!(statistic(reference, current), expected);
    }
}
