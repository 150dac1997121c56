//! True/false positive counts for one positive class, shared by precision, recall and F1.

use std::marker::PhantomData;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::pairs::{PairAggregate, PairKernel, add_states, indicator_column};
use crate::evaluation::EVALUATION_SECTION;
use crate::evaluation::labels::{coerce_labels, equal_to, positive_label};

/// A metric of (true positives, predicted positives, actual positives).
pub(crate) trait OutcomeMetric: std::fmt::Debug + Send + Sync + 'static {
    const NAME: &'static str;
    /// The formula and the scikit-learn function it equals.
    const DESCRIPTION: &'static str;
    /// Called only with at least one row; a zero denominator scores 0 (scikit-learn's
    /// `zero_division=0.0`).
    fn score(true_positives: f64, predicted_positives: f64, actual_positives: f64) -> f64;
}

fn coerce<M: OutcomeMetric>(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    let signature = format!("{}(prediction, label [, positive_label])", M::NAME);
    coerce_labels(M::NAME, &signature, arg_types, 2..=3)
}

/// The aggregate UDF of a binary classification metric.
pub(crate) fn outcome_udaf<M: OutcomeMetric>() -> AggregateUDF {
    let documentation = Documentation::builder(
        EVALUATION_SECTION,
        format!(
            "{} Binary: positive_label (default 1, or true for booleans; required for text \
             labels) names the positive class, every other value is negative. A zero \
             denominator gives 0, as scikit-learn's zero_division=0. Predictions and labels of \
             different types are compared as text. Rows with a NULL are ignored; no rows give \
             NULL.",
            M::DESCRIPTION
        ),
        format!("{}(prediction, label [, positive_label])", M::NAME),
    )
    .with_sql_example(format!(
        "```sql\n> SELECT {name}(predict('churn', *), churned) FROM holdout;\n\
         > SELECT {name}(predicted_plan, actual_plan, 'premium') FROM scored;\n```",
        name = M::NAME
    ))
    .with_argument("prediction", "predicted label")
    .with_argument("label", "true label")
    .with_argument(
        "positive_label",
        "constant: the positive class (default 1 / true)",
    )
    .build();
    PairAggregate::<BinaryOutcomes<M>> {
        name: M::NAME,
        parameters: &["prediction", "label", "positive_label"],
        return_type: DataType::Float64,
        coerce: coerce::<M>,
        documentation,
        kernel: PhantomData,
    }
    .into_udaf()
}

/// `a / b`, or 0 when `b` is 0.
pub(crate) fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

#[derive(Debug)]
pub(crate) struct BinaryOutcomes<M> {
    positive: ScalarValue,
    metric: PhantomData<M>,
}

impl<M: OutcomeMetric> PairKernel for BinaryOutcomes<M> {
    const STATE: &'static [&'static str] = &["rows", "true_positives", "predicted", "actual"];

    fn from_arguments(args: &AccumulatorArgs) -> Result<Self> {
        Ok(Self {
            positive: positive_label(M::NAME, args, 2)?,
            metric: PhantomData,
        })
    }

    fn columns(&self, args: &[ArrayRef]) -> Result<(Float64Array, Float64Array)> {
        Ok((
            indicator_column(&equal_to(&args[0], &self.positive)?),
            indicator_column(&equal_to(&args[1], &self.positive)?),
        ))
    }

    fn update(&self, state: &mut [f64], predicted: f64, actual: f64) -> Result<()> {
        state[0] += 1.0;
        state[1] += predicted * actual;
        state[2] += predicted;
        state[3] += actual;
        Ok(())
    }

    fn merge(&self, state: &mut [f64], other: &[f64]) {
        add_states(state, other);
    }

    fn evaluate(&self, state: &[f64]) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(
            (state[0] > 0.0).then(|| M::score(state[1], state[2], state[3])),
        ))
    }
}
