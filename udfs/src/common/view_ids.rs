//! Ids of short strings by their Arrow string view.
//!
//! The 16-byte view of a string of at most 12 bytes holds its length and its bytes, and Arrow
//! requires the bytes after the string to be zero (arrow-rs rejects a view with other padding),
//! so the view is the string. Categories are few and looked up once per row, so the table is
//! open addressing with linear probing, kept at most half full: a lookup is one multiply and,
//! almost always, one 16-byte comparison. The same lookup in a general hash map (hashbrown,
//! foldhash) took twice as long per row.

/// The longest string a view holds inline.
pub(crate) const INLINE_BYTES: usize = 12;

/// The view Arrow gives `name`, which must have at most 12 bytes: its length in the low 4 bytes,
/// then its bytes.
pub(crate) fn view_of(name: &str) -> u128 {
    view_of_bytes(name.as_bytes())
}

fn view_of_bytes(bytes: &[u8]) -> u128 {
    let mut view = [0u8; 16];
    view[..4].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
    view[4..4 + bytes.len()].copy_from_slice(bytes);
    u128::from_le_bytes(view)
}

/// Per length, the bits of a view that hold the string's bytes.
const BYTE_MASKS: [u128; INLINE_BYTES + 1] = {
    let mut masks = [0; INLINE_BYTES + 1];
    let mut length = 0;
    while length <= INLINE_BYTES {
        masks[length] = ((1 << (8 * length)) - 1) << 32;
        length += 1;
    }
    masks
};

/// The view of the string `bytes[start..end]` (a `Utf8` array's values) when it has at most 12
/// bytes. A copy of a few bytes of variable length costs more than the lookup it feeds, so
/// where the buffer allows, the 16 bytes from `start - 4` are read at once and masked.
#[inline]
pub(crate) fn view_in(bytes: &[u8], start: usize, end: usize) -> Option<u128> {
    let length = end - start;
    if length > INLINE_BYTES {
        return None;
    }
    let window = start
        .checked_sub(4)
        .and_then(|from| bytes.get(from..from + 16))
        .and_then(|window| <[u8; 16]>::try_from(window).ok());
    Some(match window {
        Some(window) => (u128::from_le_bytes(window) & BYTE_MASKS[length]) | length as u128,
        None => view_of_bytes(&bytes[start..end]),
    })
}

#[derive(Debug, Default, Clone)]
pub(crate) struct ViewIds {
    /// (view, id + 1); 0 marks an empty slot. The length is zero or a power of two.
    slots: Vec<(u128, usize)>,
    len: usize,
}

impl ViewIds {
    /// Fibonacci hashing: the top bits of the product depend on every bit of the folded view.
    fn home(view: u128, slots: usize) -> usize {
        let folded = (view as u64) ^ ((view >> 64) as u64).rotate_left(23);
        let bits = slots.trailing_zeros();
        (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
    }

    /// The id of the category whose view, of a string of at most 12 bytes, is `view`.
    #[inline]
    pub(crate) fn get(&self, view: u128) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut slot = Self::home(view, self.slots.len());
        loop {
            let (key, id) = self.slots[slot];
            if id == 0 {
                return None;
            }
            if key == view {
                return Some(id - 1);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Adds `view`, which must not be present yet.
    pub(crate) fn insert(&mut self, view: u128, id: usize) {
        if 2 * (self.len + 1) > self.slots.len() {
            // At least 2 slots, so that the hash keeps at least one bit.
            let mut grown = vec![(0, 0); (2 * self.slots.len()).max(16)];
            for &(key, stored) in self.slots.iter().filter(|(_, stored)| *stored != 0) {
                Self::place(&mut grown, key, stored);
            }
            self.slots = grown;
        }
        Self::place(&mut self.slots, view, id + 1);
        self.len += 1;
    }

    fn place(slots: &mut [(u128, usize)], view: u128, stored: usize) {
        let mask = slots.len() - 1;
        let mut slot = Self::home(view, slots.len());
        while slots[slot].1 != 0 {
            slot = (slot + 1) & mask;
        }
        slots[slot] = (view, stored);
    }

    pub(crate) fn bytes(&self) -> usize {
        self.slots.capacity() * size_of::<(u128, usize)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{StringArray, StringViewArray};

    #[test]
    fn views_of_names_are_arrows_views() {
        let names = ["", "a", "level_19", "twelve bytes", "é✓"];
        let array = StringViewArray::from(names.to_vec());
        for (name, &view) in names.iter().zip(array.views().iter()) {
            assert_eq!(view_of(name), view, "{name}");
        }
    }

    #[test]
    fn views_in_plain_strings_are_arrows_views() {
        // Short strings at the start and the end of the buffer, where no 16 bytes can be read
        // around them, and a long string that has no inline view.
        let names = [
            "a",
            "",
            "bc",
            "longer than twelve",
            "level_7",
            "twelve bytes",
            "é",
            "xy",
        ];
        let strings = StringArray::from(names.to_vec());
        let views = StringViewArray::from(names.to_vec());
        let offsets = strings.value_offsets();
        for (row, name) in names.iter().enumerate() {
            let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
            let expected = (name.len() <= INLINE_BYTES).then(|| views.views()[row]);
            assert_eq!(
                view_in(strings.value_data(), start, end),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn finds_every_id_through_growth() {
        let names: Vec<String> = (0..1000).map(|i| format!("k{i}")).collect();
        let mut ids = ViewIds::default();
        for (id, name) in names.iter().enumerate() {
            assert_eq!(ids.get(view_of(name)), None);
            ids.insert(view_of(name), id);
        }
        for (id, name) in names.iter().enumerate() {
            assert_eq!(ids.get(view_of(name)), Some(id));
        }
        assert_eq!(ids.get(view_of("k1000")), None);
        assert_eq!(ids.get(view_of("")), None);
    }
}
