//! `accuracy(prediction, label)`: share of exact matches.

use std::marker::PhantomData;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::common::pairs::{PairAggregate, PairKernel, add_states, indicator_column};
use crate::evaluation::EVALUATION_SECTION;
use crate::evaluation::labels::{coerce_labels, equal};

const NAME: &str = "accuracy";
const SIGNATURE: &str = "accuracy(prediction, label)";

#[derive(Debug)]
struct Accuracy;

impl PairKernel for Accuracy {
    const STATE: &'static [&'static str] = &["rows", "correct"];

    fn from_arguments(_args: &AccumulatorArgs) -> Result<Self> {
        Ok(Self)
    }

    fn columns(&self, args: &[ArrayRef]) -> Result<(Float64Array, Float64Array)> {
        let correct = indicator_column(&equal(&args[0], &args[1])?);
        let unused = Float64Array::from(vec![0.0; correct.len()]);
        Ok((correct, unused))
    }

    fn update(&self, state: &mut [f64], correct: f64, _unused: f64) -> Result<()> {
        state[0] += 1.0;
        state[1] += correct;
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
    coerce_labels(NAME, SIGNATURE, arg_types, 2..=2)
}

fn documentation() -> Documentation {
    Documentation::builder(
        EVALUATION_SECTION,
        "Share of rows whose prediction equals the label, as sklearn.metrics.accuracy_score; \
         works for binary and multiclass labels of any type (numbers compare as numbers, \
         otherwise as text). Rows with a NULL are ignored; no rows give NULL.",
        "accuracy(prediction, label)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT accuracy(predict('iris_species', *), species) FROM iris_holdout;\n\
         ```",
    )
    .with_argument("prediction", "predicted label")
    .with_argument("label", "true label")
    .build()
}

/// The `accuracy` aggregate.
pub fn accuracy_udaf() -> AggregateUDF {
    PairAggregate::<Accuracy> {
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
    use std::sync::Arc;

    use datafusion::arrow::array::StringArray;

    use super::*;

    #[test]
    fn counts_matches_and_skips_nulls() {
        let predictions: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), Some("b"), None]));
        let labels: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), Some("c"), Some("a")]));
        let (correct, _) = Accuracy.columns(&[predictions, labels]).expect("columns");
        assert_eq!(
            correct.iter().collect::<Vec<_>>(),
            vec![Some(1.0), Some(0.0), None]
        );
    }
}
