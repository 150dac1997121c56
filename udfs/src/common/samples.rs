//! The state that keeps both samples of a two-sample aggregate in memory.
//!
//! KS, Wasserstein, quantile binning and ranking metrics need every value, so the state is the
//! two samples themselves (`sample::Sample`, which holds whole input batches without copying
//! them); `sample_state` hands them from partial to final aggregates, again without a copy.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::compute::{filter, not};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, ScalarValue, internal_err};

use super::arguments::float_column;
use super::group_states::{GroupState, selected};
use super::sample::{Sample, worth_counting_pair};
use super::sample_state::{merge_samples_state, samples_state};
use super::{both, large_pair};
use crate::error::{invalid_argument, non_finite};

/// The reference (flag true) and current (flag false) values of one group, NULLs dropped.
#[derive(Debug, Default, Clone)]
pub(crate) struct Samples {
    pub reference: Sample,
    pub current: Sample,
}

/// A statistic of two samples. `evaluate` may reorder the samples (most sort them).
pub(crate) trait SampleStatistic: std::fmt::Debug + Send + Sync {
    /// `function` names the statistic in errors.
    fn evaluate(&self, function: &str, samples: &mut Samples) -> Result<ScalarValue>;

    /// Whether the statistic checks both samples' values itself, in passes it makes anyway,
    /// where they are worth counting (`sample::worth_counting_pair`) and neither is empty, so
    /// that evaluation need not count them first.
    fn checks_counted_samples(&self) -> bool {
        false
    }
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

    /// Checks both samples (`Sample::check`), the two on separate threads when both are large,
    /// unless `statistic_checks` them (see [`SampleStatistic::checks_counted_samples`]).
    fn check(&mut self, function: &str, statistic_checks: bool) -> Result<()> {
        let Self { reference, current } = self;
        if statistic_checks
            && !reference.is_empty()
            && !current.is_empty()
            && worth_counting_pair(reference, current)
        {
            return Ok(());
        }
        let (reference_checked, current_checked) = both(
            large_pair(reference.len(), current.len()),
            || reference.check(function),
            || current.check(function),
        );
        reference_checked.and(current_checked)
    }

    fn push(&mut self, value: f64, is_reference: bool) {
        if is_reference {
            self.reference.push(value);
        } else {
            self.current.push(value);
        }
    }
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
    /// `... UNION ALL ...` of a reference and a current table arrives, is held without a copy);
    /// its values are checked at evaluation.
    fn fold_all(function: &str, values: &[ArrayRef], group: &mut Self) -> Result<()> {
        let numbers = float_column(function, &values[0])?;
        let flags = binary_flags(function, &values[1])?;
        if numbers.null_count() > 0 || flags.null_count() > 0 {
            return Self::fold_rows(function, values, None, std::slice::from_mut(group), |_| 0);
        }
        let in_reference = flags.true_count();
        if in_reference == flags.len() {
            group.reference.append(numbers.values().clone());
            return Ok(());
        }
        if in_reference == 0 {
            group.current.append(numbers.values().clone());
            return Ok(());
        }
        for (sample, mask) in [
            (&mut group.reference, flags.clone()),
            (&mut group.current, not(&flags)?),
        ] {
            let part = filter(numbers, &mask)?;
            sample.append(part.as_primitive::<Float64Type>().values().clone());
        }
        Ok(())
    }

    fn merge_states(
        _function: &str,
        states: &[ArrayRef],
        groups: &mut [Self],
        group_of: impl Fn(usize) -> usize,
    ) -> Result<()> {
        merge_samples_state(states, group_of, groups)
    }

    fn into_state(groups: Vec<Self>) -> Result<Vec<ArrayRef>> {
        samples_state(groups)
    }

    fn evaluate(&mut self, function: &str, statistic: &Self::Statistic) -> Result<ScalarValue> {
        self.check(function, statistic.checks_counted_samples())?;
        statistic.evaluate(function, self)
    }

    fn bytes(&self) -> usize {
        self.reference.bytes() + self.current.bytes()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::Float64Array;

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
        let flag_sets = [vec![true, true], vec![false, false], vec![true, false]];
        for (index, flags) in flag_sets.into_iter().enumerate() {
            let mut samples = Samples::default();
            let error = Samples::fold_all("psi", &batch(vec![1.0, f64::NAN], flags), &mut samples)
                .and_then(|()| {
                    // through a partial state, as on several partitions, for one of them
                    if index == 2 {
                        let state = Samples::into_state(vec![std::mem::take(&mut samples)])?;
                        Samples::merge_states(
                            "psi",
                            &state,
                            std::slice::from_mut(&mut samples),
                            |_| 0,
                        )?;
                    }
                    samples.check("psi", false)
                })
                .expect_err("NaN is refused");
            assert!(error.to_string().contains("psi"), "{error}");
        }
    }
}
