//! Counting values into the bins of sorted edges: a value v falls in bin `#{edges ≤ v}`
//! (`numpy.searchsorted(edges, v, side='right')`).
//!
//! Comparing every value with every edge costs a dozen instructions per value. For large
//! samples a table over the top 16 bits of each value's order key (`order_key::order_key`,
//! which orders like the values) answers directly for every key bucket that lies inside one
//! bin; only values in the few buckets that an edge cuts are compared with the edges.

use super::order_key::{BUCKET_BITS, BUCKETS, from_order_key, key_bucket};

/// Below this many values the table costs more than it saves.
const TABLE_MIN: usize = 100_000;
const CUT: u16 = u16::MAX;

fn bin_of(edges: &[f64], value: f64) -> usize {
    edges.iter().map(|edge| usize::from(*edge <= value)).sum()
}

/// How many of the finite `values` fall in each of the `edges.len() + 1` bins.
pub(crate) fn bin_counts(edges: &[f64], values: &[f64]) -> Vec<u64> {
    let mut counts = vec![0u64; edges.len() + 1];
    if values.len() < TABLE_MIN || edges.len() >= usize::from(CUT) {
        for &value in values {
            counts[bin_of(edges, value)] += 1;
        }
        return counts;
    }
    // The bin is monotone in the value, so a bucket whose lowest and highest keys share a bin
    // holds only values of that bin. (Buckets of NaN bit patterns hold no finite value.)
    let span = 1u64 << (64 - BUCKET_BITS);
    let table: Vec<u16> = (0..BUCKETS as u64)
        .map(|bucket| {
            let low = bin_of(edges, from_order_key(bucket * span));
            let high = bin_of(edges, from_order_key(bucket * span + (span - 1)));
            if low == high { low as u16 } else { CUT }
        })
        .collect();
    for &value in values {
        let bin = table[key_bucket(value)];
        let bin = if bin == CUT {
            bin_of(edges, value)
        } else {
            usize::from(bin)
        };
        counts[bin] += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_counts_as_the_comparisons_do() {
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
}
