//! What the histogram statistics (PSI, its p-value, JS, KL) share: the arguments
//! `(value, is_reference [, bins [, binning]])`, numeric or categorical input, the bins of
//! `common::histogram`, and one documentation shape. Each statistic states only its formula.

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

pub(crate) trait HistogramMeasure: 'static {
    const NAME: &'static str;
    /// Whether the function takes a fourth argument choosing the binning; without it numeric
    /// values always use reference quantiles.
    const TAKES_BINNING: bool;
    /// What it computes, and what it equals in scipy or Evidently.
    const DESCRIPTION: &'static str;
    /// The SQL lines of the documentation's example.
    const SQL_EXAMPLE: &'static str;
    /// `None` where undefined.
    fn measure(histogram: &Histogram) -> Option<f64>;
}

fn signature<M: HistogramMeasure>() -> String {
    let binning = if M::TAKES_BINNING {
        " [, binning text]"
    } else {
        ""
    };
    format!(
        "{}(value numeric|text|boolean, is_reference boolean|0/1 [, bins integer{binning}])",
        M::NAME
    )
}

fn coerce<M: HistogramMeasure>(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    let arguments = if M::TAKES_BINNING { 4 } else { 3 };
    coerce_histogram_arguments(M::NAME, &signature::<M>(), arg_types, arguments)
}

fn spec<M: HistogramMeasure>(args: &AccumulatorArgs) -> Result<BinSpec> {
    BinSpec::from_arguments(M::NAME, args, 2, M::TAKES_BINNING.then_some(3))
}

fn numeric<M: HistogramMeasure>(args: &AccumulatorArgs) -> Result<Arc<dyn SampleStatistic>> {
    Ok(HistogramStatistic::shared(spec::<M>(args)?, M::measure))
}

fn categorical<M: HistogramMeasure>(args: &AccumulatorArgs) -> Result<Arc<dyn CategoryStatistic>> {
    Ok(HistogramStatistic::shared(spec::<M>(args)?, M::measure))
}

/// The aggregate UDF of a histogram statistic.
pub(crate) fn histogram_udaf<M: HistogramMeasure>() -> AggregateUDF {
    let binning = if M::TAKES_BINNING {
        "Numeric values use `bins` (default 10) bins at reference quantiles ('quantile', \
         numpy's linear quantiles) or equal-width bins over the reference range \
         ('equal_width')"
    } else {
        "Numeric values use `bins` (default 10) bins at reference quantiles (numpy's linear \
         quantiles)"
    };
    let mut documentation = Documentation::builder(
        DRIFT_SECTION,
        format!(
            "{} {binning}; bins are [lower, upper) and the outer bins are open-ended, so no \
             current value is dropped. Text and boolean values bin by category (bins and \
             binning are ignored). NULLs are ignored; NaN and infinities are errors; an empty \
             sample gives NULL.",
            M::DESCRIPTION
        ),
        if M::TAKES_BINNING {
            format!("{}(value, is_reference [, bins [, binning]])", M::NAME)
        } else {
            format!("{}(value, is_reference [, bins])", M::NAME)
        },
    )
    .with_sql_example(format!("```sql\n{}\n```", M::SQL_EXAMPLE))
    .with_argument("value", "numeric, text or boolean expression")
    .with_argument(
        "is_reference",
        "true (or 1) for rows of the reference sample",
    )
    .with_argument(
        "bins",
        "number of bins for numeric values (2..10000), default 10",
    );
    let mut parameters: &'static [&'static str] = &["value", "is_reference", "bins"];
    if M::TAKES_BINNING {
        documentation =
            documentation.with_argument("binning", "'quantile' (default) or 'equal_width'");
        parameters = &["value", "is_reference", "bins", "binning"];
    }
    TwoSampleAggregate {
        name: M::NAME,
        parameters,
        return_type: DataType::Float64,
        coerce: coerce::<M>,
        numeric: Some(numeric::<M>),
        categorical: Some(categorical::<M>),
        documentation: documentation.build(),
    }
    .into_udaf()
}
