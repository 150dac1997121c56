//! Doubles as unsigned keys whose integer order is `f64::total_cmp`'s order, so that the top
//! bits of a key name a bucket of values: the radix buckets of `order_statistics` and
//! `bin_counts`.

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

/// How many leading key bits name a bucket: 65536 buckets, small enough for a table of counts
/// to stay in cache, fine enough that each usually holds a small share of a sample.
pub(crate) const BUCKET_BITS: u32 = 16;
pub(crate) const BUCKETS: usize = 1 << BUCKET_BITS;

/// The bucket of a value: the top bits of its key, so buckets are ordered like their values.
#[inline]
pub(crate) fn key_bucket(value: f64) -> usize {
    (order_key(value) >> (64 - BUCKET_BITS)) as usize
}

/// How many of `values` (at most `u32::MAX`) fall in each of the `BUCKETS` buckets that
/// `bucket` assigns.
pub(crate) fn bucket_counts(values: &[f64], bucket: impl Fn(f64) -> usize) -> Vec<u32> {
    let mut counts = vec![0u32; BUCKETS];
    for &value in values {
        counts[bucket(value)] += 1;
    }
    counts
}

/// Marks a bucket that [`gather_buckets`] leaves out.
pub(crate) const LEFT_OUT: u32 = u32::MAX;

/// The `slot` table of [`gather_buckets`] for the chosen `buckets`, in their order.
pub(crate) fn bucket_slots(buckets: &[usize]) -> Vec<u32> {
    let mut slot = vec![LEFT_OUT; BUCKETS];
    for (place, &bucket) in buckets.iter().enumerate() {
        slot[bucket] = place as u32;
    }
    slot
}

/// The values (given in pieces) of the chosen buckets, one vector per choice: `slot[bucket]` is
/// the bucket's place among the chosen ones (or [`LEFT_OUT`]), `sizes[place]` how many values it
/// will hold.
pub(crate) fn gather_buckets<'v>(
    pieces: impl IntoIterator<Item = &'v [f64]>,
    bucket: impl Fn(f64) -> usize,
    slot: &[u32],
    sizes: &[usize],
) -> Vec<Vec<f64>> {
    let mut gathered: Vec<Vec<f64>> = sizes.iter().map(|&size| Vec::with_capacity(size)).collect();
    for piece in pieces {
        for &value in piece {
            let place = slot[bucket(value)];
            if place != LEFT_OUT {
                gathered[place as usize].push(value);
            }
        }
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
