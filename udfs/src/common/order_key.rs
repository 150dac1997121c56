//! Doubles as unsigned keys whose integer order is `f64::total_cmp`'s order, so that the top
//! bits of a key name a bucket of values: the radix buckets of `order_statistics` and
//! `bin_counts`.

use super::both;

/// The value's bits, reordered: negative values have all bits flipped, non-negative ones the
/// sign bit set.
#[inline]
pub(crate) fn order_key(value: f64) -> u64 {
    let bits = value.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// How many leading key bits name a sample's bucket: 262144 buckets, a table of counts (1 MiB)
/// that stays in L2, and fine enough that the buckets an order statistic needs hold a small
/// share of a sample (with 16 bits, four times as many values were gathered and selected in).
pub(crate) const BUCKET_BITS: u32 = 18;
pub(crate) const BUCKETS: usize = 1 << BUCKET_BITS;
/// The buckets of NaN and ±∞ (every key with all exponent bits set) are the lowest and the
/// highest this many: as many as the bits after the sign and the 11 exponent bits tell apart.
pub(crate) const NON_FINITE_AT_EACH_END: usize = 1 << (BUCKET_BITS - 12);

/// The bucket of a value: the top bits of its key, so buckets are ordered like their values.
#[inline]
pub(crate) fn key_bucket(value: f64) -> usize {
    (order_key(value) >> (64 - BUCKET_BITS)) as usize
}

/// How many of `values` (at most `u32::MAX`) fall in each of the `buckets` buckets that
/// `bucket` assigns.
pub(crate) fn bucket_counts(
    values: &[f64],
    buckets: usize,
    bucket: impl Fn(f64) -> usize,
) -> Vec<u32> {
    let mut counts = vec![0u32; buckets];
    count_into(&mut counts, values, bucket);
    counts
}

/// Adds `values` to the bucket counts in `counts`.
pub(crate) fn count_into(counts: &mut [u32], values: &[f64], bucket: impl Fn(f64) -> usize) {
    for &value in values {
        counts[bucket(value)] += 1;
    }
}

/// Marks a bucket that [`gather_buckets`] leaves out.
pub(crate) const LEFT_OUT: u32 = u32::MAX;

/// The `slot` table of [`gather_buckets`] for the `chosen` ones of `buckets` buckets, in their
/// order.
pub(crate) fn bucket_slots(chosen: &[usize], buckets: usize) -> Vec<u32> {
    let mut slot = vec![LEFT_OUT; buckets];
    for (place, &bucket) in chosen.iter().enumerate() {
        slot[bucket] = place as u32;
    }
    slot
}

/// Values per step of [`for_each_chosen`]: the positions of one step's hits fit in L1.
const STEP: usize = 2048;
/// From this many values on, [`in_halves`] splits a pass over two threads.
pub(crate) const PARALLEL_PASS: usize = 1 << 20;

/// The `chosen` ones of `buckets` buckets as one bit each, which stays in L1 where a table of
/// slots would not.
pub(crate) struct ChosenBuckets(Vec<u64>);

impl ChosenBuckets {
    pub(crate) fn of(chosen: &[usize], buckets: usize) -> Self {
        let mut bits = vec![0u64; buckets.div_ceil(64)];
        for &bucket in chosen {
            bits[bucket / 64] |= 1 << (bucket % 64);
        }
        Self(bits)
    }

    #[inline]
    fn has(&self, bucket: usize) -> bool {
        (self.0[bucket / 64] >> (bucket % 64)) & 1 == 1
    }
}

/// Calls `hit` with every value of `piece` whose bucket is chosen, in order. The positions of
/// the hits are listed first without branching, because hits are rare and unpredictable.
pub(crate) fn for_each_chosen(
    piece: &[f64],
    bucket: &impl Fn(f64) -> usize,
    chosen: &ChosenBuckets,
    mut hit: impl FnMut(f64),
) {
    let mut hits = [0u16; STEP];
    for step in piece.chunks(STEP) {
        let mut found = 0;
        for (position, &value) in step.iter().enumerate() {
            // `found` never passes `position`, so the mask only spares a bounds check.
            hits[found % STEP] = position as u16;
            found += usize::from(chosen.has(bucket(value)));
        }
        for &position in &hits[..found] {
            hit(step[usize::from(position)]);
        }
    }
}

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
    for (count, add) in counts.iter_mut().zip(more) {
        *count += add;
    }
    counts
}

/// The values (given in pieces) of the chosen buckets, one vector per choice: `slot[bucket]` is
/// the bucket's place among the chosen ones (or [`LEFT_OUT`]), `sizes[place]` how many values it
/// will hold. Large inputs are split over two threads.
pub(crate) fn gather_buckets(
    pieces: &[&[f64]],
    bucket: impl Fn(f64) -> usize + Sync,
    slot: &[u32],
    sizes: &[usize],
) -> Vec<Vec<f64>> {
    in_halves(
        pieces,
        |pieces| gather_on_this_thread(pieces, &bucket, slot, sizes),
        |mut gathered, rest| {
            for (values, rest) in gathered.iter_mut().zip(rest) {
                values.extend_from_slice(&rest);
            }
            gathered
        },
    )
}

/// [`gather_buckets`] in one pass on the calling thread. Each vector has room for its whole
/// bucket: where only part of the values is gathered, the pages never written cost nothing.
pub(crate) fn gather_on_this_thread(
    pieces: &[&[f64]],
    bucket: &impl Fn(f64) -> usize,
    slot: &[u32],
    sizes: &[usize],
) -> Vec<Vec<f64>> {
    let mut gathered: Vec<Vec<f64>> = sizes.iter().map(|&size| Vec::with_capacity(size)).collect();
    if sizes.is_empty() {
        return gathered;
    }
    let chosen_buckets: Vec<usize> = (0..slot.len())
        .filter(|&bucket| slot[bucket] != LEFT_OUT)
        .collect();
    let chosen = ChosenBuckets::of(&chosen_buckets, slot.len());
    for piece in pieces {
        for_each_chosen(piece, bucket, &chosen, |value| {
            gathered[slot[bucket(value)] as usize].push(value)
        });
    }
    gathered
}

/// The lowest and the highest value whose key lies in `bucket` (of the top [`BUCKET_BITS`]).
pub(crate) fn bucket_bounds(bucket: usize) -> (f64, f64) {
    let span = 1u64 << (64 - BUCKET_BITS);
    let low = bucket as u64 * span;
    (from_order_key(low), from_order_key(low + (span - 1)))
}

/// The value whose key is `key`.
#[inline]
pub(crate) fn from_order_key(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathering_on_two_threads_keeps_every_value_of_the_chosen_buckets() {
        let values: Vec<f64> = (0..PARALLEL_PASS + 12_345)
            .map(|i| ((i * 7_919) % 100_003) as f64 - 50_000.0)
            .collect();
        let pieces: Vec<&[f64]> = values.chunks(100_000).collect();
        let chosen = [key_bucket(-3.0), key_bucket(0.0), key_bucket(40_000.0)];
        let slot = bucket_slots(&chosen, BUCKETS);
        let counts = bucket_counts(&values, BUCKETS, key_bucket);
        let sizes: Vec<usize> = chosen.iter().map(|&b| counts[b] as usize).collect();
        let gathered = gather_buckets(&pieces, key_bucket, &slot, &sizes);
        for (place, &bucket) in chosen.iter().enumerate() {
            let expected: Vec<f64> = values
                .iter()
                .copied()
                .filter(|&value| key_bucket(value) == bucket)
                .collect();
            assert_eq!(gathered[place], expected, "bucket {bucket}");
        }
    }

    #[test]
    fn keys_order_like_total_cmp_and_round_trip() {
        let values = [
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -0.0,
            0.0,
            1e-310,
            3.0,
            f64::MAX,
            f64::INFINITY,
        ];
        for pair in values.windows(2) {
            assert!(order_key(pair[0]) < order_key(pair[1]), "{pair:?}");
        }
        for value in values {
            assert_eq!(from_order_key(order_key(value)).to_bits(), value.to_bits());
        }
    }
}
