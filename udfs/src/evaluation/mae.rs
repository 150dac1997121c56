//! `mae(prediction, label)`: mean absolute error.

use std::marker::PhantomData;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::arguments::{check_arity, coerce_argument, float};
use crate::common::pairs::{PairAggregate, PairKernel, float_column};
use crate::error::non_finite;
use crate::evaluation::EVALUATION_SECTION;

const NAME: &str = "mae";
const SIGNATURE: &str = "mae(prediction numeric, label numeric)";

#[derive(Debug)]
struct MeanAbsoluteError;

impl PairKernel for MeanAbsoluteError {
    const STATE: &'static [&'static str] = &["rows", "absolute_errors"];

    fn from_arguments(_args: &AccumulatorArgs) -> Result<Self> {
        Ok(Self)
    }

    fn columns(&self, args: &[ArrayRef]) -> Result<(Float64Array, Float64Array)> {
        Ok((float_column(NAME, &args[0])?, float_column(NAME, &args[1])?))
    }

    fn update(&self, state: &mut [f64], prediction: f64, label: f64) -> Result<()> {
        for value in [prediction, label] {
            if !value.is_finite() {
                return Err(non_finite(NAME, value));
            }
        }
        state[0] += 1.0;
        state[1] += (prediction - label).abs();
        Ok(())
    }

    fn merge(&self, state: &mut [f64], other: &[f64]) {
        state[0] += other[0];
        state[1] += other[1];
    }

    fn evaluate(&self, state: &[f64]) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(
            (state[0] > 0.0).then(|| state[1] / state[0]),
        ))
    }
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    check_arity(NAME, SIGNATURE, arg_types, 2..=2)?;
    Ok(vec![
        coerce_argument(NAME, SIGNATURE, arg_types, 0, float)?,
        coerce_argument(NAME, SIGNATURE, arg_types, 1, float)?,
    ])
}

fn documentation() -> Documentation {
    Documentation::builder(
        EVALUATION_SECTION,
        "Mean absolute error mean(|prediction − label|), as sklearn.metrics.mean_absolute_error. Rows with a NULL are ignored; NaN and infinities are errors; no rows give \
         NULL.",
        "mae(prediction, label)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT mae(predict('house_price', *), price) FROM holdout;\n\
         ```",
    )
    .with_argument("prediction", "predicted value")
    .with_argument("label", "true value")
    .build()
}

/// The `mae` aggregate.
pub fn mae_udaf() -> AggregateUDF {
    PairAggregate::<MeanAbsoluteError> {
        name: NAME,
        parameters: &["prediction", "label"],
        return_type: DataType::Float64,
        coerce,
        documentation: documentation(),
        kernel: PhantomData,
    }
    .into_udaf()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(pairs: &[(f64, f64)]) -> ScalarValue {
        let kernel = MeanAbsoluteError;
        // Two partial states merged, as DataFusion does across partitions.
        let (left, right) = pairs.split_at(pairs.len() / 2);
        let mut states = [
            vec![0.0; MeanAbsoluteError::STATE.len()],
            vec![0.0; MeanAbsoluteError::STATE.len()],
        ];
        for (state, part) in states.iter_mut().zip([left, right]) {
            for &(prediction, label) in part {
                kernel.update(state, prediction, label).expect("finite");
            }
        }
        let [mut merged, other] = states;
        kernel.merge(&mut merged, &other);
        kernel.evaluate(&merged).expect("evaluates")
    }

    #[test]
    fn hand_computed() {
        let pairs = [(2.0, 1.0), (0.0, 1.0), (4.0, 1.0), (-2.0, 1.0)];
        assert_eq!(fold(&pairs), ScalarValue::Float64(Some(2.0)));
    }
}
