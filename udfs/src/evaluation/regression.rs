//! What the regression metrics share: two numeric columns of finite values, a running-sum state,
//! and one documentation shape. Each metric states only its sums and its formula.

use std::marker::PhantomData;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::arguments::float_column;
use crate::common::arguments::{check_arity, coerce_argument, float};
use crate::common::pairs::{PairAggregate, PairKernel};
use crate::error::non_finite;
use crate::evaluation::EVALUATION_SECTION;

pub(crate) trait RegressionMetric: std::fmt::Debug + Send + Sync + 'static {
    const NAME: &'static str;
    const STATE: &'static [&'static str];
    /// What it computes and which scikit-learn function it equals.
    const DESCRIPTION: &'static str;
    fn update(state: &mut [f64], prediction: f64, label: f64);
    fn merge(state: &mut [f64], other: &[f64]);
    /// `None` where the metric is undefined (no rows).
    fn evaluate(state: &[f64]) -> Option<f64>;
}

#[derive(Debug)]
pub(crate) struct Regression<M>(PhantomData<M>);

impl<M: RegressionMetric> PairKernel for Regression<M> {
    const STATE: &'static [&'static str] = M::STATE;

    fn from_arguments(_args: &AccumulatorArgs) -> Result<Self> {
        Ok(Self(PhantomData))
    }

    fn columns(&self, args: &[ArrayRef]) -> Result<(Float64Array, Float64Array)> {
        Ok((
            float_column(M::NAME, &args[0])?.clone(),
            float_column(M::NAME, &args[1])?.clone(),
        ))
    }

    fn update(&self, state: &mut [f64], prediction: f64, label: f64) -> Result<()> {
        for value in [prediction, label] {
            if !value.is_finite() {
                return Err(non_finite(M::NAME, value));
            }
        }
        M::update(state, prediction, label);
        Ok(())
    }

    fn merge(&self, state: &mut [f64], other: &[f64]) {
        M::merge(state, other);
    }

    fn evaluate(&self, state: &[f64]) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(M::evaluate(state)))
    }
}

fn coerce<M: RegressionMetric>(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    let signature = format!("{}(prediction numeric, label numeric)", M::NAME);
    check_arity(M::NAME, &signature, arg_types, 2..=2)?;
    Ok(vec![
        coerce_argument(M::NAME, &signature, arg_types, 0, float)?,
        coerce_argument(M::NAME, &signature, arg_types, 1, float)?,
    ])
}

/// The aggregate UDF of a regression metric.
pub(crate) fn regression_udaf<M: RegressionMetric>() -> AggregateUDF {
    let documentation = Documentation::builder(
        EVALUATION_SECTION,
        format!(
            "{} Rows with a NULL are ignored; NaN and infinities are errors; no rows give NULL.",
            M::DESCRIPTION
        ),
        format!("{}(prediction, label)", M::NAME),
    )
    .with_sql_example(format!(
        "```sql\n> SELECT {}(predict('house_price', *), price) FROM holdout;\n```",
        M::NAME
    ))
    .with_argument("prediction", "predicted value")
    .with_argument("label", "true value")
    .build();
    PairAggregate::<Regression<M>> {
        name: M::NAME,
        parameters: &["prediction", "label"],
        return_type: DataType::Float64,
        coerce: coerce::<M>,
        documentation,
        kernel: PhantomData,
    }
    .into_udaf()
}

/// Folds pairs as DataFusion would from two partitions, then merges: for the metrics' tests.
#[cfg(test)]
pub(crate) fn fold<M: RegressionMetric>(pairs: &[(f64, f64)]) -> Option<f64> {
    let (left, right) = pairs.split_at(pairs.len() / 2);
    let mut states = [vec![0.0; M::STATE.len()], vec![0.0; M::STATE.len()]];
    for (state, part) in states.iter_mut().zip([left, right]) {
        for &(prediction, label) in part {
            M::update(state, prediction, label);
        }
    }
    let [mut merged, other] = states;
    M::merge(&mut merged, &other);
    M::evaluate(&merged)
}
