//! `confusion_matrix(prediction, label)`: counts of each (actual, predicted) pair.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, ListArray, StringArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::{Result, ScalarValue, internal_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, Signature, Volatility,
};

use crate::common::struct_value;
use crate::evaluation::EVALUATION_SECTION;
use crate::evaluation::labels::coerce_labels;

const NAME: &str = "confusion_matrix";
const SIGNATURE: &str = "confusion_matrix(prediction, label)";

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(item, true)))
}

fn return_type() -> DataType {
    crate::common::struct_type(&[
        ("labels", list_of(DataType::Utf8)),
        ("counts", list_of(DataType::Int64)),
    ])
}

/// Labels as text; numeric labels print as numbers (1, not 1.0) and sort numerically.
#[derive(Debug)]
struct ConfusionAccumulator {
    numeric_labels: bool,
    /// (actual, predicted) → count
    counts: HashMap<(String, String), i64>,
}

impl ConfusionAccumulator {
    fn add(&mut self, actual: &str, predicted: &str, count: i64) {
        *self
            .counts
            .entry((actual.to_owned(), predicted.to_owned()))
            .or_insert(0) += count;
    }

    fn sorted_labels(&self) -> Vec<&str> {
        let mut labels: Vec<&str> = self
            .counts
            .keys()
            .flat_map(|(actual, predicted)| [actual.as_str(), predicted.as_str()])
            .collect();
        if self.numeric_labels {
            labels.sort_by(|a, b| {
                let number = |text: &str| text.parse::<f64>().unwrap_or(f64::NAN);
                number(a).total_cmp(&number(b))
            });
        } else {
            labels.sort_unstable();
        }
        labels.dedup();
        labels
    }
}

/// Labels as text: numbers print the shortest way (1, not 1.0), as scikit-learn shows integer
/// labels.
fn as_text(array: &ArrayRef) -> Result<Vec<Option<String>>> {
    if let Some(numbers) = array.as_primitive_opt::<Float64Type>() {
        return Ok(numbers
            .iter()
            .map(|number| number.map(|n| n.to_string()))
            .collect());
    }
    let formatter = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())?;
    Ok((0..array.len())
        .map(|row| {
            array
                .is_valid(row)
                .then(|| formatter.value(row).to_string())
        })
        .collect())
}

impl Accumulator for ConfusionAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let predicted = as_text(&values[0])?;
        let actual = as_text(&values[1])?;
        for (predicted, actual) in predicted.iter().zip(&actual) {
            if let (Some(predicted), Some(actual)) = (predicted, actual) {
                self.add(actual, predicted, 1);
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [actual, predicted, counts] = states else {
            return internal_err!("{NAME}: state must have three columns");
        };
        let (actual, predicted, counts) = (
            actual.as_list::<i32>(),
            predicted.as_list::<i32>(),
            counts.as_list::<i32>(),
        );
        for row in 0..actual.len() {
            if actual.is_null(row) {
                continue;
            }
            let (row_actual, row_predicted, row_counts) =
                (actual.value(row), predicted.value(row), counts.value(row));
            let row_actual = row_actual.as_string::<i32>();
            let row_predicted = row_predicted.as_string::<i32>();
            let row_counts = row_counts.as_primitive::<Int64Type>();
            for index in 0..row_actual.len() {
                self.add(
                    row_actual.value(index),
                    row_predicted.value(index),
                    row_counts.value(index),
                );
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let (mut actual, mut predicted, mut counts) = (Vec::new(), Vec::new(), Vec::new());
        for ((actual_label, predicted_label), count) in &self.counts {
            actual.push(actual_label.as_str());
            predicted.push(predicted_label.as_str());
            counts.push(*count);
        }
        let single = |values: ArrayRef, item: DataType| {
            let list = ListArray::new(
                Arc::new(Field::new_list_field(item, true)),
                OffsetBuffer::from_lengths([values.len()]),
                values,
                None,
            );
            ScalarValue::List(Arc::new(list))
        };
        Ok(vec![
            single(Arc::new(StringArray::from(actual)), DataType::Utf8),
            single(Arc::new(StringArray::from(predicted)), DataType::Utf8),
            single(Arc::new(Int64Array::from(counts)), DataType::Int64),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.counts.is_empty() {
            return struct_value(&return_type(), None);
        }
        let labels = self.sorted_labels();
        // Row-major (actual × predicted) and flat: Postgres clients get a bigint[], which every
        // driver reads, where a two-dimensional array of lists would not encode.
        let pairs = &self.counts;
        let counts: Vec<Option<i64>> = labels
            .iter()
            .flat_map(|actual| {
                labels.iter().map(move |predicted| {
                    let key = ((*actual).to_owned(), (*predicted).to_owned());
                    Some(pairs.get(&key).copied().unwrap_or(0))
                })
            })
            .collect();
        let labels = ScalarValue::List(ScalarValue::new_list_nullable(
            &labels
                .iter()
                .map(|label| ScalarValue::Utf8(Some((*label).to_owned())))
                .collect::<Vec<_>>(),
            &DataType::Utf8,
        ));
        let counts = ListArray::from_iter_primitive::<Int64Type, _, _>([Some(counts)]);
        struct_value(
            &return_type(),
            Some(vec![labels, ScalarValue::List(Arc::new(counts))]),
        )
    }

    fn size(&self) -> usize {
        size_of::<Self>()
            + self
                .counts
                .keys()
                .map(|(a, p)| a.capacity() + p.capacity() + size_of::<(String, String, i64)>())
                .sum::<usize>()
    }
}

#[derive(Debug)]
struct ConfusionMatrix {
    signature: Signature,
    documentation: Documentation,
}

impl PartialEq for ConfusionMatrix {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for ConfusionMatrix {}

impl Hash for ConfusionMatrix {
    fn hash<H: Hasher>(&self, state: &mut H) {
        NAME.hash(state);
    }
}

impl AggregateUDFImpl for ConfusionMatrix {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_labels(NAME, SIGNATURE, arg_types, 2..=2)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(return_type())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok([
            ("actual", DataType::Utf8),
            ("predicted", DataType::Utf8),
            ("count", DataType::Int64),
        ]
        .into_iter()
        .map(|(part, item)| {
            Arc::new(Field::new(
                format!("{}[{part}]", args.name),
                list_of(item),
                true,
            ))
        })
        .collect())
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(ConfusionAccumulator {
            numeric_labels: args
                .expr_fields
                .first()
                .is_some_and(|field| field.data_type().is_numeric()),
            counts: HashMap::new(),
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }
}

/// The `confusion_matrix` aggregate.
pub fn confusion_matrix_udaf() -> AggregateUDF {
    let documentation = Documentation::builder(
        EVALUATION_SECTION,
        "Confusion matrix of predictions against labels, as sklearn.metrics.confusion_matrix \
         with labels = every value seen: a struct {labels, counts} where labels lists the \
         classes as text (numbers sorted numerically, text alphabetically) and counts lists \
         the n × n matrix row by row (n labels; rows = actual label, columns = predicted), \
         so its (i·n + j + 1)-th element counts rows labelled labels[i + 1] and predicted \
         labels[j + 1] in SQL's 1-based indexing. Works for \
         multiclass labels. Rows with a NULL are ignored; no rows give NULL.",
        "confusion_matrix(prediction, label)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT confusion_matrix(predict('churn', *), churned)['counts'] FROM holdout;\n\
         ```",
    )
    .with_argument("prediction", "predicted label")
    .with_argument("label", "true label")
    .build();
    AggregateUDF::new_from_impl(ConfusionMatrix {
        signature: Signature::user_defined(Volatility::Immutable)
            .with_parameter_names(vec!["prediction", "label"])
            .expect("parameter names are distinct constants"),
        documentation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_labels_sort_as_numbers() {
        let mut accumulator = ConfusionAccumulator {
            numeric_labels: true,
            counts: HashMap::new(),
        };
        accumulator.add("10", "2", 1);
        accumulator.add("2", "2", 3);
        assert_eq!(accumulator.sorted_labels(), vec!["2", "10"]);
    }
}
