//! `r2_score(prediction, label)`: coefficient of determination.

use std::marker::PhantomData;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::arguments::{check_arity, coerce_argument, float};
use crate::common::pairs::{
    PairAggregate, PairKernel, float_column, moments, moments_merge, moments_update,
};
use crate::error::non_finite;
use crate::evaluation::EVALUATION_SECTION;

const NAME: &str = "r2_score";
const SIGNATURE: &str = "r2_score(prediction numeric, label numeric)";

#[derive(Debug)]
struct CoefficientOfDetermination;

impl PairKernel for CoefficientOfDetermination {
    const STATE: &'static [&'static str] = &[
        "rows",
        "label_shift",
        "label_deviations",
        "label_squared_deviations",
        "squared_errors",
    ];

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
        moments_update(state, 0, label);
        let error = prediction - label;
        state[4] += error * error;
        Ok(())
    }

    fn merge(&self, state: &mut [f64], other: &[f64]) {
        moments_merge(state, other, 0);
        state[4] += other[4];
    }

    fn evaluate(&self, state: &[f64]) -> Result<ScalarValue> {
        let (rows, _, _, total) = moments(state, 0);
        let residual = state[4];
        Ok(ScalarValue::Float64(if rows < 2.0 {
            // scikit-learn: R² is not well-defined with fewer than two samples.
            None
        } else if total == 0.0 {
            // scikit-learn's force_finite: a constant label scores 1 if predicted exactly.
            Some(if residual == 0.0 { 1.0 } else { 0.0 })
        } else {
            Some(1.0 - residual / total)
        }))
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
        "Coefficient of determination 1 − Σ(label − prediction)² / Σ(label − mean(label))², as sklearn.metrics.r2_score: a constant label gives 1.0 when predicted exactly and 0.0 otherwise; fewer than two rows give NULL. The label variance is accumulated around a value of the data, so large offsets do not cancel. Rows with a NULL are ignored; NaN and infinities are errors; no rows give \
         NULL.",
        "r2_score(prediction, label)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT r2_score(predict('house_price', *), price) FROM holdout;\n\
         ```",
    )
    .with_argument("prediction", "predicted value")
    .with_argument("label", "true value")
    .build()
}

/// The `r2_score` aggregate.
pub fn r2_score_udaf() -> AggregateUDF {
    PairAggregate::<CoefficientOfDetermination> {
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
        let kernel = CoefficientOfDetermination;
        // Two partial states merged, as DataFusion does across partitions.
        let (left, right) = pairs.split_at(pairs.len() / 2);
        let mut states = [
            vec![0.0; CoefficientOfDetermination::STATE.len()],
            vec![0.0; CoefficientOfDetermination::STATE.len()],
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
        // labels 1, 2, 3, 4 (Σ(y − ȳ)² = 5), predictions off by 1 twice: 1 − 2/5
        let pairs = [(2.0, 1.0), (2.0, 2.0), (3.0, 3.0), (3.0, 4.0)];
        assert_eq!(fold(&pairs), ScalarValue::Float64(Some(1.0 - 2.0 / 5.0)));
        assert_eq!(fold(&[(1.0, 1.0)]), ScalarValue::Float64(None));
        assert_eq!(
            fold(&[(1.0, 1.0), (1.0, 1.0)]),
            ScalarValue::Float64(Some(1.0))
        );
        assert_eq!(
            fold(&[(2.0, 1.0), (1.0, 1.0)]),
            ScalarValue::Float64(Some(0.0))
        );
    }
}
