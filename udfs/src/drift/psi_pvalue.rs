//! `psi_pvalue(value, is_reference [, bins [, binning]])`: how surprising an observed PSI is.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};
use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::common::categories::CategoryStatistic;
use crate::common::histogram::{
    BinSpec, Histogram, HistogramStatistic, coerce_histogram_arguments,
};
use crate::common::samples::SampleStatistic;
use crate::common::two_sample::TwoSampleAggregate;
use crate::drift::DRIFT_SECTION;
use crate::drift::psi::psi_of;

const NAME: &str = "psi_pvalue";
const SIGNATURE: &str = "psi_pvalue(value numeric|text|boolean, is_reference boolean|0/1 [, bins integer [, binning text]])";

/// Under "same distribution", PSI / (1/n + 1/m) is asymptotically χ² with bins − 1 degrees of
/// freedom (PSI is the symmetrised KL divergence, whose scaled value is a G-test-like statistic).
fn pvalue_of(histogram: &Histogram) -> Option<f64> {
    let psi = psi_of(histogram)?;
    let degrees_of_freedom = histogram.bins().saturating_sub(1);
    if degrees_of_freedom == 0 {
        return Some(1.0);
    }
    let scale = 1.0 / histogram.reference_count as f64 + 1.0 / histogram.current_count as f64;
    let distribution = ChiSquared::new(degrees_of_freedom as f64).ok()?;
    Some(distribution.sf(psi / scale))
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    coerce_histogram_arguments(NAME, SIGNATURE, arg_types, 4)
}

fn numeric(args: &AccumulatorArgs) -> Result<Arc<dyn SampleStatistic>> {
    let spec = BinSpec::from_arguments(NAME, args, 2, Some(3))?;
    Ok(HistogramStatistic::shared(spec, pvalue_of))
}

fn categorical(args: &AccumulatorArgs) -> Result<Arc<dyn CategoryStatistic>> {
    let spec = BinSpec::from_arguments(NAME, args, 2, Some(3))?;
    Ok(HistogramStatistic::shared(spec, pvalue_of))
}

fn documentation() -> Documentation {
    Documentation::builder(
        DRIFT_SECTION,
        "p-value of the observed PSI under the hypothesis that both samples come from the same \
         distribution, from PSI's asymptotic null distribution: PSI / (1/n_ref + 1/n_cur) ~ \
         χ²(bins − 1), with bins the number of bins actually used (after equal quantile edges \
         are merged, or the number of categories). A threshold on this p-value means the same at \
         any sample size, unlike a fixed PSI threshold. One bin gives 1.0. Same arguments and \
         binning as psi.",
        "psi_pvalue(value, is_reference [, bins [, binning]])",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT psi(x, is_ref) AS psi, psi_pvalue(x, is_ref) AS p FROM scores;\n\
         ```",
    )
    .with_argument("value", "numeric, text or boolean expression")
    .with_argument("is_reference", "true for rows of the reference sample")
    .with_argument("bins", "number of bins for numeric values, default 10")
    .with_argument("binning", "'quantile' (default) or 'equal_width'")
    .build()
}

/// The `psi_pvalue` aggregate.
pub fn psi_pvalue_udaf() -> AggregateUDF {
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

    #[test]
    fn identical_proportions_give_pvalue_one() {
        let histogram = Histogram::from_counts(vec![5, 5], vec![10, 10]).expect("both samples");
        assert_eq!(pvalue_of(&histogram), Some(1.0));
    }

    #[test]
    fn scales_with_sample_size() {
        // e = [0.4, 0.6], a = [0.6, 0.4]: psi = 0.2·ln 1.5 + 0.2·ln 1.5 = 0.4·ln 1.5
        let histogram = Histogram::from_counts(vec![40, 60], vec![60, 40]).expect("both samples");
        // scipy.stats.chi2.sf(0.4 * log(1.5) / (1/100 + 1/100), 1)
        let expected = 0.004403867694977883;
        let p = pvalue_of(&histogram).expect("defined");
        assert!((p - expected).abs() < 1e-12 * expected, "{p} vs {expected}");
        assert!(p < 0.01);
    }
}
