//! `ks_2samp(value, is_reference)`: two-sample Kolmogorov–Smirnov test.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::arguments::coerce_value_and_flag;
use crate::common::ks_statistic::ks_statistic;
use crate::common::samples::{SampleStatistic, Samples};
use crate::common::two_sample::TwoSampleAggregate;
use crate::common::{struct_type, struct_value};
use crate::distributions::kolmogorov::ks_2samp_two_sided;
use crate::drift::DRIFT_SECTION;

const NAME: &str = "ks_2samp";
const SIGNATURE: &str = "ks_2samp(value numeric, is_reference boolean|0/1)";

fn return_type() -> DataType {
    struct_type(&[
        ("statistic", DataType::Float64),
        ("pvalue", DataType::Float64),
    ])
}

/// max |F_ref(x) − F_cur(x)| over the data, the CDFs right-continuous (as scipy, which evaluates
/// `searchsorted(..., side='right')` at every value).
#[derive(Debug)]
struct KolmogorovSmirnov;

impl SampleStatistic for KolmogorovSmirnov {
    fn evaluate(&self, _function: &str, samples: &mut Samples) -> Result<ScalarValue> {
        let return_type = return_type();
        if samples.reference.is_empty() || samples.current.is_empty() {
            return struct_value(&return_type, None);
        }
        let d = ks_statistic(&mut samples.reference, &mut samples.current);
        let (statistic, pvalue) = ks_2samp_two_sided(
            samples.reference.len() as u64,
            samples.current.len() as u64,
            d,
        );
        struct_value(
            &return_type,
            Some(vec![
                ScalarValue::Float64(Some(statistic)),
                ScalarValue::Float64(Some(pvalue)),
            ]),
        )
    }
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    coerce_value_and_flag(NAME, SIGNATURE, arg_types)
}

fn numeric(_args: &AccumulatorArgs) -> Result<Arc<dyn SampleStatistic>> {
    Ok(Arc::new(KolmogorovSmirnov))
}

fn documentation() -> Documentation {
    Documentation::builder(
        DRIFT_SECTION,
        "Two-sided two-sample Kolmogorov–Smirnov test of the reference against the current \
         sample, as scipy.stats.ks_2samp with its defaults (method='auto'): the p-value is exact \
         when both samples have at most 10000 values and asymptotic (Kolmogorov distribution \
         with n·m/(n+m) effective size) otherwise. Returns a struct {statistic, pvalue}. NULLs \
         are ignored; NaN and infinities are errors; an empty sample gives NULL.",
        "ks_2samp(value, is_reference)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT ks_2samp(x, is_ref)['statistic'], ks_2samp(x, is_ref)['pvalue'] FROM t;\n\
         > SELECT feature, ks_2samp(value, day < DATE '2026-11-01')['pvalue'] FROM long_table GROUP BY feature;\n\
         ```",
    )
    .with_argument("value", "numeric expression")
    .with_argument("is_reference", "true for rows of the reference sample")
    .build()
}

/// The `ks_2samp` aggregate.
pub fn ks_2samp_udaf() -> AggregateUDF {
    TwoSampleAggregate {
        name: NAME,
        parameters: &["value", "is_reference"],
        return_type: return_type(),
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
    fn statistic_counts_ties_on_both_sides() {
        // scipy.stats.ks_2samp([1, 2, 2, 3], [2, 2, 4]).statistic == 1/3: the gaps are 1/4 at
        // x = 1, 3/4 − 2/3 at x = 2 and 1 − 2/3 at x = 3
        let statistic = |reference: Vec<f64>, current: Vec<f64>| {
            ks_statistic(&mut reference.into(), &mut current.into())
        };
        let d = statistic(vec![1.0, 2.0, 2.0, 3.0], vec![2.0, 2.0, 4.0]);
        assert!((d - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(statistic(vec![1.0, 2.0], vec![3.0, 4.0]), 1.0);
        assert_eq!(statistic(vec![1.0, 2.0], vec![2.0, 1.0]), 0.0);
    }
}
