//! Exact order statistics (the k-th smallest values) of a large sample without sorting it.
//!
//! Quantile bin edges need about twenty order statistics of the reference sample. Selecting them
//! one by one costs several passes over the data each; instead the counts of the values per
//! bucket of their top 18 key bits (`order_key::order_key`, whose order is the values' order;
//! `sample::Counted`) tell the bucket of every wanted rank and the rank's place inside it. One
//! pass gathers only the values of those buckets, and a selection inside each bucket gives the
//! exact value.

use super::bucket_passes::{Gathered, PARALLEL_PASS};
use super::order_key::BUCKETS;
use super::sample::Counted;

/// Below this size plain selection is as fast.
const SMALL: usize = 200_000;
/// Samples at least this large find the buckets of their ranks in the pass that counts them
/// (`sample::Sample::gather_ranks`), guided by a part of them counted first.
pub(crate) const GUIDED_FROM: usize = PARALLEL_PASS;
/// The guide: every `GUIDE_EVERY`th block of `GUIDE_BLOCK` values, a sixteenth of the sample
/// spread over all of it.
const GUIDE_BLOCK: usize = 4096;
const GUIDE_EVERY: usize = 16;
/// How far the buckets gathered around a rank reach on either side of the guide's estimate of
/// it, in standard deviations of that estimate: 5 misses about once in two million ranks on
/// well-mixed data.
const GUIDE_REACH: f64 = 5.0;

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

/// The guide of a sample given in pieces (every `GUIDE_EVERY`th block of `GUIDE_BLOCK` values),
/// and the rest, as runs of whole blocks.
pub(crate) fn guide_and_rest<'a>(pieces: &[&'a [f64]]) -> (Vec<&'a [f64]>, Vec<&'a [f64]>) {
    let (mut guide, mut rest) = (Vec::new(), Vec::new());
    let mut block = 0;
    for &piece in pieces {
        let mut start = 0;
        while start < piece.len() {
            let before_guide = (GUIDE_EVERY - block % GUIDE_EVERY) % GUIDE_EVERY;
            let (blocks, part) = if before_guide == 0 {
                (1, &mut guide)
            } else {
                (before_guide, &mut rest)
            };
            let end = piece.len().min(start + blocks * GUIDE_BLOCK);
            part.push(&piece[start..end]);
            block += (end - start).div_ceil(GUIDE_BLOCK);
            start = end;
        }
    }
    (guide, rest)
}

/// Ranges of buckets (first and last, ascending and apart) that likely hold the values of
/// `ranks` (sorted) in a sample of `len` values, judged from the bucket counts of its guide.
/// Each reaches [`GUIDE_REACH`] standard deviations of the guide's estimate on either side of
/// it, and to the end of the buckets where that passes an end of the guide.
pub(crate) fn likely_ranges(
    guide_counts: &[u32],
    len: usize,
    ranks: &[usize],
) -> Vec<(usize, usize)> {
    let mut through = Vec::with_capacity(guide_counts.len());
    let mut guide_len = 0u64;
    for &count in guide_counts {
        guide_len += u64::from(count);
        through.push(guide_len);
    }
    if guide_len == 0 || len < 2 {
        return vec![(0, BUCKETS - 1)];
    }
    let holding = |rank: f64| through.partition_point(|&upto| (upto as f64) <= rank);
    let (last, guide_last) = ((len - 1) as f64, (guide_len - 1) as f64);
    let mut ranges: Vec<(usize, usize)> = ranks
        .iter()
        .map(|&rank| {
            let share = rank as f64 / last;
            let reach = GUIDE_REACH * (share * (1.0 - share) * guide_len as f64).sqrt() + 1.0;
            let centre = share * guide_last;
            let first = if centre - reach <= 0.0 {
                0
            } else {
                holding((centre - reach).floor())
            };
            let last = if centre + reach >= guide_last {
                BUCKETS - 1
            } else {
                holding((centre + reach).ceil())
            };
            (first, last)
        })
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (first, last) in ranges {
        match merged.last_mut() {
            Some(previous) if first <= previous.1 + 1 => previous.1 = previous.1.max(last),
            _ => merged.push((first, last)),
        }
    }
    merged
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

    #[test]
    fn the_guide_is_every_sixteenth_block_and_the_rest_is_everything_else() {
        let values: Vec<f64> = (0..300_000).map(|i| i as f64).collect();
        // pieces of odd sizes, one shorter than a block
        let pieces: Vec<&[f64]> = vec![
            &values[..70_001],
            &values[70_001..71_000],
            &values[71_000..],
        ];
        let (guide, rest) = guide_and_rest(&pieces);
        assert_eq!(guide[0], &values[..GUIDE_BLOCK]);
        assert!(guide.iter().all(|block| block.len() <= GUIDE_BLOCK));
        let mut seen: Vec<f64> = guide
            .iter()
            .chain(&rest)
            .flat_map(|part| part.iter().copied())
            .collect();
        seen.sort_by(f64::total_cmp);
        assert_eq!(seen, values);
        // blocks 0 and 16 of the first piece, then blocks 32, 48 and 64 counted on through the
        // short second piece (a partial block counts as one)
        let guided: usize = guide.iter().map(|block| block.len()).sum();
        assert_eq!(guided, 5 * GUIDE_BLOCK);
    }

    #[test]
    fn likely_ranges_reach_around_the_guides_estimate_and_to_the_ends() {
        // a guide of 10000 values, 100 in each of the buckets 1000..1100
        let mut guide = vec![0u32; BUCKETS];
        guide[1000..1100].fill(100);
        // the median: guide rank ~5000 ± 5·√(0.25·10000) + 1 = 251 → buckets 1047..=1052
        assert_eq!(likely_ranges(&guide, 1_000_001, &[500_000]), [(1047, 1052)]);
        // the ends reach to the ends of the buckets; close ranks merge
        assert_eq!(
            likely_ranges(&guide, 1_000_001, &[0, 500_000, 500_001, 1_000_000]),
            [(0, 1000), (1047, 1052), (1099, BUCKETS - 1)]
        );
    }
}
