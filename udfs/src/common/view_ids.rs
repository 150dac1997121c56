//! Ids of short strings by their Arrow string view.
//!
//! The 16-byte view of a string of at most 12 bytes holds its length and its bytes, and Arrow
//! requires the bytes after the string to be zero (arrow-rs rejects a view with other padding),
//! so the view is the string. Categories are few and looked up once per row, so the table is
//! open addressing with linear probing, kept at most half full, and while it holds few views it
//! picks its hash seed so that each is in its home slot: a lookup is then one multiply and one
//! 16-byte comparison, with no branch that depends on which category a row holds. The same
//! lookup in a general hash map (hashbrown, foldhash) took twice as long per row, and plain
//! linear probing 1.2× as long as the settled table (20 categories, 20M rows).

use std::ops::Range;

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

/// Per length, the bits of a view that hold the string's bytes; none for a longer string.
const BYTE_MASKS: [u128; INLINE_BYTES + 2] = {
    let mut masks = [0; INLINE_BYTES + 2];
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

/// The rows of a `Utf8` array (its values `bytes` and its `offsets`) whose 16 bytes from 4
/// before the string's start lie in `bytes`: all of them but a few at the buffer's ends. Their
/// views are one read and a mask each (`windowed_views`).
pub(crate) fn windowed_rows(bytes: &[u8], offsets: &[i32]) -> Range<usize> {
    let starts = &offsets[..offsets.len().saturating_sub(1)];
    let first = starts.partition_point(|&start| start < 4);
    let end = starts.partition_point(|&start| start as usize + 12 <= bytes.len());
    first..end.max(first)
}

/// The views of the strings between consecutive `offsets`, which must be of `windowed_rows`;
/// a string longer than 12 bytes gets a stand-in that matches no inline view (its length
/// alone). Each string ends where the next starts, so each takes one offset read.
pub(crate) fn windowed_views<'a>(
    bytes: &'a [u8],
    offsets: &'a [i32],
) -> impl Iterator<Item = u128> + 'a {
    let mut start = offsets.first().map_or(0, |&start| start as usize);
    offsets.iter().skip(1).map(move |&end| {
        let end = end as usize;
        let view = windowed_view(bytes, start, end);
        start = end;
        view
    })
}

/// The view of `bytes[start..end]` read as one window (see `windowed_rows`), or for a longer
/// string a stand-in with its length alone.
#[inline]
fn windowed_view(bytes: &[u8], start: usize, end: usize) -> u128 {
    let length = end - start;
    let mut window = [0; 16];
    window.copy_from_slice(&bytes[start - 4..start + 12]);
    (u128::from_le_bytes(window) & BYTE_MASKS[length.min(INLINE_BYTES + 1)]) | length as u128
}

/// A view and its id.
type Slot = (u128, usize);

/// Running counts of one slot's view, four of them by row position modulo 4: with few
/// categories, consecutive rows often share one, and each increment of a single count would
/// wait for the one before.
pub(crate) type SlotCounts = [u32; 4];

/// Marks an empty slot. No valid view has this value: its length, buffer index and offset would
/// all be `u32::MAX`.
const EMPTY: u128 = u128::MAX;

/// While a table holds at most this many views, a new one that finds its home slot taken makes
/// the table look for a seed (and, if need be, a size) that puts every view in its own home
/// slot, so that every lookup is one comparison with no probing. Beyond it, or when no seed
/// works within `MOST_SLOTS`, lookups probe.
const SETTLE_UP_TO: usize = 256;
const MOST_SLOTS: usize = 4096;
const SEEDS_PER_SIZE: u64 = 8;

#[derive(Debug, Clone)]
pub(crate) struct ViewIds {
    /// (view, id); `EMPTY` marks an empty slot. The length is a power of two, at least 16.
    slots: Vec<Slot>,
    len: usize,
    seed: u64,
    /// Whether every view is in its home slot.
    all_at_home: bool,
}

impl Default for ViewIds {
    fn default() -> Self {
        Self {
            slots: vec![(EMPTY, 0); 16],
            len: 0,
            seed: 0x9E37_79B9_7F4A_7C15,
            all_at_home: true,
        }
    }
}

/// Fibonacci hashing: the top bits of the product depend on every bit of the folded view.
#[inline]
fn home(view: u128, seed: u64, slots: usize) -> usize {
    let folded = (view as u64) ^ ((view >> 64) as u64).rotate_left(23);
    (folded.wrapping_mul(seed) >> (64 - slots.trailing_zeros())) as usize
}

impl ViewIds {
    /// The id of the category whose view, of a string of at most 12 bytes, is `view`.
    pub(crate) fn get(&self, view: u128) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let mut slot = home(view, self.seed, self.slots.len());
        loop {
            let (key, id) = self.slots[slot];
            if key == view {
                return Some(id);
            }
            if key == EMPTY {
                return None;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// How many slots the table has: a slice of `SlotCounts` for `count_run` has one per slot.
    pub(crate) fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Counts `views` in order, each in `counts[slot]` of the slot that holds it, until the
    /// first view that is not in its home slot (unknown, too long, or displaced); returns how
    /// many were counted. The loop compares each view with one slot, so it has no branch that
    /// a mix of categories makes unpredictable, and it counts by slot rather than by id, which
    /// saves reading the id and writing it out to be counted in a second pass.
    #[inline]
    pub(crate) fn count_run(
        &self,
        views: impl IntoIterator<Item = u128>,
        counts: &mut [SlotCounts],
    ) -> usize {
        let slots = self.slots.as_slice();
        let counts = &mut counts[..slots.len()];
        let seed = self.seed;
        let mut views = views.into_iter();
        let mut counted = 0;
        loop {
            for lane in [0, 1, 2, 3] {
                let Some(view) = views.next() else {
                    return counted;
                };
                let slot = home(view, seed, slots.len());
                if slots[slot].0 != view {
                    return counted;
                }
                counts[slot][lane] += 1;
                counted += 1;
            }
        }
    }

    /// Passes each id with the sum of its slot's running counts to `add`, and clears them.
    pub(crate) fn drain(&self, counts: &mut [SlotCounts], mut add: impl FnMut(usize, u64)) {
        for (&(key, id), lanes) in self.slots.iter().zip(counts) {
            if key != EMPTY {
                add(id, lanes.iter().map(|&count| u64::from(count)).sum());
            }
            *lanes = [0; 4];
        }
    }

    /// Adds `view`, which must not be present yet.
    pub(crate) fn insert(&mut self, view: u128, id: usize) {
        let mut all_at_home = self.all_at_home;
        if 2 * (self.len + 1) > self.slots.len() {
            let (grown, grown_at_home) = self.placed(self.slots.len() * 2, self.seed);
            self.slots = grown;
            all_at_home &= grown_at_home;
        }
        all_at_home &= place(&mut self.slots, self.seed, view, id);
        self.len += 1;
        self.all_at_home = all_at_home || (self.len <= SETTLE_UP_TO && self.settle());
    }

    /// Looks for a size and seed that put every view in its home slot; keeps the table as it is
    /// when there are none.
    fn settle(&mut self) -> bool {
        let mut size = self.slots.len();
        while size <= MOST_SLOTS {
            for attempt in 1..=SEEDS_PER_SIZE {
                // Any odd multiplier spreads the folded views; these are far apart.
                let seed = self
                    .seed
                    .wrapping_add(attempt.wrapping_mul(0xD6E8_FEB8_6659_FD93))
                    | 1;
                if let (slots, true) = self.placed(size, seed) {
                    self.slots = slots;
                    self.seed = seed;
                    return true;
                }
            }
            size *= 2;
        }
        false
    }

    /// The views placed in `size` slots by `seed`, and whether each is in its home slot.
    fn placed(&self, size: usize, seed: u64) -> (Vec<Slot>, bool) {
        let mut slots = vec![(EMPTY, 0); size];
        let mut all_at_home = true;
        for &(key, id) in self.slots.iter().filter(|(key, _)| *key != EMPTY) {
            all_at_home &= place(&mut slots, seed, key, id);
        }
        (slots, all_at_home)
    }

    pub(crate) fn bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>()
    }
}

/// Places `view` by linear probing; says whether it landed in its home slot.
fn place(slots: &mut [Slot], seed: u64, view: u128, id: usize) -> bool {
    let mask = slots.len() - 1;
    let home = home(view, seed, slots.len());
    let mut slot = home;
    while slots[slot].0 != EMPTY {
        slot = (slot + 1) & mask;
    }
    slots[slot] = (view, id);
    slot == home
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{StringArray, StringViewArray};

    /// Stands for a string too long for an inline view: its length field says 13, and no stored
    /// view has a length over 12, so it matches no slot.
    const NOT_INLINE: u128 = INLINE_BYTES as u128 + 1;

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
    fn windowed_strings_get_the_views_they_would_alone() {
        let names = [
            "ab",
            "",
            "longer than twelve",
            "level_7",
            "twelve bytes",
            "é✓",
            "x",
            "yz",
        ];
        let strings = StringArray::from(names.to_vec());
        let views = StringViewArray::from(names.to_vec());
        // Rows at the buffer's ends have no window around them: the first three start before
        // byte 4, the last three within 12 bytes of the end.
        let (bytes, offsets) = (strings.value_data(), strings.value_offsets());
        let windowed = windowed_rows(bytes, offsets);
        assert_eq!(windowed, 3..5);
        // Every run of windowed rows.
        for first in windowed.clone() {
            for end in first..=windowed.end {
                let found: Vec<u128> = windowed_views(bytes, &offsets[first..=end]).collect();
                assert_eq!(found.len(), end - first);
                for (row, view) in (first..end).zip(found) {
                    if names[row].len() <= INLINE_BYTES {
                        assert_eq!(view, views.views()[row], "{}", names[row]);
                    } else {
                        assert_eq!(view, names[row].len() as u128, "{}", names[row]);
                    }
                }
            }
        }
        let sliced = strings.slice(3, 2);
        assert_eq!(windowed_rows(bytes, sliced.value_offsets()), 0..2);
        assert_eq!(windowed_rows(&[], &[0]), 0..0);
    }

    #[test]
    fn few_views_settle_in_their_home_slots() {
        let names: Vec<String> = (0..SETTLE_UP_TO).map(|i| format!("level_{i}")).collect();
        let views: Vec<u128> = names.iter().map(|name| view_of(name)).collect();
        let mut ids = ViewIds::default();
        for (id, &view) in views.iter().enumerate() {
            ids.insert(view, id);
            // Twenty views always settle (in 16 to 256 slots) ...
            if id < 20 {
                assert!(ids.all_at_home, "{id}");
            }
            // ... and, settled or not, a run counts what is at home and stops at the rest.
            let mut counts = vec![[0; 4]; ids.slot_count()];
            let run = ids.count_run(views[..=id].iter().copied(), &mut counts);
            assert!(ids.all_at_home <= (run == id + 1), "{id}");
            let mut counted = vec![0; id + 1];
            ids.drain(&mut counts, |id, count| counted[id] += count);
            let expected: Vec<u64> = (0..=id).map(|other| u64::from(other < run)).collect();
            assert_eq!(counted, expected, "{id}");
            assert!(counts.iter().all(|lanes| *lanes == [0; 4]), "drained");
        }
        let mut counts = vec![[0; 4]; ids.slot_count()];
        let unknown = [views[0], view_of("level_x"), views[1]];
        assert_eq!(ids.count_run(unknown, &mut counts), 1);
        assert_eq!(ids.count_run([NOT_INLINE], &mut counts), 0);
        // Runs past a multiple of four use every lane, and the remainder the first.
        let repeated: Vec<u128> = std::iter::repeat_n(views[3], 11).collect();
        let mut counts = vec![[0; 4]; ids.slot_count()];
        assert_eq!(ids.count_run(repeated, &mut counts), 11);
        let mut total = 0;
        ids.drain(&mut counts, |id, count| {
            assert!(id == 3 || count == 0);
            total += count;
        });
        assert_eq!(total, 11);
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
