//! `psi(value, is_reference [, bins [, binning]])`: Population Stability Index.

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

const NAME: &str = "psi";
const SIGNATURE: &str =
    "psi(value numeric|text|boolean, is_reference boolean|0/1 [, bins integer [, binning text]])";

/// `Σ (a_i − e_i) · ln(a_i / e_i)` over the bins, `e` the reference shares and `a` the current
/// shares, each empty bin's share replaced by 1e-4 (no renormalisation, as Evidently).
pub(crate) fn psi_of(histogram: &Histogram) -> Option<f64> {
    Some(
        histogram
            .reference
            .iter()
            .zip(&histogram.current)
            .map(|(&expected, &actual)| {
                let (expected, actual) = (smoothed(expected), smoothed(actual));
                (actual - expected) * (actual / expected).ln()
            })
            .sum(),
    )
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    coerce_histogram_arguments(NAME, SIGNATURE, arg_types, 4)
}

fn numeric(args: &AccumulatorArgs) -> Result<Arc<dyn SampleStatistic>> {
    let spec = BinSpec::from_arguments(NAME, args, 2, Some(3))?;
    Ok(HistogramStatistic::shared(spec, psi_of))
}

fn categorical(args: &AccumulatorArgs) -> Result<Arc<dyn CategoryStatistic>> {
    let spec = BinSpec::from_arguments(NAME, args, 2, Some(3))?;
    Ok(HistogramStatistic::shared(spec, psi_of))
}

fn documentation() -> Documentation {
    Documentation::builder(
        DRIFT_SECTION,
        "Population Stability Index of the current sample (is_reference = false) against the \
         reference sample (is_reference = true): Σ (a − e)·ln(a / e) over bin proportions. \
         Numeric values use 10 bins at reference quantiles by default ('quantile'), or equal-width \
         bins over the reference range ('equal_width'); the outer bins are open-ended so no \
         current value is dropped, and bins are [lower, upper). Text and boolean values bin by \
         category (bins and binning are ignored). An empty bin's proportion is replaced by 1e-4. \
         NULLs are ignored; NaN and infinities are errors; an empty sample gives NULL. \
         Bands: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 significant shift. \
         Worked example: reference 1..10, current [1,1,2,2,3,8,9,10,10,10], 5 bins: the \
         reference quantile edges are 2.8, 4.6, 6.4, 8.2, so the reference shares are 0.2 each \
         and the current shares 0.4, 0.1, 0 (→ 1e-4), 0.1, 0.4; the terms are 0.138629, \
         0.069315, 1.519420, 0.069315, 0.138629 and PSI = 1.935309.",
        "psi(value, is_reference [, bins [, binning]])",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT psi(amount, snapshot = 'train') FROM payments WHERE snapshot IN ('train', 'today');\n\
         > SELECT region, psi(amount, is_ref, 20, 'equal_width') FROM t GROUP BY region;\n\
         ```",
    )
    .with_argument("value", "numeric, text or boolean expression")
    .with_argument("is_reference", "true for rows of the reference (expected) sample")
    .with_argument("bins", "number of bins for numeric values (2..10000), default 10")
    .with_argument("binning", "'quantile' (default) or 'equal_width'")
    .build()
}

/// The `psi` aggregate.
pub fn psi_udaf() -> AggregateUDF {
    TwoSampleAggregate {
        name: NAME,
        parameters: &["value", "is_reference", "bins", "binning"],
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
    use crate::common::histogram::Binning;
    use crate::common::samples::Samples;

    #[test]
    fn documented_example() {
        let mut samples = Samples {
            reference: (1..=10).map(f64::from).collect(),
            current: vec![1.0, 1.0, 2.0, 2.0, 3.0, 8.0, 9.0, 10.0, 10.0, 10.0],
        };
        let spec = BinSpec {
            bins: 5,
            binning: Binning::Quantile,
        };
        let histogram = Histogram::of_samples(spec, &mut samples).expect("both samples");
        assert_eq!(histogram.reference, vec![0.2; 5]);
        assert_eq!(histogram.current, vec![0.4, 0.1, 0.0, 0.1, 0.4]);
        let expected =
            0.2 * 2f64.ln() * 2.0 + 0.1 * 2f64.ln() * 2.0 + (1e-4 - 0.2) * (1e-4f64 / 0.2).ln();
        let psi = psi_of(&histogram).expect("defined");
        assert!((psi - expected).abs() < 1e-15);
        assert!((psi - 1.935309).abs() < 1e-6);
    }

    #[test]
    fn identical_samples_have_zero_psi() {
        let mut samples = Samples {
            reference: vec![1.0, 2.0, 3.0, 4.0],
            current: vec![4.0, 3.0, 2.0, 1.0],
        };
        let spec = BinSpec {
            bins: 10,
            binning: Binning::Quantile,
        };
        let histogram = Histogram::of_samples(spec, &mut samples).expect("both samples");
        assert_eq!(psi_of(&histogram), Some(0.0));
    }
}
