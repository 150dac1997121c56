//! Building blocks shared by the functions: argument typing, accumulator states and bins.

pub(crate) mod arguments;
pub(crate) mod bin_counts;
pub(crate) mod bucket_passes;
pub(crate) mod categories;
pub(crate) mod category_state;
pub(crate) mod group_states;
pub(crate) mod held_categories;
pub(crate) mod histogram;
pub(crate) mod ks_statistic;
pub(crate) mod order_key;
pub(crate) mod order_statistics;
pub(crate) mod pairs;
pub(crate) mod sample;
pub(crate) mod sample_state;
pub(crate) mod samples;
pub(crate) mod two_sample;
pub(crate) mod view_ids;

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::scalar::ScalarStructBuilder;
use datafusion::common::{Result, ScalarValue};

/// A struct type of named fields (all nullable), the return type of the multi-valued tests.
pub(crate) fn struct_type(fields: &[(&str, DataType)]) -> DataType {
    DataType::Struct(struct_fields(fields))
}

fn struct_fields(fields: &[(&str, DataType)]) -> Fields {
    fields
        .iter()
        .map(|(name, data_type)| Arc::new(Field::new(*name, data_type.clone(), true)))
        .collect()
}

/// A struct value of `data_type` (from [`struct_type`]), or its NULL when `values` is `None`.
pub(crate) fn struct_value(
    data_type: &DataType,
    values: Option<Vec<ScalarValue>>,
) -> Result<ScalarValue> {
    let DataType::Struct(fields) = data_type else {
        return ScalarValue::try_from(data_type);
    };
    match values {
        None => Ok(ScalarStructBuilder::new_null(fields.clone())),
        Some(values) => fields
            .iter()
            .zip(values)
            .fold(ScalarStructBuilder::new(), |builder, (field, value)| {
                builder.with_scalar(Arc::clone(field), value)
            })
            .build(),
    }
}

/// Below this many values per sample, a pass on one thread is cheaper than starting another.
const PARALLEL_MIN: usize = 100_000;

/// `(first(), second())`, the two on separate threads when `parallel`. A panic in either is
/// passed on, as it would be on one thread.
pub(crate) fn both<A: Send, B>(
    parallel: bool,
    first: impl FnOnce() -> A + Send,
    second: impl FnOnce() -> B,
) -> (A, B) {
    if !parallel {
        return (first(), second());
    }
    std::thread::scope(|scope| {
        let first = scope.spawn(first);
        let second = second();
        match first.join() {
            Ok(first) => (first, second),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Whether two samples are large enough for [`both`] to run their passes in parallel.
pub(crate) fn large_pair(reference: usize, current: usize) -> bool {
    reference.min(current) >= PARALLEL_MIN
}

/// Sorts both samples (ascending, `total_cmp` order), the two on separate threads when large:
/// KS and Wasserstein spend most of their time here.
pub(crate) fn sort_both(reference: &mut [f64], current: &mut [f64]) {
    both(
        large_pair(reference.len(), current.len()),
        || reference.sort_unstable_by(f64::total_cmp),
        || current.sort_unstable_by(f64::total_cmp),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_large_samples_on_two_threads() {
        let scrambled =
            |n: usize| -> Vec<f64> { (0..n).map(|i| ((i * 7_919) % n) as f64 - 5.0).collect() };
        let (mut reference, mut current) = (scrambled(PARALLEL_MIN), scrambled(PARALLEL_MIN + 1));
        sort_both(&mut reference, &mut current);
        assert!(reference.is_sorted() && current.is_sorted());
        assert_eq!(current.len(), PARALLEL_MIN + 1);
    }
}
