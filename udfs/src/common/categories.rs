//! The state that counts each category in the reference and current samples.
//!
//! Categorical drift (PSI, JS, KL, chi-square by category) only needs the counts, so the state is
//! one row per category: `List<Utf8>` names with `List<UInt64>` reference and current counts.

use datafusion::common::HashMap;
use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, ListArray, StringArray, UInt64Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, UInt64Type};
use datafusion::common::{Result, ScalarValue, internal_err};

use super::group_states::{GroupState, selected};
use super::samples::binary_flags;

/// Per category: (reference count, current count).
#[derive(Debug, Default, Clone)]
pub(crate) struct CategoryCounts {
    pub counts: HashMap<String, [u64; 2]>,
}

impl CategoryCounts {
    pub(crate) fn add(&mut self, category: &str, is_reference: bool, count: u64) {
        let side = usize::from(!is_reference);
        match self.counts.get_mut(category) {
            Some(entry) => entry[side] += count,
            None => {
                let mut entry = [0, 0];
                entry[side] = count;
                self.counts.insert(category.to_owned(), entry);
            }
        }
    }

    /// Categories in a stable order (sorted), with their reference and current counts.
    pub(crate) fn sorted(&self) -> Vec<(&str, [u64; 2])> {
        let mut rows: Vec<_> = self
            .counts
            .iter()
            .map(|(name, counts)| (name.as_str(), *counts))
            .collect();
        rows.sort_unstable_by(|a, b| a.0.cmp(b.0));
        rows
    }
}

/// A statistic of two samples of categories.
pub(crate) trait CategoryStatistic: std::fmt::Debug + Send + Sync {
    fn evaluate(&self, counts: &CategoryCounts) -> Result<ScalarValue>;
}

pub(crate) fn category_state_fields(name: &str) -> Vec<FieldRef> {
    let list = |item: DataType| DataType::List(Arc::new(Field::new_list_field(item, true)));
    vec![
        Arc::new(Field::new(
            format!("{name}[categories]"),
            list(DataType::Utf8),
            true,
        )),
        Arc::new(Field::new(
            format!("{name}[reference]"),
            list(DataType::UInt64),
            true,
        )),
        Arc::new(Field::new(
            format!("{name}[current]"),
            list(DataType::UInt64),
            true,
        )),
    ]
}

fn for_each_category(
    function: &str,
    values: &[ArrayRef],
    filter: Option<&BooleanArray>,
    mut sink: impl FnMut(usize, &str, bool),
) -> Result<()> {
    let Some(categories) = values[0].as_string_opt::<i32>() else {
        return internal_err!("{function}: categories must arrive as Utf8");
    };
    let flags = binary_flags(function, &values[1])?;
    for row in 0..categories.len() {
        if selected(filter, row) && categories.is_valid(row) && flags.is_valid(row) {
            sink(row, categories.value(row), flags.value(row));
        }
    }
    Ok(())
}

fn counts_state(groups: Vec<CategoryCounts>) -> Vec<ArrayRef> {
    let lengths: Vec<usize> = groups.iter().map(|group| group.counts.len()).collect();
    let mut names = Vec::new();
    let mut reference = Vec::new();
    let mut current = Vec::new();
    for group in groups {
        for (name, [in_reference, in_current]) in group.counts {
            names.push(name);
            reference.push(in_reference);
            current.push(in_current);
        }
    }
    let list = |item: DataType, values: ArrayRef| -> ArrayRef {
        Arc::new(ListArray::new(
            Arc::new(Field::new_list_field(item, true)),
            OffsetBuffer::from_lengths(lengths.iter().copied()),
            values,
            None,
        ))
    };
    vec![
        list(DataType::Utf8, Arc::new(StringArray::from(names))),
        list(DataType::UInt64, Arc::new(UInt64Array::from(reference))),
        list(DataType::UInt64, Arc::new(UInt64Array::from(current))),
    ]
}

fn merge_counts(
    states: &[ArrayRef],
    target: impl Fn(usize) -> usize,
    groups: &mut [CategoryCounts],
) -> Result<()> {
    let [names, reference, current] = states else {
        return internal_err!("category state must have three columns");
    };
    let (names, reference, current) = (
        names.as_list::<i32>(),
        reference.as_list::<i32>(),
        current.as_list::<i32>(),
    );
    for row in 0..names.len() {
        if names.is_null(row) {
            continue;
        }
        let group = &mut groups[target(row)];
        let row_names = names.value(row);
        let row_names = row_names.as_string::<i32>();
        let row_reference = reference.value(row);
        let row_reference = row_reference.as_primitive::<UInt64Type>();
        let row_current = current.value(row);
        let row_current = row_current.as_primitive::<UInt64Type>();
        for index in 0..row_names.len() {
            let name = row_names.value(index);
            group.add(name, true, row_reference.value(index));
            group.add(name, false, row_current.value(index));
        }
    }
    Ok(())
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
        for_each_category(function, values, filter, |row, name, flag| {
            groups[group_of(row)].add(name, flag, 1)
        })
    }

    fn merge_states(
        _function: &str,
        states: &[ArrayRef],
        groups: &mut [Self],
        group_of: impl Fn(usize) -> usize,
    ) -> Result<()> {
        merge_counts(states, group_of, groups)
    }

    fn into_state(groups: Vec<Self>) -> Vec<ArrayRef> {
        counts_state(groups)
    }

    fn evaluate(&mut self, statistic: &Self::Statistic) -> Result<ScalarValue> {
        statistic.evaluate(self)
    }

    fn bytes(&self) -> usize {
        self.counts
            .keys()
            .map(|key| key.capacity() + size_of::<String>() + size_of::<[u64; 2]>())
            .sum()
    }
}
