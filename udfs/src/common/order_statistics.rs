//! Exact order statistics (the k-th smallest values) of a large sample without sorting it.
//!
//! Quantile bin edges need about twenty order statistics of the reference sample. Selecting them
//! one by one costs several passes over the data each; instead the counts of the values per
//! bucket of their top 18 key bits (`order_key::order_key`, whose order is the values' order;
//! `sample::Counted`) tell the bucket of every wanted rank and the rank's place inside it. One
//! pass gathers only the values of those buckets, and a selection inside each bucket gives the
//! exact value.

use super::bucket_passes::Gathered;
use super::sample::Counted;

/// Below this size plain selection is as fast.
const SMALL: usize = 200_000;

/// The values of rank `ranks[i]` (0-based, ascending order of value) in `values`, which may be
/// reordered. `ranks` must be sorted and within bounds.
pub(crate) fn order_statistics(values: &mut [f64], ranks: &[usize]) -> Vec<f64> {
    if values.len() < SMALL || values.len() > u32::MAX as usize {
        return by_selection(values, ranks);
    }
    counted_order_statistics(&Counted::of_slice(values), ranks)
}

/// The same for a counted sample.
pub(crate) fn counted_order_statistics(sample: &Counted, ranks: &[usize]) -> Vec<f64> {
    let located = RankBuckets::locate(&sample.counts, ranks);
    located.select(&mut sample.gather(&located.buckets))
}

/// The buckets that hold some wanted ranks of a counted sample, and each rank's place.
pub(crate) struct RankBuckets {
    /// Ascending and distinct.
    pub buckets: Vec<usize>,
    /// Per rank its bucket and its rank inside the bucket.
    located: Vec<(usize, usize)>,
}

impl RankBuckets {
    /// For `ranks`, sorted and within bounds, given the sample's bucket counts.
    pub(crate) fn locate(counts: &[u32], ranks: &[usize]) -> Self {
        let mut buckets: Vec<usize> = Vec::new();
        let mut located: Vec<(usize, usize)> = Vec::with_capacity(ranks.len());
        let mut below = 0usize;
        let mut next_rank = ranks.iter().peekable();
        for (bucket, &count) in counts.iter().enumerate() {
            let above = below + count as usize;
            while let Some(&&rank) = next_rank.peek() {
                if rank >= above {
                    break;
                }
                if buckets.last() != Some(&bucket) {
                    buckets.push(bucket);
                }
                located.push((bucket, rank - below));
                next_rank.next();
            }
            below = above;
        }
        Self { buckets, located }
    }

    /// The values at the ranks, given the gathered values of exactly [`RankBuckets::buckets`],
    /// which are reordered.
    pub(crate) fn select(&self, gathered: &mut Gathered) -> Vec<f64> {
        debug_assert_eq!(gathered.buckets, self.buckets);
        let mut results = Vec::with_capacity(self.located.len());
        let runs = self.located.chunk_by(|a, b| a.0 == b.0);
        for (run, values) in runs.zip(&mut gathered.values) {
            let local: Vec<usize> = run.iter().map(|&(_, rank)| rank).collect();
            results.extend(by_selection(values, &local));
        }
        results
    }
}

/// One selection per rank, each on the part of the slice above the previous rank.
fn by_selection(values: &mut [f64], ranks: &[usize]) -> Vec<f64> {
    let mut settled = 0;
    ranks
        .iter()
        .map(|&rank| {
            let (_, &mut value, _) =
                values[settled..].select_nth_unstable_by(rank - settled, f64::total_cmp);
            settled = rank;
            value
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(mut values: Vec<f64>, ranks: &[usize]) {
        let mut sorted = values.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        let expected: Vec<f64> = ranks.iter().map(|&rank| sorted[rank]).collect();
        assert_eq!(order_statistics(&mut values, ranks), expected);
    }

    #[test]
    fn exact_on_large_shuffled_sorted_and_tied_data() {
        let n = 1_000_000;
        let ranks: Vec<usize> = (1..10)
            .flat_map(|k| {
                let rank = (n - 1) * k / 10;
                [rank, rank + 1]
            })
            .collect();
        // a scrambled sequence, an already sorted one, and one with few distinct values
        let scrambled: Vec<f64> = (0..n).map(|i| ((i * 7_919) % n) as f64 * 0.5).collect();
        check(scrambled, &ranks);
        check((0..n).map(|i| i as f64).collect(), &ranks);
        check((0..n).map(|i| (i % 3) as f64).collect(), &ranks);
        // both signs and signed zeros, and values that all share one bucket of top key bits
        check(
            (0..n)
                .map(|i| match i % 4 {
                    0 => -((i * 31 % 1000) as f64),
                    1 => 0.0,
                    2 => -0.0,
                    _ => (i % 977) as f64 * 1e-3,
                })
                .collect(),
            &ranks,
        );
        check(
            (0..n)
                .map(|i| 1.0 + (i * 7_919 % n) as f64 * 1e-12)
                .collect(),
            &ranks,
        );
        check(vec![2.0, 1.0, 3.0], &[0, 1, 2]);
    }
}
