//! A profile of each feature's training data, stored with the model version: enough to judge
//! drift of new data later without reading the training data again.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
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
    /// Numeric: the inner cut points at the training deciles (numpy's linear quantiles), and
    /// the training rows in each of the bins `(-inf, e1), [e1, e2), ..., [ek, inf)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edges: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bin_counts: Vec<u64>,
    /// Categorical: rows per category.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub categories: BTreeMap<String, u64>,
}

/// Puts the values of the given ranks (ascending) in their sorted places, without sorting the
/// rest: each selection splits the slice, and the ranks on either side recurse into their part.
fn select_ranks(values: &mut [f64], ranks: &[usize], offset: usize) {
    if ranks.is_empty() || values.is_empty() {
        return;
    }
    let middle = ranks.len() / 2;
    let at = ranks[middle] - offset;
    values.select_nth_unstable_by(at, f64::total_cmp);
    let (left, right) = values.split_at_mut(at);
    select_ranks(left, &ranks[..middle], offset);
    select_ranks(&mut right[1..], &ranks[middle + 1..], offset + at + 1);
}

/// numpy's default (linear) quantiles: the order statistics around each position, interpolated.
fn quantiles(values: &mut [f64], qs: &[f64]) -> Vec<f64> {
    let last = values.len() - 1;
    let positions: Vec<f64> = qs.iter().map(|q| q * last as f64).collect();
    let mut ranks: Vec<usize> = positions
        .iter()
        .flat_map(|p| [p.floor() as usize, (p.floor() as usize + 1).min(last)])
        .collect();
    ranks.sort_unstable();
    ranks.dedup();
    select_ranks(values, &ranks, 0);
    positions
        .iter()
        .map(|p| {
            let below = p.floor() as usize;
            let above = (below + 1).min(last);
            values[below] + (values[above] - values[below]) * (p - below as f64)
        })
        .collect()
}

/// The bin of `value` among the inner cut points: bins are `[lo, hi)`, the outer ones open.
pub fn bin_of(edges: &[f64], value: f64) -> usize {
    edges.partition_point(|&edge| edge <= value)
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
            let deciles: Vec<f64> = (1..PROFILE_BINS)
                .map(|i| i as f64 / PROFILE_BINS as f64)
                .collect();
            let mut edges = quantiles(&mut present, &deciles);
            edges.dedup();
            let mut counts = vec![0u64; edges.len() + 1];
            present.iter().for_each(|&v| counts[bin_of(&edges, v)] += 1);
            profile.edges = edges;
            profile.bin_counts = counts;
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

    #[test]
    fn selected_quantiles_equal_those_of_the_sorted_values() {
        let mut values: Vec<f64> = (0..1001)
            .map(|i| ((i * 7919) % 1001) as f64 / 3.0)
            .collect();
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let qs = [0.1, 0.25, 0.5, 0.9, 0.999];
        let got = quantiles(&mut values, &qs);
        for (q, value) in qs.iter().zip(got) {
            let position = q * 1000.0;
            let below = position.floor() as usize;
            let want =
                sorted[below] + (sorted[below + 1] - sorted[below]) * (position - below as f64);
            assert_eq!(value, want, "q = {q}");
        }
    }
}
