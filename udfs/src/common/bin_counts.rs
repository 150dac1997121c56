//! Counting values into the bins of sorted edges: a value v falls in bin `#{edges ≤ v}`
//! (`numpy.searchsorted(edges, v, side='right')`).
//!
//! Comparing every value with every edge costs a dozen instructions per value. A counted sample
//! (`sample::Counted`) needs no comparison for a bucket of top key bits that lies inside one
//! bin: its whole count goes to that bin. Only the values of the few buckets that an edge cuts
//! ([`cut_buckets`]) are compared, taken from buckets gathered already where possible.

use super::bucket_passes::{Gathered, added, for_each_chosen, in_halves};
use super::order_key::{BUCKET_BITS, bucket_bounds, key_bucket, order_key};
use super::sample::Counted;

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

/// The buckets of top key bits (ascending) whose values the sorted, distinct `edges` do not
/// all put in one bin. Comparisons take −0 and +0 as equal where the key order does not, so
/// an edge at zero cuts −0's bucket, whose lowest value lies below it.
pub(crate) fn cut_buckets(edges: &[f64]) -> Vec<usize> {
    let mut cut: Vec<usize> = edges
        .iter()
        .flat_map(|&edge| {
            let zero = (edge == 0.0).then(|| key_bucket(-0.0));
            std::iter::once(key_bucket(edge)).chain(zero)
        })
        .filter(|&bucket| {
            let (low, high) = bucket_bounds(bucket);
            bin_of(edges, low) != bin_of(edges, high)
        })
        .collect();
    cut.sort_unstable();
    cut.dedup();
    cut
}

/// The bin counts of a counted sample whose values are finite. The values of the buckets an
/// edge cuts come from `known` when it holds them all, else one pass counts them where they
/// lie.
pub(crate) fn counted_bin_counts(
    sample: &Counted,
    edges: &[f64],
    known: Option<&Gathered>,
) -> Vec<u64> {
    let cut: Vec<usize> = cut_buckets(edges)
        .into_iter()
        .filter(|&bucket| sample.counts[bucket] > 0)
        .collect();
    let mut counts = vec![0u64; edges.len() + 1];
    // Buckets and edges both in key order: a bucket no edge cuts lies above exactly the edges
    // at or below its lowest key (key and value order agree here: −0's bucket is cut by an edge
    // at zero, the only pair they disagree on).
    let edge_keys: Vec<u64> = edges.iter().map(|&edge| order_key(edge)).collect();
    let mut below = 0;
    let mut next_cut = cut.iter().copied().peekable();
    for (bucket, &count) in sample.counts.iter().enumerate() {
        // Every cut bucket holds values, so an empty one is never cut.
        if count == 0 || next_cut.next_if_eq(&bucket).is_some() {
            continue;
        }
        let lowest_key = (bucket as u64) << (64 - BUCKET_BITS);
        while edge_keys.get(below).is_some_and(|&key| key <= lowest_key) {
            below += 1;
        }
        counts[below] += u64::from(count);
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

/// The bin counts of the values in the `cut` buckets, counted in one pass (on two threads when
/// the sample is large) without gathering them.
fn count_cut_values(pieces: &[&[f64]], cut: &[usize], edges: &[f64]) -> Vec<u64> {
    if cut.is_empty() {
        return vec![0; edges.len() + 1];
    }
    let count = |pieces: &[&[f64]]| {
        let mut counts = vec![0u64; edges.len() + 1];
        for_each_chosen(pieces, cut, |_, value| counts[bin_of(edges, value)] += 1);
        counts
    };
    in_halves(pieces, count, added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::bucket_passes::{PARALLEL_PASS, count_and_gather};

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
    fn cut_buckets_gathered_in_the_counting_pass_bin_as_the_comparisons_do() {
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
            vec![1e-310],
            vec![],
        ] {
            let mut expected = vec![0u64; edges.len() + 1];
            for &value in &values {
                expected[bin_of(&edges, value)] += 1;
            }
            for pieces in [vec![&values[..]], values.chunks(1000).collect()] {
                let (counts, known) = count_and_gather(&pieces, &cut_buckets(&edges));
                let sample = Counted {
                    pieces,
                    counts: counts.into(),
                };
                assert_eq!(
                    counted_bin_counts(&sample, &edges, Some(&known)),
                    expected,
                    "{edges:?}"
                );
            }
        }
    }
}
