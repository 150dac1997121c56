//! `js_divergence(value, is_reference [, bins])`: Jensen–Shannon divergence of the bin shares.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::categories::CategoryStatistic;
use crate::common::histogram::{
    BinSpec, Histogram, HistogramStatistic, coerce_histogram_arguments,
};
use crate::common::samples::SampleStatistic;
use crate::common::two_sample::TwoSampleAggregate;
use crate::drift::DRIFT_SECTION;

const NAME: &str = "js_divergence";
const SIGNATURE: &str =
    "js_divergence(value numeric|text|boolean, is_reference boolean|0/1 [, bins integer])";

/// `½·KL(e‖m) + ½·KL(a‖m)` with `m = (e + a)/2`, natural logarithm; empty bins contribute 0, so no
/// smoothing is needed.
pub(crate) fn js_divergence_of(histogram: &Histogram) -> Option<f64> {
    let half_kl = |p: f64, m: f64| if p > 0.0 { p * (p / m).ln() } else { 0.0 };
    Some(
        histogram
            .reference
            .iter()
            .zip(&histogram.current)
            .map(|(&expected, &actual)| {
                let middle = (expected + actual) / 2.0;
                0.5 * (half_kl(expected, middle) + half_kl(actual, middle))
            })
            .sum::<f64>()
            .max(0.0),
    )
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    coerce_histogram_arguments(NAME, SIGNATURE, arg_types, 3)
}

fn numeric(args: &AccumulatorArgs) -> Result<Arc<dyn SampleStatistic>> {
    let spec = BinSpec::from_arguments(NAME, args, 2, None)?;
    Ok(HistogramStatistic::shared(spec, js_divergence_of))
}

fn categorical(args: &AccumulatorArgs) -> Result<Arc<dyn CategoryStatistic>> {
    let spec = BinSpec::from_arguments(NAME, args, 2, None)?;
    Ok(HistogramStatistic::shared(spec, js_divergence_of))
}

fn documentation() -> Documentation {
    Documentation::builder(
        DRIFT_SECTION,
        "Jensen–Shannon divergence between the reference and current bin proportions, with the \
         natural logarithm (range 0..ln 2). This is the divergence, not the distance: \
         sqrt(js_divergence(...)) equals scipy.spatial.distance.jensenshannon(e, a), the \
         statistic Evidently thresholds at 0.1. Numeric values use `bins` (default 10) bins at \
         reference quantiles, open-ended outer bins; text and boolean values bin by category. \
         Empty bins need no smoothing. NULLs are ignored; an empty sample gives NULL.",
        "js_divergence(value, is_reference [, bins])",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT sqrt(js_divergence(country, dataset = 'train')) AS js_distance FROM visits;\n\
         ```",
    )
    .with_argument("value", "numeric, text or boolean expression")
    .with_argument("is_reference", "true for rows of the reference sample")
    .with_argument(
        "bins",
        "number of quantile bins for numeric values, default 10",
    )
    .build()
}

/// The `js_divergence` aggregate.
pub fn js_divergence_udaf() -> AggregateUDF {
    TwoSampleAggregate {
        name: NAME,
        parameters: &["value", "is_reference", "bins"],
        return_type: DataType::Float64,
        coerce,
        numeric: Some(numeric),
        categorical: Some(categorical),
        documentation: documentation(),
    }
    .into_udaf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_supports_reach_ln_2() {
        let histogram = Histogram::from_counts(vec![3, 0], vec![0, 4]).expect("both samples");
        let divergence = js_divergence_of(&histogram).expect("defined");
        assert!((divergence - 2f64.ln()).abs() < 1e-15);
    }
}
