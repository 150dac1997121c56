//! `drift_report(reference_query, current_query [, options])`: drift of every common column.

use std::sync::Arc;

use datafusion::arrow::array::{BooleanArray, Float64Array, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;

use super::column_drift::ColumnDrift;
use super::{DriftRequest, DriftTable};

const NAME: &str = "drift_report";

/// The columns of `drift_report` (and of Quiver's `model_drift`, which reports in its shape).
pub fn schema() -> SchemaRef {
    let field = |name: &str, data_type: DataType| Field::new(name, data_type, true);
    Arc::new(Schema::new(vec![
        field("column", DataType::Utf8),
        field("kind", DataType::Utf8),
        field("n_ref", DataType::UInt64),
        field("n_cur", DataType::UInt64),
        field("null_share_ref", DataType::Float64),
        field("null_share_cur", DataType::Float64),
        field("method", DataType::Utf8),
        field("statistic", DataType::Float64),
        field("p_value", DataType::Float64),
        field("psi", DataType::Float64),
        field("threshold", DataType::Float64),
        field("drifted", DataType::Boolean),
    ]))
}

fn build(schema: &SchemaRef, rows: Vec<ColumnDrift>) -> Result<RecordBatch> {
    let texts = |pick: fn(&ColumnDrift) -> &str| {
        Arc::new(
            rows.iter()
                .map(|row| Some(pick(row)))
                .collect::<StringArray>(),
        )
    };
    let counts = |pick: fn(&ColumnDrift) -> u64| {
        Arc::new(
            rows.iter()
                .map(pick)
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<UInt64Array>(),
        )
    };
    let numbers = |pick: fn(&ColumnDrift) -> Option<f64>| {
        Arc::new(rows.iter().map(pick).collect::<Float64Array>())
    };
    Ok(RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            texts(|row| &row.column),
            texts(|row| row.kind),
            counts(|row| row.n_ref),
            counts(|row| row.n_cur),
            numbers(|row| row.null_share_ref),
            numbers(|row| row.null_share_cur),
            texts(|row| row.method),
            numbers(|row| row.statistic),
            numbers(|row| row.p_value),
            numbers(|row| row.psi),
            numbers(|row| Some(row.threshold)),
            Arc::new(
                rows.iter()
                    .map(|row| Some(row.drifted))
                    .collect::<BooleanArray>(),
            ),
        ],
    )?)
}

/// The `drift_report` table function.
///
/// Compares every column that the reference and current queries have in common (numeric, text
/// and boolean columns; others are skipped) and returns one row per column: column, kind,
/// n_ref / n_cur (non-NULL values), null_share_ref / null_share_cur, method, statistic, p_value,
/// psi, threshold, drifted.
///
/// Methods follow Evidently's defaults. With a reference of at most 1000 rows: KS for numeric
/// columns with more than 5 distinct values (over both samples), chi-square otherwise, drifted
/// when p < 0.05. With a larger reference: Wasserstein distance divided by max(reference
/// standard deviation, 0.001) for numeric columns and the Jensen–Shannon distance (natural log)
/// otherwise, drifted when ≥ 0.1. Numeric columns with at most 5 distinct values are compared as
/// categories. PSI (10 reference-quantile bins, or categories) is always reported. Options
/// override the choice: `'method=ks|chi2|wasserstein|jensenshannon|psi|kl, threshold=0.2,
/// bins=20'` (ks and wasserstein apply to numeric columns; text columns keep their default).
/// An empty side gives NULL statistics and drifted = false.
///
/// The query strings are planned as SQL on the calling session when the table is scanned; they
/// are never spliced into other SQL text.
///
/// ```sql
/// SELECT * FROM drift_report('SELECT * FROM train', 'SELECT * FROM prod_today');
/// SELECT column, psi FROM drift_report('SELECT * FROM t WHERE day = 1',
///     'SELECT * FROM t WHERE day = 2', 'method=psi, threshold=0.25') WHERE drifted;
/// ```
#[derive(Debug, Default)]
pub struct DriftReport;

impl TableFunctionImpl for DriftReport {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        Ok(Arc::new(DriftTable {
            function: NAME,
            request: DriftRequest::from_arguments(NAME, &args)?,
            schema: schema(),
            build,
        }))
    }
}
