//! Exact order statistics (the k-th smallest values) of a large sample without sorting it.
//!
//! Quantile bin edges need about twenty order statistics of the reference sample. Selecting them
//! one by one costs several passes over the data; instead a sorted sample brackets each wanted
//! rank, one pass counts the values below each bracket and gathers the values inside it, and the
//! small brackets are sorted (Floyd & Rivest's idea). A rank that falls outside its bracket —
//! possible only for adversarially ordered data — is found by plain selection, so the answer is
//! always exact.

/// Below this size plain selection is as fast.
const SMALL: usize = 200_000;

/// The values of rank `ranks[i]` (0-based, ascending order of value) in `values`, which may be
/// reordered. `ranks` must be sorted and within bounds.
pub(crate) fn order_statistics(values: &mut [f64], ranks: &[usize]) -> Vec<f64> {
    if values.len() < SMALL {
        return by_selection(values, ranks);
    }
    let n = values.len();
    let sample_size = (n / 16).max(SMALL / 16);
    let stride = n / sample_size;
    let mut sample: Vec<f64> = values.iter().step_by(stride).copied().collect();
    sample.sort_unstable_by(f64::total_cmp);
    let m = sample.len();
    // The sample rank of a value of rank r has standard deviation ≤ ½√m: six of them each side.
    let margin = 3 * (m as f64).sqrt() as usize + 1;
    let mut brackets: Vec<(f64, f64)> = Vec::new();
    for &rank in ranks {
        let centre = rank * m / n;
        let low = centre
            .checked_sub(margin)
            .map_or(f64::NEG_INFINITY, |index| sample[index]);
        let high = sample
            .get(centre + margin)
            .copied()
            .unwrap_or(f64::INFINITY);
        match brackets.last_mut() {
            Some(last) if low <= last.1 => last.1 = last.1.max(high),
            _ => brackets.push((low, high)),
        }
    }
    let highs: Vec<f64> = brackets.iter().map(|bracket| bracket.1).collect();
    // below[j]: values below bracket j that lie in no bracket; inside[j]: values in bracket j.
    let mut below = vec![0usize; brackets.len() + 1];
    let mut inside: Vec<Vec<f64>> = vec![Vec::new(); brackets.len()];
    for &value in values.iter() {
        let j = highs.partition_point(|&high| high < value);
        if j < brackets.len() && value >= brackets[j].0 {
            inside[j].push(value);
        } else {
            below[j] += 1;
        }
    }
    for bracket in &mut inside {
        bracket.sort_unstable_by(f64::total_cmp);
    }
    let mut results = Vec::with_capacity(ranks.len());
    for &rank in ranks {
        let mut smaller = 0;
        let mut found = None;
        for (j, bracket) in inside.iter().enumerate() {
            smaller += below[j];
            if rank < smaller {
                break;
            }
            if rank < smaller + bracket.len() {
                found = Some(bracket[rank - smaller]);
                break;
            }
            smaller += bracket.len();
        }
        results.push(match found {
            Some(value) => value,
            None => *values.select_nth_unstable_by(rank, f64::total_cmp).1,
        });
    }
    results
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
        // periodic data defeats a strided sample: the fallback keeps the answer exact
        check(
            (0..n)
                .map(|i| if i % 16 == 0 { 1e9 } else { i as f64 })
                .collect(),
            &ranks,
        );
        check(vec![2.0, 1.0, 3.0], &[0, 1, 2]);
    }
}
