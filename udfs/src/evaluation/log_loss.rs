//! `log_loss(probability, label)`: binary cross-entropy.

use std::marker::PhantomData;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::arguments::float_column;
use crate::common::arguments::{binary_label, check_arity, coerce_argument, float};
use crate::common::pairs::{PairAggregate, PairKernel, add_states, indicator_column};
use crate::common::samples::binary_flags;
use crate::error::{invalid_argument, non_finite};
use crate::evaluation::EVALUATION_SECTION;

const NAME: &str = "log_loss";
const SIGNATURE: &str = "log_loss(probability numeric, label boolean|0/1)";

/// scikit-learn clips probabilities to [ε, 1 − ε] with the float64 machine epsilon, so a
/// confident wrong answer costs −ln ε ≈ 36.04 rather than infinity.
const CLIP: f64 = f64::EPSILON;

#[derive(Debug)]
struct LogLoss;

impl PairKernel for LogLoss {
    const STATE: &'static [&'static str] = &["rows", "losses"];

    fn from_arguments(_args: &AccumulatorArgs) -> Result<Self> {
        Ok(Self)
    }

    fn columns(&self, args: &[ArrayRef]) -> Result<(Float64Array, Float64Array)> {
        Ok((
            float_column(NAME, &args[0])?.clone(),
            indicator_column(&binary_flags(NAME, &args[1])?),
        ))
    }

    fn update(&self, state: &mut [f64], probability: f64, label: f64) -> Result<()> {
        if !probability.is_finite() {
            return Err(non_finite(NAME, probability));
        }
        if !(0.0..=1.0).contains(&probability) {
            return Err(invalid_argument(
                NAME,
                format!("probabilities must lie in [0, 1], found {probability}"),
            ));
        }
        let of_label = if label == 1.0 {
            probability
        } else {
            1.0 - probability
        };
        state[0] += 1.0;
        state[1] -= of_label.clamp(CLIP, 1.0 - CLIP).ln();
        Ok(())
    }

    fn merge(&self, state: &mut [f64], other: &[f64]) {
        add_states(state, other);
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
        coerce_argument(NAME, SIGNATURE, arg_types, 1, binary_label)?,
    ])
}

fn documentation() -> Documentation {
    Documentation::builder(
        EVALUATION_SECTION,
        "Mean binary cross-entropy −mean(y·ln p + (1 − y)·ln(1 − p)) of predicted probabilities \
         of the positive class, as sklearn.metrics.log_loss(y, p, labels=[0, 1]): probabilities \
         are clipped to [ε, 1 − ε] with ε = 2⁻⁵² so a confident wrong answer costs 36.04. \
         Probabilities outside [0, 1], NaN and infinities are errors; labels are booleans or \
         0/1. Rows with a NULL are ignored; no rows give NULL.",
        "log_loss(probability, label)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT log_loss(predict_proba('churn', *), churned) FROM holdout;\n\
         ```",
    )
    .with_argument("probability", "predicted probability of the positive class")
    .with_argument("label", "true label: boolean, or 0/1")
    .build()
}

/// The `log_loss` aggregate.
pub fn log_loss_udaf() -> AggregateUDF {
    PairAggregate::<LogLoss> {
        name: NAME,
        parameters: &["probability", "label"],
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

    #[test]
    fn hand_computed_with_clipping() {
        let mut state = [0.0, 0.0];
        LogLoss.update(&mut state, 0.8, 1.0).expect("valid");
        LogLoss.update(&mut state, 0.0, 1.0).expect("valid");
        let expected = (-(0.8f64.ln()) - f64::EPSILON.ln()) / 2.0;
        assert_eq!(
            LogLoss.evaluate(&state).expect("evaluates"),
            ScalarValue::Float64(Some(expected))
        );
        assert!(LogLoss.update(&mut state, 1.5, 0.0).is_err());
    }
}
