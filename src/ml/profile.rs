//! A profile of each feature's training data, stored with the model version: enough to judge
//! drift of new data later without reading the training data again.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use quiver_udfs::binned;
use serde::{Deserialize, Serialize};

use super::MlError;
use super::encoding::numeric_values;
use super::model::{FeatureKind, FeatureSpec};

/// Decile bins, as `psi`'s default.
pub const PROFILE_BINS: usize = 10;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeatureProfile {
    pub name: String,
    pub kind: FeatureKind,
    /// Rows with a value (NULLs excluded).
    pub count: u64,
    pub nulls: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
    /// Numeric: the inner cut points at the training deciles (numpy's linear quantiles, as `psi`
    /// draws them; equal edges merged), and
    /// the training rows in each of the bins `(-inf, e1), [e1, e2), ..., [ek, inf)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edges: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bin_counts: Vec<u64>,
    /// Categorical: rows per category.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub categories: BTreeMap<String, u64>,
}

pub fn profile(feature: &FeatureSpec, column: &ArrayRef) -> Result<FeatureProfile, MlError> {
    let nulls = column.null_count() as u64;
    let count = column.len() as u64 - nulls;
    let mut profile = FeatureProfile {
        name: feature.name.clone(),
        kind: feature.kind,
        count,
        nulls,
        mean: None,
        std: None,
        edges: Vec::new(),
        bin_counts: Vec::new(),
        categories: BTreeMap::new(),
    };
    match feature.kind {
        FeatureKind::Numeric => {
            let values = numeric_values(&feature.name, column)?;
            let mut present: Vec<f64> = values
                .as_primitive::<Float64Type>()
                .iter()
                .flatten()
                .collect();
            if present.is_empty() {
                return Ok(profile);
            }
            let n = present.len() as f64;
            let mean = present.iter().sum::<f64>() / n;
            profile.mean = Some(mean);
            profile.std =
                Some((present.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt());
            // psi's own binning, so model_drift's PSI is the one psi() would give.
            let edges = binned::quantile_edges(&mut present, PROFILE_BINS);
            profile.bin_counts = binned::bin_counts(&edges, &present);
            profile.edges = edges;
        }
        FeatureKind::Categorical => {
            let text =
                cast(column, &DataType::Utf8).map_err(datafusion::error::DataFusionError::from)?;
            for value in text.as_string::<i32>().iter().flatten() {
                *profile.categories.entry(value.to_string()).or_default() += 1;
            }
        }
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::Float64Array;

    use super::*;
    use crate::ml::model::ValueType;

    #[test]
    fn deciles_and_counts_of_one_to_ten() {
        // numpy.quantile(range(1, 11), [.1, ..., .9]) = 1.9, 2.8, ..., 9.1
        let column: ArrayRef = Arc::new(Float64Array::from(
            (1..=10)
                .map(|v| Some(f64::from(v)))
                .chain([None])
                .collect::<Vec<_>>(),
        ));
        let spec = crate::ml::encoding::fit_feature("x", ValueType::Double, &column).unwrap();
        let p = profile(&spec, &column).unwrap();
        assert_eq!((p.count, p.nulls), (10, 1));
        assert!((p.edges[0] - 1.9).abs() < 1e-12 && (p.edges[8] - 9.1).abs() < 1e-12);
        assert_eq!(p.bin_counts, vec![1; 10]);
        assert_eq!(p.mean, Some(5.5));
    }
}
