//! Turning raw feature columns into model inputs, the same way at training and at scoring:
//! numeric columns standardized with the training mean and std (NULL → the mean), text columns
//! one-hot encoded over the training categories (NULL and unseen values → all zeros).

use std::collections::{BTreeSet, HashMap};

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};

use super::MlError;
use super::model::{FeatureKind, FeatureSpec, ValueType};

/// The model-facing type of an Arrow column, or `None` when models cannot take it.
pub fn value_type_of(data_type: &DataType) -> Option<ValueType> {
    match data_type {
        integer if integer.is_integer() => Some(ValueType::Bigint),
        number if number.is_floating() || number.is_decimal() => Some(ValueType::Double),
        DataType::Boolean => Some(ValueType::Boolean),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(ValueType::Text),
        DataType::Dictionary(_, value) => value_type_of(value),
        _ => None,
    }
}

pub fn kind_of(value_type: ValueType) -> FeatureKind {
    match value_type {
        ValueType::Text => FeatureKind::Categorical,
        _ => FeatureKind::Numeric,
    }
}

/// The column as f64 (booleans as 0/1), refusing NaN and infinities.
pub fn numeric_values(feature: &str, array: &ArrayRef) -> Result<ArrayRef, MlError> {
    let values = cast(array, &DataType::Float64).map_err(|e| {
        MlError::invalid(format!(
            "feature \"{feature}\" of type {} cannot be read as a number: {e}",
            array.data_type()
        ))
    })?;
    let floats = values.as_primitive::<Float64Type>();
    let bad = floats
        .iter()
        .flatten()
        .find(|value: &f64| !value.is_finite());
    if let Some(bad) = bad {
        return Err(MlError::invalid(format!(
            "feature \"{feature}\" contains {bad}; models take finite numbers (NULL is imputed \
             with the training mean)"
        )));
    }
    Ok(values)
}

fn text_values(feature: &str, array: &ArrayRef) -> Result<ArrayRef, MlError> {
    cast(array, &DataType::Utf8).map_err(|e| {
        MlError::invalid(format!(
            "feature \"{feature}\" of type {} cannot be read as text: {e}",
            array.data_type()
        ))
    })
}

/// Learns a feature's transform from its training values.
pub fn fit_feature(
    name: &str,
    value_type: ValueType,
    array: &ArrayRef,
) -> Result<FeatureSpec, MlError> {
    let kind = kind_of(value_type);
    let mut spec = FeatureSpec {
        name: name.to_string(),
        value_type,
        kind,
        mean: None,
        std: None,
        categories: None,
    };
    match kind {
        FeatureKind::Numeric => {
            let values = numeric_values(name, array)?;
            let floats = values.as_primitive::<Float64Type>();
            let (count, sum) = floats
                .iter()
                .flatten()
                .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
            let mean = if count == 0 { 0.0 } else { sum / count as f64 };
            let squares: f64 = floats
                .iter()
                .flatten()
                .map(|v| (v - mean) * (v - mean))
                .sum();
            // Population std, as scikit-learn's StandardScaler; a constant column is left unscaled.
            let std = if count == 0 {
                0.0
            } else {
                (squares / count as f64).sqrt()
            };
            spec.mean = Some(mean);
            spec.std = Some(if std > 0.0 { std } else { 1.0 });
        }
        FeatureKind::Categorical => {
            let values = text_values(name, array)?;
            let categories: BTreeSet<&str> = values.as_string::<i32>().iter().flatten().collect();
            spec.categories = Some(categories.into_iter().map(str::to_string).collect());
        }
    }
    Ok(spec)
}

/// Encodes feature columns into a column-major (input width × rows) matrix.
pub fn encode(features: &[FeatureSpec], columns: &[ArrayRef]) -> Result<Vec<f64>, MlError> {
    let rows = columns.first().map_or(0, |c| c.len());
    let width: usize = features.iter().map(FeatureSpec::width).sum();
    let mut out = Vec::with_capacity(width * rows);
    for (feature, column) in features.iter().zip(columns) {
        match feature.kind {
            FeatureKind::Numeric => {
                let mean = feature.mean.unwrap_or(0.0);
                let scale = 1.0 / feature.std.unwrap_or(1.0);
                let values = numeric_values(&feature.name, column)?;
                let floats = values.as_primitive::<Float64Type>();
                if floats.null_count() == 0 {
                    out.extend(floats.values().iter().map(|v| (v - mean) * scale));
                } else {
                    out.extend(floats.iter().map(|v| v.map_or(0.0, |v| (v - mean) * scale)));
                }
            }
            FeatureKind::Categorical => {
                let categories = feature.categories.as_deref().unwrap_or_default();
                let index: HashMap<&str, usize> = categories
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.as_str(), i))
                    .collect();
                let values = text_values(&feature.name, column)?;
                let start = out.len();
                out.resize(start + categories.len() * rows, 0.0);
                for (row, value) in values.as_string::<i32>().iter().enumerate() {
                    if let Some(&category) = value.and_then(|v| index.get(v)) {
                        out[start + category * rows + row] = 1.0;
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};

    use super::*;

    #[test]
    fn standardizes_imputes_and_one_hot_encodes() {
        let numbers: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(3), None]));
        let words: ArrayRef = Arc::new(StringArray::from(vec![Some("b"), None, Some("a")]));
        let number = fit_feature("n", ValueType::Bigint, &numbers).unwrap();
        assert_eq!((number.mean, number.std), (Some(2.0), Some(1.0)));
        let word = fit_feature("w", ValueType::Text, &words).unwrap();
        assert_eq!(
            word.categories,
            Some(vec!["a".to_string(), "b".to_string()])
        );
        let unseen: ArrayRef = Arc::new(StringArray::from(vec![Some("z"), Some("a"), Some("b")]));
        let encoded = encode(&[number, word], &[numbers, unseen]).unwrap();
        // n: -1, 1, 0 (NULL → mean); w=a: 0, 1, 0; w=b: 0, 0, 1 ("z" unseen → zeros)
        assert_eq!(encoded, vec![-1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn refuses_non_finite_numbers() {
        let values: ArrayRef = Arc::new(Float64Array::from(vec![1.0, f64::NAN]));
        let err = fit_feature("x", ValueType::Double, &values).unwrap_err();
        assert!(err.to_string().contains("\"x\" contains NaN"), "{err}");
    }
}
