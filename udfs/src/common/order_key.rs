//! Doubles as unsigned keys whose integer order is `f64::total_cmp`'s order, so that the top
//! bits of a key name a bucket of values: the radix buckets of `order_statistics`,
//! `bin_counts` and `ks_statistic`.

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

/// The top [`BUCKET_BITS`] of a value's bits as they are: its bucket under another numbering,
/// one shift where [`key_bucket`] costs three more operations per value. Passes over whole
/// samples (`bucket_passes`) index their tables this way and put them in key order once.
#[inline]
pub(crate) fn raw_bucket(bits: u64) -> usize {
    (bits >> (64 - BUCKET_BITS)) as usize
}

/// The raw bucket's bit that is the sign's, and the key bucket's that is set for non-negative
/// values.
const SIGN_BUCKET_BIT: usize = BUCKETS / 2;

/// The key bucket of raw bucket `raw`: the key's bit flips applied to the bucket's bits.
#[inline]
pub(crate) fn key_of_raw(raw: usize) -> usize {
    if raw & SIGN_BUCKET_BIT != 0 {
        !raw & (BUCKETS - 1)
    } else {
        raw | SIGN_BUCKET_BIT
    }
}

/// The raw bucket of key bucket `key`.
#[inline]
pub(crate) fn raw_of_key(key: usize) -> usize {
    if key & SIGN_BUCKET_BIT != 0 {
        key & !SIGN_BUCKET_BIT
    } else {
        !key & (BUCKETS - 1)
    }
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
    fn raw_buckets_are_key_buckets_renumbered() {
        for value in [
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -1e-310,
            -0.0,
            0.0,
            1e-310,
            3.0,
            f64::MAX,
            f64::NAN,
        ] {
            let raw = raw_bucket(value.to_bits());
            assert_eq!(key_of_raw(raw), key_bucket(value), "{value}");
            assert_eq!(raw_of_key(key_bucket(value)), raw, "{value}");
        }
        let renumbered: Vec<usize> = (0..BUCKETS).map(key_of_raw).collect();
        let mut sorted = renumbered.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..BUCKETS).collect::<Vec<_>>());
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
