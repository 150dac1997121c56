//! The partial state of `CategoryCounts`, as it travels between partitions: one row per group,
//! `List<Utf8>` names with `List<UInt64>` reference and current counts.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray, StringArray, UInt64Array};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, UInt64Type};
use datafusion::common::{Result, internal_err};

use super::categories::CategoryCounts;

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

pub(super) fn counts_state(groups: Vec<CategoryCounts>) -> Vec<ArrayRef> {
    let lengths: Vec<usize> = groups.iter().map(CategoryCounts::len).collect();
    let mut names = Vec::new();
    let mut reference = Vec::new();
    let mut current = Vec::new();
    for group in &groups {
        for (name, [in_reference, in_current]) in group.rows() {
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

pub(super) fn merge_counts(
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
