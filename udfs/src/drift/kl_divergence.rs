//! `kl_divergence(value, is_reference [, bins])`: Kullback–Leibler divergence of the bin shares.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::categories::CategoryStatistic;
use crate::common::histogram::{
    BinSpec, Histogram, HistogramStatistic, coerce_histogram_arguments, smoothed,
};
use crate::common::samples::SampleStatistic;
use crate::common::two_sample::TwoSampleAggregate;
use crate::drift::DRIFT_SECTION;

const NAME: &str = "kl_divergence";
const SIGNATURE: &str =
    "kl_divergence(value numeric|text|boolean, is_reference boolean|0/1 [, bins integer])";

/// KL(reference ‖ current) of the smoothed shares, renormalised to sum to one: the same number as
/// `scipy.stats.entropy(e, a)` on the smoothed shares (the direction Evidently uses).
pub(crate) fn kl_divergence_of(histogram: &Histogram) -> Option<f64> {
    let expected: Vec<f64> = histogram.reference.iter().copied().map(smoothed).collect();
    let actual: Vec<f64> = histogram.current.iter().copied().map(smoothed).collect();
    let (expected_total, actual_total) = (expected.iter().sum::<f64>(), actual.iter().sum::<f64>());
    Some(
        expected
            .iter()
            .zip(&actual)
            .map(|(&e, &a)| {
                let (e, a) = (e / expected_total, a / actual_total);
                e * (e / a).ln()
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
    Ok(HistogramStatistic::shared(spec, kl_divergence_of))
}

fn categorical(args: &AccumulatorArgs) -> Result<Arc<dyn CategoryStatistic>> {
    let spec = BinSpec::from_arguments(NAME, args, 2, None)?;
    Ok(HistogramStatistic::shared(spec, kl_divergence_of))
}

fn documentation() -> Documentation {
    Documentation::builder(
        DRIFT_SECTION,
        "Kullback–Leibler divergence KL(reference ‖ current) = Σ e·ln(e / a) of the bin \
         proportions, natural logarithm. Empty bins are smoothed to 1e-4 and both distributions \
         renormalised, so the value equals scipy.stats.entropy(e, a) on the smoothed shares. \
         Numeric values use `bins` (default 10) bins at reference quantiles, open-ended outer \
         bins; text and boolean values bin by category. NULLs are ignored; an empty sample gives \
         NULL.",
        "kl_divergence(value, is_reference [, bins])",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT kl_divergence(latency_ms, day = DATE '2026-11-01', 20) FROM requests;\n\
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

/// The `kl_divergence` aggregate.
pub fn kl_divergence_udaf() -> AggregateUDF {
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
    fn hand_computed_two_bins() {
        let histogram = Histogram::from_counts(vec![1, 1], vec![1, 3]).expect("both samples");
        let expected = 0.5 * (0.5f64 / 0.25).ln() + 0.5 * (0.5f64 / 0.75).ln();
        let divergence = kl_divergence_of(&histogram).expect("defined");
        assert!((divergence - expected).abs() < 1e-15);
    }
}
