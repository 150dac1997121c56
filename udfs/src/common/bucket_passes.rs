//! Passes over a sample's values that count them per bucket of their order key (`order_key`)
//! or pick out the values of a few chosen buckets, on two threads when the sample is large.
//!
//! A pass costs a few operations per value, so every operation counts: the passes over whole
//! samples look their buckets up by raw bucket (`order_key::raw_bucket`, one shift per value)
//! and put what they found in key order once, afterwards. A chosen value is written to a
//! buffer at every step and kept by moving the buffer's end past it, because chosen values are
//! rare and unpredictable, and a branch on them would be mispredicted.

use super::both;
use super::order_key::{BUCKETS, key_of_raw, raw_bucket, raw_of_key};

/// From this many values on, [`in_halves`] splits a pass over two threads.
pub(crate) const PARALLEL_PASS: usize = 1 << 20;
/// Values per step of [`scan`]: one step's chosen values fit in L1.
const STEP: usize = 2048;

/// `pass` over the values (given in pieces), or when they are many, over each half of them on
/// its own thread, the two results put together by `join`.
pub(crate) fn in_halves<T: Send>(
    pieces: &[&[f64]],
    pass: impl Fn(&[&[f64]]) -> T + Sync,
    join: impl FnOnce(T, T) -> T,
) -> T {
    let total: usize = pieces.iter().map(|piece| piece.len()).sum();
    if total < PARALLEL_PASS {
        return pass(pieces);
    }
    let (mut first, mut second) = (Vec::new(), Vec::new());
    let mut seen = 0;
    for &piece in pieces {
        let split = (total / 2).saturating_sub(seen).min(piece.len());
        first.push(&piece[..split]);
        second.push(&piece[split..]);
        seen += piece.len();
    }
    let (first, second) = both(true, || pass(&first), || pass(&second));
    join(first, second)
}

/// Two halves' counts added up.
pub(crate) fn added<T: std::ops::AddAssign + Copy>(mut counts: Vec<T>, more: Vec<T>) -> Vec<T> {
    add_into(&mut counts, &more);
    counts
}

fn add_into<T: std::ops::AddAssign + Copy>(counts: &mut [T], more: &[T]) {
    for (count, &add) in counts.iter_mut().zip(more) {
        *count += add;
    }
}

/// How many of `values` (at most `u32::MAX`) fall in each of the `buckets` buckets that
/// `bucket` assigns.
pub(crate) fn bucket_counts(
    values: &[f64],
    buckets: usize,
    bucket: impl Fn(f64) -> usize,
) -> Vec<u32> {
    let mut counts = vec![0u32; buckets];
    for &value in values {
        counts[bucket(value)] += 1;
    }
    counts
}

/// A table of `N` entries on the heap. Its type carries its length, so that indexing it with a
/// value's top bits needs no bounds check in the passes' inner loops.
fn table<T: Copy, const N: usize>(fill: T) -> Box<[T; N]> {
    match vec![fill; N].into_boxed_slice().try_into() {
        Ok(table) => table,
        Err(_) => unreachable!("a vector of N entries converts to an array of N"),
    }
}

/// How many of the values (at most `u32::MAX`, given in pieces) fall in each bucket of top key
/// bits, in key order, counted on the calling thread.
pub(crate) fn count_buckets(pieces: &[&[f64]]) -> Vec<u32> {
    let mut by_raw = table::<u32, BUCKETS>(0);
    for piece in pieces {
        for &value in *piece {
            by_raw[raw_bucket(value.to_bits())] += 1;
        }
    }
    in_key_order(&by_raw)
}

/// A table indexed by raw bucket, put in key order.
fn in_key_order(by_raw: &[u32; BUCKETS]) -> Vec<u32> {
    let mut by_key = vec![0; BUCKETS];
    for (raw, &entry) in by_raw.iter().enumerate() {
        by_key[key_of_raw(raw)] = entry;
    }
    by_key
}

/// Some chosen buckets of a table of `N`: a flag byte per bucket, which the passes test with
/// one load (a bit would cost a shift and a mask more), and each chosen bucket's place among
/// them, looked up for the chosen values only.
pub(crate) struct ChosenBuckets<const N: usize> {
    flags: Box<[u8; N]>,
    places: Box<[u32; N]>,
}

impl<const N: usize> ChosenBuckets<N> {
    /// `chosen` numbered by `index`; a bucket's place is its position in `chosen`.
    pub(crate) fn new(chosen: &[usize], index: impl Fn(usize) -> usize) -> Self {
        let mut flags = table(0);
        let mut places = table(0);
        for (place, &bucket) in chosen.iter().enumerate() {
            flags[index(bucket)] = 1;
            places[index(bucket)] = place as u32;
        }
        Self { flags, places }
    }
}

impl ChosenBuckets<BUCKETS> {
    /// The chosen ones (ascending) of the buckets of top key bits, for passes by raw bucket.
    fn of_key_buckets(chosen: &[usize]) -> Self {
        Self::new(chosen, raw_of_key)
    }

    /// Every bucket of top key bits in the `ranges` (first and last bucket of each), all at
    /// place 0: their values are collected together.
    pub(crate) fn of_key_ranges(ranges: &[(usize, usize)]) -> Self {
        let mut flags = table(0);
        for &(first, last) in ranges {
            for bucket in first..=last {
                flags[raw_of_key(bucket)] = 1;
            }
        }
        Self {
            flags,
            places: table(0),
        }
    }
}

/// Calls `count(bucket)` for every value (given in pieces) and `hit(place, value)` for those
/// in a chosen bucket, in order; `bucket` numbers a value's bits by the table of `chosen`.
#[inline]
fn scan<const N: usize>(
    pieces: &[&[f64]],
    bucket: &impl Fn(u64) -> usize,
    chosen: &ChosenBuckets<N>,
    mut count: impl FnMut(usize),
    mut hit: impl FnMut(usize, f64),
) {
    let mut found_bits = [0u64; STEP];
    for step in pieces.iter().flat_map(|piece| piece.chunks(STEP)) {
        let mut found = 0;
        for &value in step {
            // Bits, not the double: the tests and stores stay in general registers.
            let bits = value.to_bits();
            let index = bucket(bits);
            count(index);
            // `found` never passes the values seen, so the mask only spares a bounds check.
            found_bits[found % STEP] = bits;
            found += usize::from(chosen.flags[index]);
        }
        for &bits in &found_bits[..found] {
            hit(chosen.places[bucket(bits)] as usize, f64::from_bits(bits));
        }
    }
}

/// Calls `hit(place, value)` for every value (given in pieces) in one of the `chosen` buckets of
/// top key bits (ascending), `place` the bucket's place among them.
pub(crate) fn for_each_chosen(pieces: &[&[f64]], chosen: &[usize], hit: impl FnMut(usize, f64)) {
    let chosen = ChosenBuckets::of_key_buckets(chosen);
    scan(pieces, &raw_bucket, &chosen, |_| {}, hit);
}

/// The values of some buckets of a sample, bucket by bucket.
#[derive(Debug)]
pub(crate) struct Gathered {
    /// Ascending and distinct.
    pub buckets: Vec<usize>,
    /// The values of each bucket, in the order of `buckets`.
    pub values: Vec<Vec<f64>>,
}

impl Gathered {
    pub(crate) fn of(&self, bucket: usize) -> Option<&[f64]> {
        let place = self.buckets.binary_search(&bucket).ok()?;
        Some(&self.values[place])
    }
}

/// The other half's values of each place appended to this one's.
fn appended(mut values: Vec<Vec<f64>>, rest: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    for (values, rest) in values.iter_mut().zip(rest) {
        values.extend_from_slice(&rest);
    }
    values
}

/// The values of the `chosen` buckets of top key bits (ascending, distinct), `sizes[place]` the
/// number of values each will hold when known (each vector gets room for its whole bucket:
/// where a half gathers only part of it, the pages never written cost nothing).
pub(crate) fn gather_on_this_thread(
    pieces: &[&[f64]],
    chosen: &[usize],
    sizes: Option<&[usize]>,
) -> Gathered {
    let mut values: Vec<Vec<f64>> = match sizes {
        Some(sizes) => sizes.iter().map(|&size| Vec::with_capacity(size)).collect(),
        None => vec![Vec::new(); chosen.len()],
    };
    if !chosen.is_empty() {
        let chosen = ChosenBuckets::of_key_buckets(chosen);
        values = collect_into(pieces, &raw_bucket, &chosen, values);
    }
    Gathered {
        buckets: chosen.to_vec(),
        values,
    }
}

/// [`gather_on_this_thread`] on two threads when the values are many.
pub(crate) fn gather(pieces: &[&[f64]], chosen: &[usize], sizes: Option<&[usize]>) -> Gathered {
    let values = in_halves(
        pieces,
        |pieces| gather_on_this_thread(pieces, chosen, sizes).values,
        appended,
    );
    Gathered {
        buckets: chosen.to_vec(),
        values,
    }
}

/// One pass that both counts the values per bucket of top key bits (in key order, as
/// [`count_buckets`]) and gathers the values of the `chosen` buckets, on two threads when the
/// values are many.
pub(crate) fn count_and_gather(pieces: &[&[f64]], chosen: &[usize]) -> (Vec<u32>, Gathered) {
    let (counts, values) =
        count_and_collect(pieces, &ChosenBuckets::of_key_buckets(chosen), chosen.len());
    let gathered = Gathered {
        buckets: chosen.to_vec(),
        values,
    };
    (counts, gathered)
}

/// One pass that counts the values per bucket of top key bits (in key order) and collects the
/// values of the `chosen` buckets by their places (of which there are `places`), on two threads
/// when the values are many.
pub(crate) fn count_and_collect(
    pieces: &[&[f64]],
    chosen: &ChosenBuckets<BUCKETS>,
    places: usize,
) -> (Vec<u32>, Vec<Vec<f64>>) {
    let (by_raw, values) = in_halves(
        pieces,
        |pieces| {
            let mut by_raw = table::<u32, BUCKETS>(0);
            let mut values = vec![Vec::new(); places];
            scan(
                pieces,
                &raw_bucket,
                chosen,
                |bucket| by_raw[bucket] += 1,
                |place, value| values[place].push(value),
            );
            (by_raw, values)
        },
        |(mut counts, values), (more, rest)| {
            add_into(&mut counts[..], &more[..]);
            (counts, appended(values, rest))
        },
    );
    (in_key_order(&by_raw), values)
}

/// The values of the `chosen` buckets by their places (of which there are `places`), collected
/// on the calling thread.
pub(crate) fn collect(
    pieces: &[&[f64]],
    chosen: &ChosenBuckets<BUCKETS>,
    places: usize,
) -> Vec<Vec<f64>> {
    collect_into(pieces, &raw_bucket, chosen, vec![Vec::new(); places])
}

/// `values` with the values (given in pieces) of the chosen buckets pushed onto those of their
/// places, on the calling thread; `bucket` numbers a value's bits by the table of `chosen`.
fn collect_into<const N: usize>(
    pieces: &[&[f64]],
    bucket: &impl Fn(u64) -> usize,
    chosen: &ChosenBuckets<N>,
    mut values: Vec<Vec<f64>>,
) -> Vec<Vec<f64>> {
    scan(
        pieces,
        bucket,
        chosen,
        |_| {},
        |place, value| values[place].push(value),
    );
    values
}

/// The values of `values` in the chosen buckets of a table of `N` that `bucket` assigns to
/// their bits (`ks_statistic`'s finer levels), one vector per chosen bucket, `sizes[place]` how
/// many values each will hold.
pub(crate) fn gather_by<const N: usize>(
    values: &[f64],
    bucket: impl Fn(u64) -> usize,
    chosen: &ChosenBuckets<N>,
    sizes: &[usize],
) -> Vec<Vec<f64>> {
    let gathered: Vec<Vec<f64>> = sizes.iter().map(|&size| Vec::with_capacity(size)).collect();
    if sizes.is_empty() {
        return gathered;
    }
    collect_into(&[values], &bucket, chosen, gathered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::order_key::key_bucket;

    fn scrambled() -> Vec<f64> {
        (0..PARALLEL_PASS + 12_345)
            .map(|i| ((i * 7_919) % 100_003) as f64 - 50_000.0)
            .chain([0.0, -0.0, f64::MAX, -f64::MAX, 5e-324, f64::NAN])
            .collect()
    }

    fn by_definition(values: &[f64], bucket: usize) -> Vec<f64> {
        values
            .iter()
            .copied()
            .filter(|&value| key_bucket(value) == bucket)
            .collect()
    }

    #[test]
    fn counts_are_in_key_order() {
        let values = scrambled();
        let pieces: Vec<&[f64]> = values.chunks(100_000).collect();
        let expected = bucket_counts(&values, BUCKETS, key_bucket);
        assert_eq!(count_buckets(&pieces), expected);
        assert_eq!(count_and_gather(&pieces, &[]).0, expected);
    }

    #[test]
    fn gathering_on_two_threads_keeps_every_value_of_the_chosen_buckets_in_order() {
        let values = scrambled();
        let pieces: Vec<&[f64]> = values.chunks(100_000).collect();
        let mut chosen = vec![
            key_bucket(-3.0),
            key_bucket(-0.0),
            key_bucket(0.0),
            key_bucket(40_000.0),
        ];
        chosen.sort_unstable();
        let counts = bucket_counts(&values, BUCKETS, key_bucket);
        let sizes: Vec<usize> = chosen.iter().map(|&b| counts[b] as usize).collect();
        let gathered = gather(&pieces, &chosen, Some(&sizes));
        let (counted, fused) = count_and_gather(&pieces, &chosen);
        assert_eq!(counted, counts);
        for (place, &bucket) in chosen.iter().enumerate() {
            let expected = by_definition(&values, bucket);
            assert!(!expected.is_empty());
            assert_eq!(gathered.of(bucket), Some(&expected[..]), "bucket {bucket}");
            assert_eq!(fused.values[place], expected, "bucket {bucket}");
        }
        assert_eq!(gathered.of(key_bucket(1.5)), None);
    }

    #[test]
    fn gathering_by_another_numbering_uses_its_places() {
        const TEN: usize = 10;
        let values: Vec<f64> = (0..10_000).map(|i| (i % 97) as f64).collect();
        let bucket = |bits: u64| f64::from_bits(bits) as usize % TEN;
        let chosen = [3, 7];
        let sizes = [970, 970];
        let gathered = gather_by(
            &values,
            bucket,
            &ChosenBuckets::<TEN>::new(&chosen, |b| b),
            &sizes,
        );
        for (place, &wanted) in chosen.iter().enumerate() {
            let expected: Vec<f64> = values
                .iter()
                .copied()
                .filter(|&value| bucket(value.to_bits()) == wanted)
                .collect();
            assert_eq!(gathered[place], expected);
        }
    }
}
