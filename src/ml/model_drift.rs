//! `model_drift(model_ref, 'query')`: drift of new data against the profile a model version
//! stored of its training data, in `drift_report`'s shape, without reading the training data.
//!
//! Numeric features are compared on the stored training-decile bins: the statistic is PSI,
//! drifted at ≥ 0.1, with `psi_pvalue` as the p-value. Categorical features use the
//! Jensen–Shannon distance of the category shares (drifted at ≥ 0.1, Evidently's default) with
//! the χ² test's p-value; categories unseen in training count as categories of their own.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, RecordBatch, StringArray, UInt64Array,
};
use datafusion::arrow::compute::{cast, concat};
use datafusion::arrow::datatypes::{DataType, Float64Type, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::DataFrame;
use quiver_udfs::{binned, drift_report_schema as schema};

use super::model::FeatureKind;
use super::profile::FeatureProfile;
use super::registry::Registry;
use super::table_functions::{plan_query, session_state, text_arguments};

/// Drift is flagged at this PSI (numeric) or Jensen–Shannon distance (categorical).
const THRESHOLD: f64 = 0.1;

pub struct ModelDrift {
    pub registry: Arc<Registry>,
}

impl std::fmt::Debug for ModelDrift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "model_drift")
    }
}

impl TableFunctionImpl for ModelDrift {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let (reference, query) = text_arguments("model_drift", &args)?;
        let record = self.registry.resolve(&reference)?;
        if record.profile.is_empty() {
            return Err(super::MlError::invalid(format!(
                "model \"{}\" version {} has no training profile (it was imported); compare with \
                 drift_report against its training data instead",
                record.model, record.version
            ))
            .into());
        }
        Ok(Arc::new(DriftTable {
            profile: record.profile.clone(),
            query,
        }))
    }
}

#[derive(Debug)]
struct DriftTable {
    profile: Vec<FeatureProfile>,
    query: String,
}

/// One feature's row.
struct Row {
    column: String,
    kind: &'static str,
    n_ref: u64,
    n_cur: u64,
    null_ref: f64,
    null_cur: f64,
    method: &'static str,
    statistic: Option<f64>,
    p_value: Option<f64>,
    psi: Option<f64>,
}

fn compare(profile: &FeatureProfile, column: &ArrayRef) -> Result<Row> {
    let nulls = column.null_count() as u64;
    let n_cur = column.len() as u64 - nulls;
    let share = |nulls: u64, total: u64| {
        if total == 0 {
            0.0
        } else {
            nulls as f64 / total as f64
        }
    };
    let mut row = Row {
        column: profile.name.clone(),
        kind: "numeric",
        n_ref: profile.count,
        n_cur,
        null_ref: share(profile.nulls, profile.count + profile.nulls),
        null_cur: share(nulls, column.len() as u64),
        method: "psi",
        statistic: None,
        p_value: None,
        psi: None,
    };
    match profile.kind {
        FeatureKind::Numeric => {
            let values = cast(column, &DataType::Float64)?;
            let present: Vec<f64> = values
                .as_primitive::<Float64Type>()
                .iter()
                .flatten()
                .collect();
            let counts = binned::bin_counts(&profile.edges, &present);
            row.psi = binned::psi(&profile.bin_counts, &counts);
            row.statistic = row.psi;
            row.p_value = binned::psi_pvalue(&profile.bin_counts, &counts);
        }
        FeatureKind::Categorical => {
            row.kind = "categorical";
            row.method = "jensenshannon";
            let text = cast(column, &DataType::Utf8)?;
            let mut current: BTreeMap<&str, u64> = BTreeMap::new();
            for value in text.as_string::<i32>().iter().flatten() {
                *current.entry(value).or_default() += 1;
            }
            let mut categories: Vec<&str> = profile.categories.keys().map(String::as_str).collect();
            categories.extend(
                current
                    .keys()
                    .filter(|c| !profile.categories.contains_key(**c)),
            );
            let reference: Vec<u64> = categories
                .iter()
                .map(|c| profile.categories.get(*c).copied().unwrap_or(0))
                .collect();
            let current: Vec<u64> = categories
                .iter()
                .map(|c| current.get(c).copied().unwrap_or(0))
                .collect();
            row.statistic = binned::js_distance(&reference, &current);
            row.p_value = binned::chi2(&reference, &current).map(|(_, p, _)| p);
            row.psi = binned::psi(&reference, &current);
        }
    }
    Ok(row)
}

#[async_trait]
impl TableProvider for DriftTable {
    fn schema(&self) -> SchemaRef {
        schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let state = session_state("model_drift", session)?;
        let plan = plan_query("model_drift", state, &self.query).await?;
        let frame = DataFrame::new(state.clone(), plan);
        let input = frame.schema().as_arrow().clone();
        let batches = frame.collect().await?;
        let mut rows = Vec::new();
        for profile in &self.profile {
            let Some(index) = input
                .fields()
                .iter()
                .position(|f| f.name().eq_ignore_ascii_case(&profile.name))
            else {
                continue;
            };
            let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(index).as_ref()).collect();
            let column = if parts.is_empty() {
                datafusion::arrow::array::new_empty_array(input.field(index).data_type())
            } else {
                concat(&parts)?
            };
            rows.push(compare(profile, &column)?);
        }
        let texts = |pick: fn(&Row) -> &str| -> ArrayRef {
            Arc::new(rows.iter().map(|r| Some(pick(r))).collect::<StringArray>())
        };
        let floats = |pick: fn(&Row) -> Option<f64>| -> ArrayRef {
            Arc::new(rows.iter().map(pick).collect::<Float64Array>())
        };
        let batch = RecordBatch::try_new(
            schema(),
            vec![
                texts(|r| &r.column),
                texts(|r| r.kind),
                Arc::new(rows.iter().map(|r| Some(r.n_ref)).collect::<UInt64Array>()),
                Arc::new(rows.iter().map(|r| Some(r.n_cur)).collect::<UInt64Array>()),
                floats(|r| Some(r.null_ref)),
                floats(|r| Some(r.null_cur)),
                texts(|r| r.method),
                floats(|r| r.statistic),
                floats(|r| r.p_value),
                floats(|r| r.psi),
                floats(|_| Some(THRESHOLD)),
                Arc::new(
                    rows.iter()
                        .map(|r| r.statistic.map(|s| s >= THRESHOLD))
                        .collect::<BooleanArray>(),
                ),
            ],
        )?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            schema(),
            projection.cloned(),
        )?)
    }
}
