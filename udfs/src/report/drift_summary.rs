//! `drift_summary(reference_query, current_query [, options])`: one row for the whole data set.

use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;

use super::column_drift::ColumnDrift;
use super::{DriftRequest, DriftTable};

const NAME: &str = "drift_summary";

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("columns", DataType::UInt64, false),
        Field::new("drifted_columns", DataType::UInt64, false),
        Field::new("drift_share", DataType::Float64, true),
        Field::new("status", DataType::Utf8, false),
    ]))
}

/// NO_DRIFT, MEDIUM_DRIFT above 10% drifted columns, HIGH_DRIFT above 20%.
fn status(drift_share: Option<f64>) -> &'static str {
    match drift_share {
        Some(share) if share > 0.2 => "HIGH_DRIFT",
        Some(share) if share > 0.1 => "MEDIUM_DRIFT",
        _ => "NO_DRIFT",
    }
}

fn build(schema: &SchemaRef, rows: Vec<ColumnDrift>) -> Result<RecordBatch> {
    let columns = rows.len() as u64;
    let drifted = rows.iter().filter(|row| row.drifted).count() as u64;
    let share = (columns > 0).then(|| drifted as f64 / columns as f64);
    Ok(RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            Arc::new(UInt64Array::from(vec![columns])),
            Arc::new(UInt64Array::from(vec![drifted])),
            Arc::new(Float64Array::from(vec![share])),
            Arc::new(StringArray::from(vec![status(share)])),
        ],
    )?)
}

/// The `drift_summary` table function: one row summarising `drift_report` over the same
/// arguments — columns compared, drifted_columns, drift_share and status: NO_DRIFT,
/// MEDIUM_DRIFT when more than 10% of the columns drifted, HIGH_DRIFT when more than 20%.
///
/// ```sql
/// SELECT status FROM drift_summary('SELECT * FROM train', 'SELECT * FROM prod_today');
/// ```
#[derive(Debug, Default)]
pub struct DriftSummary;

impl TableFunctionImpl for DriftSummary {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        Ok(Arc::new(DriftTable {
            function: NAME,
            request: DriftRequest::from_arguments(NAME, &args)?,
            schema: schema(),
            build,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bands() {
        assert_eq!(status(None), "NO_DRIFT");
        assert_eq!(status(Some(0.1)), "NO_DRIFT");
        assert_eq!(status(Some(0.15)), "MEDIUM_DRIFT");
        assert_eq!(status(Some(0.2)), "MEDIUM_DRIFT");
        assert_eq!(status(Some(0.25)), "HIGH_DRIFT");
    }
}
