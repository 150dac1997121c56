//! Comparing predicted with true labels of any type, shared by the classification metrics.

use datafusion::arrow::array::{ArrayRef, BooleanArray};
use datafusion::arrow::compute::kernels::cmp::eq;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::AccumulatorArgs;

use crate::common::arguments::{check_arity, constant_argument, is_numeric, is_text};
use crate::error::invalid_argument;

/// One type for predictions, labels (and a positive label): numbers compare as Float64, booleans
/// as booleans, anything else as text.
pub(crate) fn coerce_labels(
    function: &str,
    signature: &str,
    arg_types: &[DataType],
    arguments: std::ops::RangeInclusive<usize>,
) -> Result<Vec<DataType>> {
    check_arity(function, signature, arg_types, arguments)?;
    let present: Vec<&DataType> = arg_types
        .iter()
        .filter(|data_type| !matches!(data_type, DataType::Null))
        .collect();
    let common = if present.iter().all(|data_type| is_numeric(data_type)) {
        DataType::Float64
    } else if present
        .iter()
        .all(|data_type| matches!(data_type, DataType::Boolean))
    {
        DataType::Boolean
    } else if present.iter().all(|data_type| {
        is_text(data_type) || is_numeric(data_type) || **data_type == DataType::Boolean
    }) {
        DataType::Utf8
    } else {
        return plan_err!("{function} takes {signature}; got {arg_types:?}");
    };
    Ok(vec![common; arg_types.len()])
}

pub(crate) fn equal(left: &ArrayRef, right: &ArrayRef) -> Result<BooleanArray> {
    Ok(eq(left, right)?)
}

pub(crate) fn equal_to(values: &ArrayRef, constant: &ScalarValue) -> Result<BooleanArray> {
    Ok(eq(values, &constant.to_scalar()?)?)
}

/// The positive class: the constant argument at `index`, else 1 / true (scikit-learn's default).
pub(crate) fn positive_label(
    function: &str,
    args: &AccumulatorArgs,
    index: usize,
) -> Result<ScalarValue> {
    let label_type = args
        .expr_fields
        .first()
        .map(|field| field.data_type().clone())
        .unwrap_or(DataType::Float64);
    match constant_argument(function, "positive_label", args.exprs, index)? {
        Some(label) => Ok(label.cast_to(&label_type)?),
        None => match label_type {
            DataType::Float64 => Ok(ScalarValue::Float64(Some(1.0))),
            DataType::Boolean => Ok(ScalarValue::Boolean(Some(true))),
            _ => Err(invalid_argument(
                function,
                "text labels need a positive_label argument, e.g. precision_score(pred, label, 'yes')",
            )),
        },
    }
}
