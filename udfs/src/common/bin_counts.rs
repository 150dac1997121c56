//! Counting values into the bins of sorted edges: a value v falls in bin `#{edges ≤ v}`
//! (`numpy.searchsorted(edges, v, side='right')`).
//!
//! Comparing every value with every edge costs a dozen instructions per value. A counted sample
//! (`sample::Counted`) needs no comparison for a bucket of top key bits that lies inside one
//! bin: its whole count goes to that bin. Only the values of the few buckets that an edge cuts
//! are compared, taken from buckets gathered already where possible.

use super::order_key::{
    BUCKETS, ChosenBuckets, NON_FINITE_AT_EACH_END, added, bucket_bounds, for_each_chosen,
    in_halves, key_bucket,
};
use super::sample::{Counted, Gathered};

/// Below this many values counting buckets costs more than it saves.
const COUNTED_MIN: usize = 100_000;
/// Up to this many edges a branch-free scan beats a binary search.
const SCANNED_EDGES: usize = 32;

fn bin_of(edges: &[f64], value: f64) -> usize {
    if edges.len() <= SCANNED_EDGES {
        edges.iter().map(|edge| usize::from(*edge <= value)).sum()
    } else {
        edges.partition_point(|edge| *edge <= value)
    }
}

/// How many of the finite `values` fall in each of the `edges.len() + 1` bins.
pub(crate) fn bin_counts(edges: &[f64], values: &[f64]) -> Vec<u64> {
    if values.len() < COUNTED_MIN || values.len() > u32::MAX as usize {
        let mut counts = vec![0u64; edges.len() + 1];
        for &value in values {
            counts[bin_of(edges, value)] += 1;
        }
        return counts;
    }
    counted_bin_counts(&Counted::of_slice(values), edges, None)
}

/// The bin counts of a counted sample. The values of the buckets an edge cuts come from `known`
/// when it holds them all, else one pass counts them where they lie.
pub(crate) fn counted_bin_counts(
    sample: &Counted,
    edges: &[f64],
    known: Option<&Gathered>,
) -> Vec<u64> {
    let mut counts = vec![0u64; edges.len() + 1];
    let mut cut = Vec::new();
    for (bucket, &count) in sample.counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        // The bin is monotone in the value, so a bucket whose lowest and highest values share a
        // bin holds only values of that bin.
        let (low, high) = bucket_bounds(bucket);
        let bin = bin_of(edges, low);
        if bin == bin_of(edges, high) {
            counts[bin] += u64::from(count);
        } else {
            cut.push(bucket);
        }
    }
    match known.filter(|known| cut.iter().all(|&bucket| known.of(bucket).is_some())) {
        Some(known) => {
            for &bucket in &cut {
                for &value in known.of(bucket).unwrap_or_default() {
                    counts[bin_of(edges, value)] += 1;
                }
            }
        }
        None => {
            let cut_counts = count_cut_values(&sample.pieces, &cut, edges);
            for (count, add) in counts.iter_mut().zip(cut_counts) {
                *count += add;
            }
        }
    }
    counts
}

/// Marks, in [`bin_through_buckets`]'s table, a bucket that an edge cuts and one of NaN and ±∞.
const CUT: u16 = u16::MAX;
const NON_FINITE: u16 = u16::MAX - 1;

/// How many of `values` (given in pieces, on two threads when they are many) fall in each of the
/// `edges.len() + 1` bins (at most 10001), or the first non-finite value. A table gives each
/// bucket of top key bits its bin, so a value costs one lookup as it does when its bucket is
/// counted; only the values of the few buckets an edge cuts are compared with the edges.
pub(crate) fn bin_through_buckets(pieces: &[&[f64]], edges: &[f64]) -> Result<Vec<u64>, f64> {
    let mut bin_of_bucket = vec![0u16; BUCKETS];
    let edge_buckets: Vec<usize> = edges.iter().map(|&edge| key_bucket(edge)).collect();
    let mut passed = 0;
    for (bucket, bin) in bin_of_bucket.iter_mut().enumerate() {
        let below = passed;
        while passed < edge_buckets.len() && edge_buckets[passed] == bucket {
            passed += 1;
        }
        *bin = if passed > below { CUT } else { below as u16 };
    }
    // Comparisons take −0 and +0 as equal where the key order does not: an edge at zero cuts
    // the buckets of both.
    if edges.contains(&0.0) {
        bin_of_bucket[key_bucket(-0.0)] = CUT;
        bin_of_bucket[key_bucket(0.0)] = CUT;
    }
    bin_of_bucket[..NON_FINITE_AT_EACH_END].fill(NON_FINITE);
    bin_of_bucket[BUCKETS - NON_FINITE_AT_EACH_END..].fill(NON_FINITE);
    let count = |pieces: &[&[f64]]| {
        let mut counts = vec![0u64; edges.len() + 1];
        for piece in pieces {
            for &value in *piece {
                let bin = bin_of_bucket[key_bucket(value)];
                if bin < NON_FINITE {
                    counts[usize::from(bin)] += 1;
                } else if bin == CUT {
                    counts[bin_of(edges, value)] += 1;
                } else {
                    return Err(value);
                }
            }
        }
        Ok(counts)
    };
    in_halves(pieces, count, |first, second| Ok(added(first?, second?)))
}

/// The bin counts of the values in the `cut` buckets, counted in one pass (on two threads when
/// the sample is large) without gathering them.
fn count_cut_values(pieces: &[&[f64]], cut: &[usize], edges: &[f64]) -> Vec<u64> {
    if cut.is_empty() {
        return vec![0; edges.len() + 1];
    }
    let chosen = ChosenBuckets::of(cut, BUCKETS);
    let count = |pieces: &[&[f64]]| {
        let mut counts = vec![0u64; edges.len() + 1];
        for piece in pieces {
            for_each_chosen(piece, &key_bucket, &chosen, |value| {
                counts[bin_of(edges, value)] += 1
            });
        }
        counts
    };
    in_halves(pieces, count, added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::order_key::PARALLEL_PASS;

    #[test]
    fn counting_by_bucket_counts_as_the_comparisons_do() {
        let n: usize = 300_000;
        let values: Vec<f64> = (0..n)
            .map(|i| {
                ((i * 7_919 % n) as f64 - 150_000.0) * 1e-3 * if i % 7 == 0 { 1e5 } else { 1.0 }
            })
            .chain([0.0, -0.0, 1.0, -1.0, f64::MAX, -f64::MAX, 5e-324])
            .collect();
        // edges on values, between them, around zero, and far out
        for edges in [
            vec![-1.0, -0.0, 0.5, 1.0, 1.0000000000000002, 100.0],
            vec![-1e300, 5e-324, 1e300],
            vec![0.0],
            vec![],
        ] {
            let mut expected = vec![0u64; edges.len() + 1];
            for &value in &values {
                expected[bin_of(&edges, value)] += 1;
            }
            assert_eq!(bin_counts(&edges, &values), expected, "{edges:?}");
        }
    }

    #[test]
    fn a_large_sample_counts_its_cut_buckets_on_two_threads() {
        let n = PARALLEL_PASS + 4_321;
        let values: Vec<f64> = (0..n)
            .map(|i| ((i * 7_919) % n) as f64 * 1e-4 - 50.0)
            .collect();
        let pieces: Vec<&[f64]> = values.chunks(300_000).collect();
        let edges = [-12.34567, 0.0, 0.1, 33.3];
        let sample = Counted {
            pieces,
            counts: Counted::of_slice(&values).counts,
        };
        let mut expected = vec![0u64; edges.len() + 1];
        for &value in &values {
            expected[bin_of(&edges, value)] += 1;
        }
        assert_eq!(counted_bin_counts(&sample, &edges, None), expected);
    }

    #[test]
    fn binning_through_buckets_counts_as_the_comparisons_do_and_finds_non_finite_values() {
        let n = PARALLEL_PASS + 777;
        let values: Vec<f64> = (0..n)
            .map(|i| ((i * 7_919) % n) as f64 * 1e-4 - 50.0)
            .chain([0.0, -0.0, 1e-310, -1e-310, f64::MAX, -f64::MAX])
            .collect();
        for edges in [
            vec![-12.34567, -0.0, 0.0, 0.1, 33.3],
            vec![-0.0, 1.0],
            vec![-1.0, 0.0],
            vec![-1.0, 1.0000000000000002],
            vec![],
        ] {
            let mut expected = vec![0u64; edges.len() + 1];
            for &value in &values {
                expected[bin_of(&edges, value)] += 1;
            }
            for pieces in [vec![&values[..]], values.chunks(1000).collect()] {
                assert_eq!(bin_through_buckets(&pieces, &edges), Ok(expected.clone()));
            }
        }
        for bad in [f64::NAN, -f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for at in [3, n - 3] {
                let mut with_bad = values.clone();
                with_bad[at] = bad;
                let found = bin_through_buckets(&[&with_bad], &[0.0]).expect_err("refused");
                assert_eq!(found.to_bits(), bad.to_bits());
            }
        }
    }
}
