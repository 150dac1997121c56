//! Argument typing shared by the functions: what each kind of argument is coerced to, and how
//! constant arguments (`bins`, `binning`, `positive_label`) are read at planning time.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, ScalarValue, internal_err, plan_err};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Literal;

use crate::error::invalid_argument;

pub(crate) fn is_numeric(data_type: &DataType) -> bool {
    data_type.is_numeric() || matches!(data_type, DataType::Null)
}

pub(crate) fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, value) => is_text(value),
        _ => false,
    }
}

/// Where a value can be numeric or categorical: numbers become Float64, text and booleans are
/// categories.
pub(crate) fn numeric_or_category(data_type: &DataType) -> Option<DataType> {
    if is_numeric(data_type) {
        Some(DataType::Float64)
    } else if is_text(data_type) || matches!(data_type, DataType::Boolean) {
        Some(category(data_type))
    } else {
        None
    }
}

/// The type a category is counted in (see `categories`): `Utf8` stays, anything else (other
/// text, booleans, numbers) becomes `Utf8View`.
pub(crate) fn category(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Utf8 => DataType::Utf8,
        _ => DataType::Utf8View,
    }
}

/// Coerces the argument at `index` or explains the expected signature.
pub(crate) fn coerce_argument(
    function: &str,
    signature: &str,
    arg_types: &[DataType],
    index: usize,
    target: impl FnOnce(&DataType) -> Option<DataType>,
) -> Result<DataType> {
    let Some(actual) = arg_types.get(index) else {
        return plan_err!("{function} takes {signature}");
    };
    match target(actual) {
        Some(coerced) => Ok(coerced),
        None => plan_err!(
            "{function} takes {signature}; argument {} has type {actual}",
            index + 1
        ),
    }
}

pub(crate) fn check_arity(
    function: &str,
    signature: &str,
    arg_types: &[DataType],
    allowed: std::ops::RangeInclusive<usize>,
) -> Result<()> {
    if allowed.contains(&arg_types.len()) {
        Ok(())
    } else {
        plan_err!(
            "{function} takes {signature}; it was called with {} argument(s)",
            arg_types.len()
        )
    }
}

pub(crate) fn float(data_type: &DataType) -> Option<DataType> {
    is_numeric(data_type).then_some(DataType::Float64)
}

pub(crate) fn integer(data_type: &DataType) -> Option<DataType> {
    (data_type.is_integer() || matches!(data_type, DataType::Null)).then_some(DataType::Int64)
}

pub(crate) fn text(data_type: &DataType) -> Option<DataType> {
    (is_text(data_type) || matches!(data_type, DataType::Null)).then_some(DataType::Utf8)
}

/// A binary label: boolean, or a number that must be 0 or 1 (checked per row).
pub(crate) fn binary_label(data_type: &DataType) -> Option<DataType> {
    if matches!(data_type, DataType::Boolean) {
        Some(DataType::Boolean)
    } else {
        float(data_type)
    }
}

/// Coerces `(value numeric, flag boolean|0/1)`, the arguments of most two-sample functions.
pub(crate) fn coerce_value_and_flag(
    function: &str,
    signature: &str,
    arg_types: &[DataType],
) -> Result<Vec<DataType>> {
    check_arity(function, signature, arg_types, 2..=2)?;
    Ok(vec![
        coerce_argument(function, signature, arg_types, 0, float)?,
        coerce_argument(function, signature, arg_types, 1, binary_label)?,
    ])
}

/// The value of a constant argument; per-row values would make the statistic ill-defined.
pub(crate) fn constant_argument(
    function: &str,
    parameter: &str,
    exprs: &[Arc<dyn PhysicalExpr>],
    index: usize,
) -> Result<Option<ScalarValue>> {
    let Some(expr) = exprs.get(index) else {
        return Ok(None);
    };
    match (expr.as_ref() as &dyn std::any::Any).downcast_ref::<Literal>() {
        Some(literal) if literal.value().is_null() => Ok(None),
        Some(literal) => Ok(Some(literal.value().clone())),
        None => Err(invalid_argument(
            function,
            format!("{parameter} must be a constant, not a column or expression over rows"),
        )),
    }
}

pub(crate) fn constant_integer(
    function: &str,
    parameter: &str,
    args: &AccumulatorArgs,
    index: usize,
) -> Result<Option<i64>> {
    match constant_argument(function, parameter, args.exprs, index)? {
        None => Ok(None),
        Some(value) => match value.cast_to(&DataType::Int64)? {
            ScalarValue::Int64(Some(number)) => Ok(Some(number)),
            _ => Err(invalid_argument(
                function,
                format!("{parameter} must be an integer"),
            )),
        },
    }
}

pub(crate) fn constant_text(
    function: &str,
    parameter: &str,
    args: &AccumulatorArgs,
    index: usize,
) -> Result<Option<String>> {
    match constant_argument(function, parameter, args.exprs, index)? {
        None => Ok(None),
        Some(value) => match value.cast_to(&DataType::Utf8)? {
            ScalarValue::Utf8(Some(text)) => Ok(Some(text)),
            _ => Err(invalid_argument(
                function,
                format!("{parameter} must be text"),
            )),
        },
    }
}

/// An argument that coercion made Float64, as such.
pub(crate) fn float_column<'a>(function: &str, array: &'a ArrayRef) -> Result<&'a Float64Array> {
    match array.as_primitive_opt::<Float64Type>() {
        Some(column) => Ok(column),
        None => internal_err!(
            "{function}: expected a Float64 column, got {}",
            array.data_type()
        ),
    }
}
