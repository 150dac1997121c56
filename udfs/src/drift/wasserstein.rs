//! `wasserstein(value, is_reference)`: first Wasserstein (earth mover's) distance.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::arguments::coerce_value_and_flag;
use crate::common::samples::{SampleStatistic, Samples};
use crate::common::sort_both;
use crate::common::two_sample::TwoSampleAggregate;
use crate::drift::DRIFT_SECTION;

const NAME: &str = "wasserstein";
const SIGNATURE: &str = "wasserstein(value numeric, is_reference boolean|0/1)";

/// ∫ |F_ref − F_cur| dx between the empirical CDFs, integrated exactly over the merged sorted
/// values (as `scipy.stats.wasserstein_distance`).
pub(crate) fn wasserstein_distance(reference: &mut [f64], current: &mut [f64]) -> Option<f64> {
    if reference.is_empty() || current.is_empty() {
        return None;
    }
    sort_both(reference, current);
    let (n_reference, n_current) = (reference.len() as f64, current.len() as f64);
    let (mut below_reference, mut below_current) = (0usize, 0usize);
    let mut previous: Option<f64> = None;
    let mut distance = 0.0;
    // Between consecutive merged values x_k < x_{k+1}, both CDFs are constant at their value at
    // x_k: the counts of values already consumed.
    while below_reference < reference.len() || below_current < current.len() {
        let take_reference = below_current == current.len()
            || (below_reference < reference.len()
                && reference[below_reference] <= current[below_current]);
        let next = if take_reference {
            reference[below_reference]
        } else {
            current[below_current]
        };
        if let Some(previous) = previous {
            let gap =
                (below_reference as f64 / n_reference - below_current as f64 / n_current).abs();
            distance += gap * (next - previous);
        }
        previous = Some(next);
        if take_reference {
            below_reference += 1;
        } else {
            below_current += 1;
        }
    }
    Some(distance)
}

#[derive(Debug)]
struct Wasserstein;

impl SampleStatistic for Wasserstein {
    fn evaluate(&self, _function: &str, samples: &mut Samples) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(wasserstein_distance(
            samples.reference.values_mut(),
            samples.current.values_mut(),
        )))
    }
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    coerce_value_and_flag(NAME, SIGNATURE, arg_types)
}

fn numeric(_args: &AccumulatorArgs) -> Result<Arc<dyn SampleStatistic>> {
    Ok(Arc::new(Wasserstein))
}

fn documentation() -> Documentation {
    Documentation::builder(
        DRIFT_SECTION,
        "First Wasserstein distance (earth mover's distance) between the reference and current \
         samples, in the units of the values: the area between the two empirical CDFs, as \
         scipy.stats.wasserstein_distance. Divide by the reference standard deviation for a \
         scale-free drift score (drift_report does). NULLs are ignored; NaN and infinities are \
         errors; an empty sample gives NULL.",
        "wasserstein(value, is_reference)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT wasserstein(x, is_ref) / stddev(x) FILTER (WHERE is_ref) FROM t;\n\
         ```",
    )
    .with_argument("value", "numeric expression")
    .with_argument("is_reference", "true for rows of the reference sample")
    .build()
}

/// The `wasserstein` aggregate.
pub fn wasserstein_udaf() -> AggregateUDF {
    TwoSampleAggregate {
        name: NAME,
        parameters: &["value", "is_reference"],
        return_type: DataType::Float64,
        coerce,
        numeric: Some(numeric),
        categorical: None,
        documentation: documentation(),
    }
    .into_udaf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        // scipy.stats.wasserstein_distance([0, 1, 3], [5, 6, 8]) == 5.0 (a shift by 5)
        let distance = wasserstein_distance(&mut [0.0, 1.0, 3.0], &mut [5.0, 6.0, 8.0]);
        assert_eq!(distance, Some(5.0));
        // [0, 10] vs [0]: CDFs differ by 1/2 over [0, 10)
        assert_eq!(
            wasserstein_distance(&mut [0.0, 10.0], &mut [0.0]),
            Some(5.0)
        );
    }

    #[test]
    fn empty_sample_is_undefined() {
        assert_eq!(wasserstein_distance(&mut [], &mut [1.0]), None);
    }
}
