//! Scoring a batch of raw feature columns with a model: one forward pass per Arrow batch.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, StringArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field};

use super::MlError;
use super::encoding::{encode, value_type_of};
use super::model::{ClassLabel, FeatureKind, Model, ModelSpec, ValueType};

/// The SQL type `predict` returns for a model.
pub fn prediction_type(spec: &ModelSpec) -> DataType {
    if !spec.model_type.is_classifier() {
        return DataType::Float64;
    }
    match spec.label.value_type {
        ValueType::Text => DataType::Utf8,
        ValueType::Bigint => DataType::Int64,
        ValueType::Boolean => DataType::Boolean,
        ValueType::Double => DataType::Float64,
    }
}

/// The SQL type `predict_proba` returns: the positive class's probability for two classes,
/// a list in the model's class order for more.
pub fn probability_type(spec: &ModelSpec) -> Result<DataType, MlError> {
    match (spec.model_type.is_classifier(), spec.classes.len()) {
        (false, _) => Err(MlError::invalid(format!(
            "predict_proba needs a classifier; this model is a {} (use predict)",
            spec.model_type.name()
        ))),
        (true, 2) => Ok(DataType::Float64),
        (true, _) => Ok(DataType::List(Arc::new(Field::new_list_field(
            DataType::Float64,
            true,
        )))),
    }
}

/// Checks the argument types against the model's features (count and type).
pub fn check_argument_types(
    spec: &ModelSpec,
    function: &str,
    types: &[DataType],
) -> Result<(), MlError> {
    let expected = || {
        spec.features
            .iter()
            .map(|f| format!("{} {}", f.name, f.value_type.sql_name()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if types.len() != spec.features.len() {
        return Err(MlError::invalid(format!(
            "{function} got {} feature arguments; the model takes {}: ({})",
            types.len(),
            spec.features.len(),
            expected()
        )));
    }
    for (feature, data_type) in spec.features.iter().zip(types) {
        let given = value_type_of(data_type);
        let fits = match feature.kind {
            FeatureKind::Numeric => {
                matches!(
                    given,
                    Some(ValueType::Bigint | ValueType::Double | ValueType::Boolean)
                ) || data_type == &DataType::Null
            }
            FeatureKind::Categorical => {
                given == Some(ValueType::Text) || data_type == &DataType::Null
            }
        };
        if !fits {
            return Err(MlError::invalid(format!(
                "{function}: feature \"{}\" must be {}, got {data_type}; the model takes ({})",
                feature.name,
                feature.value_type.sql_name(),
                expected()
            )));
        }
    }
    Ok(())
}

/// The model's outputs for one batch: row-major (rows × output width).
pub struct Scores<'a> {
    spec: &'a ModelSpec,
    outputs: Vec<f64>,
    rows: usize,
}

pub fn score<'a>(model: &'a Model, columns: &[ArrayRef]) -> Result<Scores<'a>, MlError> {
    let rows = columns.first().map_or(0, |c| c.len());
    let outputs = if rows == 0 {
        Vec::new()
    } else {
        model.forward(encode(&model.spec.features, columns)?, rows)?
    };
    Ok(Scores {
        spec: &model.spec,
        outputs,
        rows,
    })
}

impl Scores<'_> {
    /// The index of each row's most probable class.
    pub fn class_indices(&self) -> Vec<usize> {
        if self.spec.classes.len() == 2 {
            return self
                .outputs
                .iter()
                .map(|&p| usize::from(p >= 0.5))
                .collect();
        }
        let k = self.spec.classes.len();
        self.outputs
            .chunks(k)
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |best, (i, &p)| {
                        if p > best.1 { (i, p) } else { best }
                    })
                    .0
            })
            .collect()
    }

    /// `predict`: the class label, or the value for regression.
    pub fn predictions(&self) -> ArrayRef {
        if !self.spec.model_type.is_classifier() {
            return Arc::new(Float64Array::from(self.outputs.clone()));
        }
        let labels: Vec<&ClassLabel> = self
            .class_indices()
            .into_iter()
            .map(|i| &self.spec.classes[i])
            .collect();
        match prediction_type(self.spec) {
            DataType::Int64 => Arc::new(Int64Array::from_iter(labels.iter().map(|l| match l {
                ClassLabel::Integer(i) => Some(*i),
                _ => None,
            }))),
            DataType::Boolean => {
                Arc::new(BooleanArray::from_iter(labels.iter().map(|l| match l {
                    ClassLabel::Boolean(b) => Some(*b),
                    _ => None,
                })))
            }
            _ => Arc::new(StringArray::from_iter_values(
                labels.iter().map(|l| l.to_string()),
            )),
        }
    }

    /// `predict_proba`: see [`probability_type`].
    pub fn probabilities(&self) -> ArrayRef {
        if self.spec.classes.len() == 2 {
            return Arc::new(Float64Array::from(self.outputs.clone()));
        }
        let k = self.spec.classes.len();
        let field = Arc::new(Field::new_list_field(DataType::Float64, true));
        let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(k, self.rows));
        Arc::new(ListArray::new(
            field,
            offsets,
            Arc::new(Float64Array::from(self.outputs.clone())),
            None,
        ))
    }

    /// Per class, the probability of each row (class-major), for metrics.
    pub fn class_probabilities(&self, class: usize) -> Vec<f64> {
        match self.spec.classes.len() {
            2 if class == 1 => self.outputs.clone(),
            2 => self.outputs.iter().map(|p| 1.0 - p).collect(),
            k => self
                .outputs
                .iter()
                .skip(class)
                .step_by(k)
                .copied()
                .collect(),
        }
    }
}
