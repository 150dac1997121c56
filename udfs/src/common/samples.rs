//! The state that keeps both samples of a two-sample aggregate in memory.
//!
//! KS, Wasserstein, quantile binning and ranking metrics need every value, so the state is the
//! two samples themselves (`sample::Sample`, which holds whole input batches without copying
//! them): as a partial state, a `List<Float64>` per sample, which DataFusion concatenates when
//! it merges partial aggregates from several partitions.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, ListArray};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use datafusion::arrow::compute::{filter, not};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, internal_err};

use super::arguments::float_column;
use super::group_states::{GroupState, selected};
use super::sample::Sample;
use crate::error::{invalid_argument, non_finite};

/// The reference (flag true) and current (flag false) values of one group, NULLs dropped.
#[derive(Debug, Default, Clone)]
pub(crate) struct Samples {
    pub reference: Sample,
    pub current: Sample,
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
    pub(crate) fn new(reference: Vec<f64>, current: Vec<f64>) -> Self {
        Self {
            reference: reference.into(),
            current: current.into(),
        }
    }

    fn push(&mut self, value: f64, is_reference: bool) {
        if is_reference {
            self.reference.push(value);
        } else {
            self.current.push(value);
        }
    }
}

/// One `List<Float64>` row per sample; one sample (an aggregate without GROUP BY) is handed over
/// without a copy when it is held in one piece.
fn list_of(samples: Vec<Sample>) -> ArrayRef {
    let offsets = OffsetBuffer::from_lengths(samples.iter().map(Sample::len));
    let values = if samples.len() == 1 {
        samples
            .into_iter()
            .map(Sample::into_buffer)
            .next()
            .unwrap_or_default()
    } else {
        let mut values = Vec::with_capacity(offsets.last().map_or(0, |&end| end as usize));
        for sample in &samples {
            for piece in sample.pieces() {
                values.extend_from_slice(piece);
            }
        }
        ScalarBuffer::from(values)
    };
    Arc::new(ListArray::new(
        Arc::new(Field::new_list_field(DataType::Float64, true)),
        offsets,
        Arc::new(Float64Array::new(values, None)),
        None,
    ))
}

fn lists_state(groups: Vec<Samples>) -> Vec<ArrayRef> {
    let (reference, current): (Vec<_>, Vec<_>) = groups
        .into_iter()
        .map(|samples| (samples.reference, samples.current))
        .unzip();
    vec![list_of(reference), list_of(current)]
}

/// Appends the partial samples in `states` (as produced by `lists_state`) to their groups.
fn merge_lists(
    function: &str,
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
                    sample.append(function, values.values().clone())?;
                } else {
                    values.iter().flatten().for_each(|value| sample.push(value));
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

    /// Without NULLs a batch is split into its two samples whole (a batch of one sample, how
    /// `... UNION ALL ...` of a reference and a current table arrives, is held without a copy).
    fn fold_all(function: &str, values: &[ArrayRef], group: &mut Self) -> Result<()> {
        let numbers = float_column(function, &values[0])?;
        let flags = binary_flags(function, &values[1])?;
        if numbers.null_count() > 0 || flags.null_count() > 0 {
            return Self::fold_rows(function, values, None, std::slice::from_mut(group), |_| 0);
        }
        let in_reference = flags.true_count();
        if in_reference == flags.len() {
            return group.reference.append(function, numbers.values().clone());
        }
        if in_reference == 0 {
            return group.current.append(function, numbers.values().clone());
        }
        for (sample, mask) in [
            (&mut group.reference, flags.clone()),
            (&mut group.current, not(&flags)?),
        ] {
            let part = filter(numbers, &mask)?;
            sample.append(
                function,
                part.as_primitive::<Float64Type>().values().clone(),
            )?;
        }
        Ok(())
    }

    fn merge_states(
        function: &str,
        states: &[ArrayRef],
        groups: &mut [Self],
        group_of: impl Fn(usize) -> usize,
    ) -> Result<()> {
        merge_lists(function, states, group_of, groups)
    }

    fn into_state(groups: Vec<Self>) -> Vec<ArrayRef> {
        lists_state(groups)
    }

    fn evaluate(&mut self, statistic: &Self::Statistic) -> Result<ScalarValue> {
        statistic.evaluate(self)
    }

    fn bytes(&self) -> usize {
        self.reference.bytes() + self.current.bytes()
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
        assert_eq!(*samples.reference.values_mut(), [1.0, 2.0, 5.0]);
        assert_eq!(*samples.current.values_mut(), [3.0, 4.0]);
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
