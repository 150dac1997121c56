//! The state that keeps both samples of a two-sample aggregate in memory.
//!
//! KS, Wasserstein, quantile binning and ranking metrics need every value, so the state is the
//! two samples themselves: a `List<Float64>` per sample, which DataFusion concatenates when it
//! merges partial aggregates from several partitions.

use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, ListArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, internal_err};

use super::arguments::float_column;
use super::group_states::{GroupState, selected};
use crate::error::{invalid_argument, non_finite};

/// The reference (flag true) and current (flag false) values of one group, NULLs dropped.
#[derive(Debug, Default, Clone)]
pub(crate) struct Samples {
    pub reference: Vec<f64>,
    pub current: Vec<f64>,
}

/// A statistic of two samples. `evaluate` may reorder the samples (most sort them).
pub(crate) trait SampleStatistic: std::fmt::Debug + Send + Sync {
    fn evaluate(&self, samples: &mut Samples) -> Result<ScalarValue>;
}

pub(crate) fn sample_state_fields(name: &str) -> Vec<FieldRef> {
    let item = Arc::new(Field::new_list_field(DataType::Float64, true));
    ["reference", "current"]
        .into_iter()
        .map(|part| {
            Arc::new(Field::new(
                format!("{name}[{part}]"),
                DataType::List(Arc::clone(&item)),
                true,
            ))
        })
        .collect()
}

/// The second argument as flags: booleans as they are, numeric labels must be 0 or 1.
pub(crate) fn binary_flags(function: &str, array: &ArrayRef) -> Result<BooleanArray> {
    match array.data_type() {
        DataType::Boolean => Ok(array.as_boolean().clone()),
        DataType::Float64 => array
            .as_primitive::<Float64Type>()
            .iter()
            .map(|label| match label {
                None => Ok(None),
                Some(1.0) => Ok(Some(true)),
                Some(0.0) => Ok(Some(false)),
                Some(other) => Err(invalid_argument(
                    function,
                    format!("labels must be 0 or 1 (or boolean), found {other}"),
                )),
            })
            .collect(),
        other => internal_err!("{function}: unexpected flag type {other}"),
    }
}

/// Calls `sink(row, value, flag)` for every row whose value and flag are both present.
fn for_each_pair(
    function: &str,
    values: &[ArrayRef],
    filter: Option<&BooleanArray>,
    mut sink: impl FnMut(usize, f64, bool),
) -> Result<()> {
    let numbers = float_column(function, &values[0])?;
    let flags = binary_flags(function, &values[1])?;
    if filter.is_none() && numbers.null_count() == 0 && flags.null_count() == 0 {
        // The common case, without per-row validity checks.
        for (row, (&value, flag)) in numbers.values().iter().zip(flags.values()).enumerate() {
            if !value.is_finite() {
                return Err(non_finite(function, value));
            }
            sink(row, value, flag);
        }
        return Ok(());
    }
    for row in 0..numbers.len() {
        if numbers.is_null(row) || flags.is_null(row) || !selected(filter, row) {
            continue;
        }
        let value = numbers.value(row);
        if !value.is_finite() {
            return Err(non_finite(function, value));
        }
        sink(row, value, flags.value(row));
    }
    Ok(())
}

impl Samples {
    fn push(&mut self, value: f64, is_reference: bool) {
        if is_reference {
            self.reference.push(value);
        } else {
            self.current.push(value);
        }
    }
}

fn list_of(rows: impl Iterator<Item = Vec<f64>>) -> ArrayRef {
    let mut rows: Vec<Vec<f64>> = rows.collect();
    let offsets = OffsetBuffer::from_lengths(rows.iter().map(Vec::len));
    // One group (an aggregate without GROUP BY) hands its sample over without a copy.
    let values = if rows.len() == 1 {
        rows.pop().unwrap_or_default()
    } else {
        let mut values = Vec::with_capacity(rows.iter().map(Vec::len).sum());
        for row in &rows {
            values.extend_from_slice(row);
        }
        values
    };
    let values = Float64Array::from(values);
    Arc::new(ListArray::new(
        Arc::new(Field::new_list_field(DataType::Float64, true)),
        offsets,
        Arc::new(values),
        None,
    ))
}

fn lists_state(groups: Vec<Samples>) -> Vec<ArrayRef> {
    let (reference, current): (Vec<_>, Vec<_>) = groups
        .into_iter()
        .map(|samples| (samples.reference, samples.current))
        .unzip();
    vec![list_of(reference.into_iter()), list_of(current.into_iter())]
}

/// Appends the partial samples in `states` (as produced by `lists_state`) to their groups.
fn merge_lists(
    states: &[ArrayRef],
    target: impl Fn(usize) -> usize,
    groups: &mut [Samples],
) -> Result<()> {
    let [reference, current] = states else {
        return internal_err!("two-sample state must have two columns");
    };
    let (reference, current) = (reference.as_list::<i32>(), current.as_list::<i32>());
    for row in 0..reference.len() {
        let group = &mut groups[target(row)];
        for (list, sample) in [
            (reference, &mut group.reference),
            (current, &mut group.current),
        ] {
            if list.is_valid(row) {
                let values = list.value(row);
                let values = values.as_primitive::<Float64Type>();
                if values.null_count() == 0 {
                    sample.extend_from_slice(values.values());
                } else {
                    sample.extend(values.iter().flatten());
                }
            }
        }
    }
    Ok(())
}

impl GroupState for Samples {
    type Statistic = dyn SampleStatistic;

    fn fold_rows(
        function: &str,
        values: &[ArrayRef],
        filter: Option<&BooleanArray>,
        groups: &mut [Self],
        group_of: impl Fn(usize) -> usize,
    ) -> Result<()> {
        for_each_pair(function, values, filter, |row, value, flag| {
            groups[group_of(row)].push(value, flag)
        })
    }

    /// A batch whose rows all belong to one sample (how `... UNION ALL ...` of a reference and a
    /// current table arrives) is appended whole.
    fn fold_all(function: &str, values: &[ArrayRef], group: &mut Self) -> Result<()> {
        let numbers = float_column(function, &values[0])?;
        let flags = binary_flags(function, &values[1])?;
        if numbers.null_count() == 0 && flags.null_count() == 0 {
            let in_reference = flags.true_count();
            if in_reference == 0 || in_reference == flags.len() {
                let numbers = numbers.values();
                if let Some(&bad) = numbers.iter().find(|value| !value.is_finite()) {
                    return Err(non_finite(function, bad));
                }
                let sample = if in_reference == 0 {
                    &mut group.current
                } else {
                    &mut group.reference
                };
                sample.extend_from_slice(numbers);
                return Ok(());
            }
        }
        Self::fold_rows(function, values, None, std::slice::from_mut(group), |_| 0)
    }

    fn merge_states(
        states: &[ArrayRef],
        groups: &mut [Self],
        group_of: impl Fn(usize) -> usize,
    ) -> Result<()> {
        merge_lists(states, group_of, groups)
    }

    fn into_state(groups: Vec<Self>) -> Vec<ArrayRef> {
        lists_state(groups)
    }

    fn evaluate(&mut self, statistic: &Self::Statistic) -> Result<ScalarValue> {
        statistic.evaluate(self)
    }

    fn bytes(&self) -> usize {
        (self.reference.capacity() + self.current.capacity()) * size_of::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(values: Vec<f64>, flags: Vec<bool>) -> Vec<ArrayRef> {
        vec![
            Arc::new(Float64Array::from(values)),
            Arc::new(BooleanArray::from(flags)),
        ]
    }

    #[test]
    fn whole_batches_and_mixed_batches_land_in_their_samples() {
        let mut samples = Samples::default();
        Samples::fold_all("t", &batch(vec![1.0, 2.0], vec![true, true]), &mut samples).unwrap();
        Samples::fold_all("t", &batch(vec![3.0], vec![false]), &mut samples).unwrap();
        Samples::fold_all("t", &batch(vec![4.0, 5.0], vec![false, true]), &mut samples).unwrap();
        assert_eq!(samples.reference, [1.0, 2.0, 5.0]);
        assert_eq!(samples.current, [3.0, 4.0]);
    }

    #[test]
    fn a_non_finite_value_is_an_error_on_every_path() {
        for flags in [vec![true, true], vec![false, false], vec![true, false]] {
            let mut samples = Samples::default();
            let error = Samples::fold_all("psi", &batch(vec![1.0, f64::NAN], flags), &mut samples)
                .expect_err("NaN is refused");
            assert!(error.to_string().contains("psi"), "{error}");
        }
    }
}
