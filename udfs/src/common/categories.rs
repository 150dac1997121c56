//! The state that counts each category in the reference and current samples.
//!
//! Categorical drift (PSI, JS, KL, chi-square by category) only needs the counts, so the state is
//! one row per category (its partial state is in `category_state`).
//!
//! Categories arrive as `Utf8View` (what Quiver's tables and DataFusion's Parquet reader give) or
//! `Utf8`. A category of at most 12 bytes is found by its 16-byte string view alone
//! (`view_ids`), without hashing the string; longer categories are found by name.

use datafusion::common::HashMap;
use std::mem::size_of;
use std::ops::Range;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, StringArray, StringViewArray,
};
use datafusion::common::{Result, ScalarValue, internal_err};

use super::category_state::{counts_state, merge_counts};
use super::group_states::{GroupState, selected};
use super::held_categories::{HeldBatch, split_after};
use super::samples::binary_flags;
use super::view_ids::{
    INLINE_BYTES, SlotCounts, ViewIds, view_in, view_of, windowed_rows, windowed_views,
};
use super::{PARALLEL_MIN, both};

/// Up to this many slots in the table of short categories, rows are counted by slot
/// (`ViewIds::count_run`); past it, the counts by slot would cost more to drain.
const COUNTED_BY_SLOT_UP_TO: usize = 4096;
/// Rows counted by slot between drains, so that no count by slot can overflow.
const DRAIN_ROWS: usize = 1 << 20;
/// Rows of whole batches held before they are counted, on two threads: enough that starting a
/// thread (tens of µs) is small against counting them (a few ms).
const HELD_ROWS: usize = 1 << 20;

/// Per category: (reference count, current count).
#[derive(Debug, Default, Clone)]
pub(crate) struct CategoryCounts {
    /// Names in order of first appearance; a category's index is its id.
    names: Vec<String>,
    counts: Vec<[u64; 2]>,
    /// Ids of the categories of at most 12 bytes, by their string view.
    inline_ids: ViewIds,
    /// Ids of the longer categories.
    named_ids: HashMap<String, usize>,
    /// Whole batches not counted yet (`hold`), and their rows.
    held: Vec<HeldBatch>,
    held_rows: usize,
}

impl CategoryCounts {
    pub(crate) fn add(&mut self, category: &str, is_reference: bool, count: u64) {
        let id = self.id_of(category);
        self.counts[id][usize::from(!is_reference)] += count;
    }

    fn id_of(&mut self, category: &str) -> usize {
        if category.len() <= INLINE_BYTES {
            self.inline_id(view_of(category), || category)
        } else {
            self.named_id(category)
        }
    }

    /// Keeps a batch of one sample to count later with others, on two threads, in
    /// `count_held`.
    fn hold(&mut self, categories: Categories, side: usize) {
        self.held_rows += categories.array().len();
        self.held.push(HeldBatch::new(categories, side));
        if self.held_rows >= HELD_ROWS {
            self.count_held();
        }
    }

    /// Counts the held batches. Many rows are split in halves, the second counted on another
    /// thread into a table of its own, whose counts are then added by name.
    fn count_held(&mut self) {
        let held = std::mem::take(&mut self.held);
        let rows = std::mem::take(&mut self.held_rows);
        if rows < PARALLEL_MIN {
            for batch in &held {
                self.add_all(batch.categories(), batch.side);
            }
            return;
        }
        let (first, second) = split_after(held, rows / 2);
        let (other, ()) = both(
            true,
            move || {
                let mut other = Self::default();
                for batch in &second {
                    other.add_all(batch.categories(), batch.side);
                }
                other
            },
            || {
                for batch in &first {
                    self.add_all(batch.categories(), batch.side);
                }
            },
        );
        for (name, [in_reference, in_current]) in other.rows() {
            let id = self.id_of(name);
            self.counts[id][0] += in_reference;
            self.counts[id][1] += in_current;
        }
    }

    /// Counts row `row` of `categories`, which must be valid, in sample `side` (0 reference, 1
    /// current).
    #[inline]
    pub(crate) fn add_row(&mut self, categories: Categories, row: usize, side: usize) {
        let id = self.row_id(categories, row);
        self.counts[id][side] += 1;
    }

    /// Counts every row of `categories`, which has no NULLs, in sample `side`. The rows are
    /// counted by the slot of their view (`ViewIds::count_run`), which only finds known
    /// categories of at most 12 bytes in their home slots; it stops at any other row, which
    /// `add_other` counts, kept out of line so that the loop stays small.
    fn add_all(&mut self, categories: Categories, side: usize) {
        let rows = categories.array().len();
        match categories {
            Categories::Views(views) => {
                let views = views.views();
                self.count_by_slot(categories, 0..rows, side, |rows| {
                    views[rows].iter().copied()
                });
            }
            Categories::Strings(strings) => {
                let (bytes, offsets) = (strings.value_data(), strings.value_offsets());
                let windowed = windowed_rows(bytes, offsets);
                self.add_rows(categories, 0..windowed.start, side);
                self.add_rows(categories, windowed.end..rows, side);
                self.count_by_slot(categories, windowed, side, |rows| {
                    windowed_views(bytes, &offsets[rows.start..=rows.end])
                });
            }
        }
    }

    fn add_rows(&mut self, categories: Categories, rows: Range<usize>, side: usize) {
        for row in rows {
            self.add_row(categories, row, side);
        }
    }

    /// Counts `rows` of `categories` in sample `side`, given the views of any range of them.
    /// A table past `COUNTED_BY_SLOT_UP_TO` slots, or one that new categories grow past it on
    /// the way, counts (the rest) row by row: draining the counts by slot at each new category
    /// would cost more than counting.
    fn count_by_slot<Views: Iterator<Item = u128>>(
        &mut self,
        categories: Categories,
        rows: Range<usize>,
        side: usize,
        views: impl Fn(Range<usize>) -> Views,
    ) {
        if self.inline_ids.slot_count() > COUNTED_BY_SLOT_UP_TO {
            return self.add_rows(categories, rows, side);
        }
        let mut slot_counts = vec![[0; 4]; self.inline_ids.slot_count()];
        for first in rows.clone().step_by(DRAIN_ROWS) {
            // A slot's four counts stay far below u32::MAX between drains.
            let block = first..rows.end.min(first + DRAIN_ROWS);
            let mut done = block.start;
            while done < block.end {
                done += self
                    .inline_ids
                    .count_run(views(done..block.end), &mut slot_counts);
                if done < block.end {
                    self.add_other(categories, done, side, &mut slot_counts);
                    done += 1;
                    if self.inline_ids.slot_count() > COUNTED_BY_SLOT_UP_TO {
                        self.drain(&mut slot_counts, side);
                        return self.add_rows(categories, done..rows.end, side);
                    }
                }
            }
            self.drain(&mut slot_counts, side);
        }
    }

    /// Adds the counts by slot to the counts by id.
    fn drain(&mut self, slot_counts: &mut [SlotCounts], side: usize) {
        let counts = &mut self.counts;
        self.inline_ids
            .drain(slot_counts, |id, count| counts[id][side] += count);
    }

    /// Counts a row that `count_run` stopped at: an unknown category, one that is not in its
    /// home slot, or a long one. A new short category moves views between slots, so the counts
    /// by slot are drained first and start again for the new table.
    #[inline(never)]
    fn add_other(
        &mut self,
        categories: Categories,
        row: usize,
        side: usize,
        slot_counts: &mut Vec<SlotCounts>,
    ) {
        let id = match categories.inline_view(row) {
            Some(view) => match self.inline_ids.get(view) {
                Some(id) => id,
                None => {
                    self.drain(slot_counts, side);
                    let id = self.new_inline(view, categories.value(row));
                    *slot_counts = vec![[0; 4]; self.inline_ids.slot_count()];
                    id
                }
            },
            None => self.named_id(categories.value(row)),
        };
        self.counts[id][side] += 1;
    }

    #[inline(never)]
    fn row_id(&mut self, categories: Categories, row: usize) -> usize {
        match categories.inline_view(row) {
            Some(view) => self.inline_id(view, || categories.value(row)),
            None => self.named_id(categories.value(row)),
        }
    }

    #[inline]
    fn inline_id<'a>(&mut self, view: u128, name: impl FnOnce() -> &'a str) -> usize {
        match self.inline_ids.get(view) {
            Some(id) => id,
            None => self.new_inline(view, name()),
        }
    }

    #[cold]
    fn new_inline(&mut self, view: u128, name: &str) -> usize {
        let id = self.new_category(name);
        self.inline_ids.insert(view, id);
        id
    }

    fn named_id(&mut self, name: &str) -> usize {
        if let Some(&id) = self.named_ids.get(name) {
            return id;
        }
        let id = self.new_category(name);
        self.named_ids.insert(name.to_owned(), id);
        id
    }

    fn new_category(&mut self, name: &str) -> usize {
        self.names.push(name.to_owned());
        self.counts.push([0, 0]);
        self.names.len() - 1
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// Categories with their reference and current counts, in order of first appearance.
    pub(super) fn rows(&self) -> impl Iterator<Item = (&str, [u64; 2])> {
        debug_assert!(self.held.is_empty(), "held batches are counted first");
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.counts.iter().copied())
    }

    /// Categories in a stable order (sorted), with their reference and current counts.
    pub(crate) fn sorted(&self) -> Vec<(&str, [u64; 2])> {
        let mut rows: Vec<_> = self.rows().collect();
        rows.sort_unstable_by(|a, b| a.0.cmp(b.0));
        rows
    }
}

/// A statistic of two samples of categories.
pub(crate) trait CategoryStatistic: std::fmt::Debug + Send + Sync {
    fn evaluate(&self, counts: &CategoryCounts) -> Result<ScalarValue>;
}

fn for_each_category(
    function: &str,
    values: &[ArrayRef],
    filter: Option<&BooleanArray>,
    mut sink: impl FnMut(Categories, usize, usize),
) -> Result<()> {
    let categories = Categories::of(function, &values[0])?;
    let flags = binary_flags(function, &values[1])?;
    let array = categories.array();
    for row in 0..array.len() {
        if selected(filter, row) && array.is_valid(row) && flags.is_valid(row) {
            sink(categories, row, usize::from(!flags.value(row)));
        }
    }
    Ok(())
}

/// A column of categories as it arrives: `Utf8View` from Quiver's tables and Parquet, `Utf8`
/// from CSV or memory tables; other text, booleans and numbers are cast to `Utf8View`.
#[derive(Clone, Copy)]
pub(crate) enum Categories<'a> {
    Views(&'a StringViewArray),
    Strings(&'a StringArray),
}

impl<'a> Categories<'a> {
    pub(crate) fn of(function: &str, array: &'a ArrayRef) -> Result<Self> {
        if let Some(views) = array.as_string_view_opt() {
            Ok(Self::Views(views))
        } else if let Some(strings) = array.as_string_opt::<i32>() {
            Ok(Self::Strings(strings))
        } else {
            internal_err!("{function}: categories must arrive as Utf8View or Utf8")
        }
    }

    pub(super) fn array(self) -> &'a dyn Array {
        match self {
            Self::Views(views) => views,
            Self::Strings(strings) => strings,
        }
    }

    fn value(self, row: usize) -> &'a str {
        match self {
            Self::Views(views) => views.value(row),
            Self::Strings(strings) => strings.value(row),
        }
    }

    /// The view of row `row` when its category has at most 12 bytes.
    fn inline_view(self, row: usize) -> Option<u128> {
        match self {
            Self::Views(views) => {
                let view = views.views()[row];
                (view as u32 as usize <= INLINE_BYTES).then_some(view)
            }
            Self::Strings(strings) => {
                let offsets = strings.value_offsets();
                let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                view_in(strings.value_data(), start, end)
            }
        }
    }
}

impl GroupState for CategoryCounts {
    type Statistic = dyn CategoryStatistic;

    fn fold_rows(
        function: &str,
        values: &[ArrayRef],
        filter: Option<&BooleanArray>,
        groups: &mut [Self],
        group_of: impl Fn(usize) -> usize,
    ) -> Result<()> {
        for_each_category(function, values, filter, |categories, row, side| {
            groups[group_of(row)].add_row(categories, row, side)
        })
    }

    /// A batch without NULLs whose rows are all of one sample (how `... UNION ALL ...` of a
    /// reference and a current table arrives) is counted without looking at each row's flag.
    fn fold_all(function: &str, values: &[ArrayRef], group: &mut Self) -> Result<()> {
        let categories = Categories::of(function, &values[0])?;
        let flags = binary_flags(function, &values[1])?;
        let in_reference = flags.true_count();
        let one_sample = in_reference == 0 || in_reference == flags.len();
        if categories.array().null_count() > 0 || flags.null_count() > 0 || !one_sample {
            return Self::fold_rows(function, values, None, std::slice::from_mut(group), |_| 0);
        }
        group.hold(categories, usize::from(in_reference == 0));
        Ok(())
    }

    fn merge_states(
        _function: &str,
        states: &[ArrayRef],
        groups: &mut [Self],
        group_of: impl Fn(usize) -> usize,
    ) -> Result<()> {
        merge_counts(states, group_of, groups)
    }

    fn into_state(mut groups: Vec<Self>) -> Result<Vec<ArrayRef>> {
        groups.iter_mut().for_each(Self::count_held);
        Ok(counts_state(groups))
    }

    fn evaluate(&mut self, _function: &str, statistic: &Self::Statistic) -> Result<ScalarValue> {
        self.count_held();
        statistic.evaluate(self)
    }

    fn bytes(&self) -> usize {
        let names: usize = self.names.iter().map(String::capacity).sum();
        let long_names: usize = self.named_ids.keys().map(String::capacity).sum();
        names
            + long_names
            + self.names.capacity() * size_of::<String>()
            + self.counts.capacity() * size_of::<[u64; 2]>()
            + self.inline_ids.bytes()
            + self.named_ids.capacity() * size_of::<(String, usize)>()
            + self
                .held
                .iter()
                .map(|batch| batch.categories().array().get_array_memory_size())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    const NAMES: [Option<&str>; 10] = [
        Some("a"),
        Some(""),
        Some("twelve bytes"),
        Some("thirteen byte"),
        None,
        Some("a"),
        Some("é✓"),
        Some("a much longer category name"),
        Some("thirteen byte"),
        Some(""),
    ];
    const FLAGS: [bool; 10] = [
        true, true, false, true, true, false, false, true, false, true,
    ];

    /// The counts by name, as plain strings compare.
    fn expected(rows: impl Iterator<Item = usize>) -> Vec<(String, [u64; 2])> {
        let mut counts: BTreeMap<String, [u64; 2]> = BTreeMap::new();
        for row in rows {
            if let Some(name) = NAMES[row] {
                counts.entry(name.to_owned()).or_default()[usize::from(!FLAGS[row])] += 1;
            }
        }
        counts.into_iter().collect()
    }

    fn owned(counts: &mut CategoryCounts) -> Vec<(String, [u64; 2])> {
        counts.count_held();
        let sorted = counts.sorted();
        sorted
            .into_iter()
            .map(|(name, c)| (name.to_owned(), c))
            .collect()
    }

    fn columns() -> [ArrayRef; 2] {
        [
            Arc::new(StringViewArray::from(NAMES.to_vec())),
            Arc::new(StringArray::from(NAMES.to_vec())),
        ]
    }

    #[test]
    fn views_and_plain_strings_count_as_names_do() {
        let flags: ArrayRef = Arc::new(BooleanArray::from(FLAGS.to_vec()));
        for column in columns() {
            let values = [Arc::clone(&column), Arc::clone(&flags)];
            let mut all = CategoryCounts::default();
            CategoryCounts::fold_all("test", &values, &mut all).unwrap();
            assert_eq!(owned(&mut all), expected(0..10), "{}", column.data_type());

            // Rows 0..5 and 5..10 as batches of one sample each, the path without per-row flags.
            let mut by_batch = CategoryCounts::default();
            for rows in [0..5, 5..10] {
                let flags = BooleanArray::from(vec![rows.start == 0; rows.len()]);
                let batch = [
                    column.slice(rows.start, rows.len()),
                    Arc::new(flags) as ArrayRef,
                ];
                CategoryCounts::fold_all("test", &batch, &mut by_batch).unwrap();
            }
            let mut one_sample_each = expected(0..5);
            for (_, counts) in &mut one_sample_each {
                *counts = [counts[0] + counts[1], 0];
            }
            for (name, counts) in expected(5..10) {
                let total = counts[0] + counts[1];
                match one_sample_each.iter_mut().find(|(known, _)| *known == name) {
                    Some((_, known)) => known[1] += total,
                    None => one_sample_each.push((name, [0, total])),
                }
            }
            one_sample_each.sort();
            assert_eq!(
                owned(&mut by_batch),
                one_sample_each,
                "{}",
                column.data_type()
            );

            let mut groups = vec![CategoryCounts::default(); 2];
            CategoryCounts::fold_rows("test", &values, None, &mut groups, |row| row % 2).unwrap();
            assert_eq!(owned(&mut groups[0]), expected((0..10).step_by(2)));
            assert_eq!(owned(&mut groups[1]), expected((1..10).step_by(2)));
        }
    }

    /// Few categories are counted by slot in four running totals, many (past
    /// `COUNTED_BY_SLOT_UP_TO` slots) one by one; both, with short and long names, in runs that
    /// new categories interrupt.
    #[test]
    fn few_and_many_categories_count_as_names_do() {
        for (distinct, long) in [(20, false), (20, true), (3000, false), (3000, true)] {
            let names: Vec<String> = (0..5000usize)
                .map(|row| {
                    let id = (row * 7919 + row / 3) % distinct;
                    if long {
                        format!("category number {id}")
                    } else {
                        format!("c{id}")
                    }
                })
                .collect();
            let mut expected: BTreeMap<String, [u64; 2]> = BTreeMap::new();
            for name in &names {
                expected.entry(name.clone()).or_default()[1] += 1;
            }
            let expected: Vec<_> = expected.into_iter().collect();
            let flags: ArrayRef = Arc::new(BooleanArray::from(vec![false; names.len()]));
            let columns: [ArrayRef; 2] = [
                Arc::new(StringViewArray::from_iter_values(&names)),
                Arc::new(StringArray::from_iter_values(&names)),
            ];
            for column in columns {
                let mut counts = CategoryCounts::default();
                CategoryCounts::fold_all("test", &[column, Arc::clone(&flags)], &mut counts)
                    .unwrap();
                assert_eq!(owned(&mut counts), expected, "{distinct} {long}");
            }
        }
    }

    /// Batches of both samples past `HELD_ROWS`, so that some are counted as they arrive and
    /// the rest at the end, each time in halves on two threads, split inside a batch.
    #[test]
    fn held_batches_count_on_two_threads_as_names_do() {
        let names: Vec<String> = (0..HELD_ROWS + 100_001)
            .map(|row| match row % 7 {
                0 => format!("long category {}", row % 11),
                _ => format!("c{}", (row * 31) % 23),
            })
            .collect();
        let batch = 65_537;
        let mut expected: BTreeMap<String, [u64; 2]> = BTreeMap::new();
        for (row, name) in names.iter().enumerate() {
            expected.entry(name.clone()).or_default()[(row / batch) % 2] += 1;
        }
        let expected: Vec<_> = expected.into_iter().collect();
        let mut counts = CategoryCounts::default();
        for (index, rows) in names.chunks(batch).enumerate() {
            let flags = BooleanArray::from(vec![index % 2 == 0; rows.len()]);
            let values = [
                Arc::new(StringViewArray::from_iter_values(rows)) as ArrayRef,
                Arc::new(flags),
            ];
            CategoryCounts::fold_all("test", &values, &mut counts).unwrap();
        }
        assert!(counts.held_rows < HELD_ROWS, "some were counted on arrival");
        assert_eq!(owned(&mut counts), expected);
    }

    #[test]
    fn partial_states_merge_into_the_same_counts() {
        let flags: ArrayRef = Arc::new(BooleanArray::from(FLAGS.to_vec()));
        let [views, _] = columns();
        let mut groups = vec![CategoryCounts::default(); 2];
        CategoryCounts::fold_rows("test", &[views, flags], None, &mut groups, |row| row % 2)
            .unwrap();
        let state = CategoryCounts::into_state(groups).unwrap();
        let mut merged = vec![CategoryCounts::default()];
        CategoryCounts::merge_states("test", &state, &mut merged, |_| 0).unwrap();
        assert_eq!(owned(&mut merged[0]), expected(0..10));
    }
}
