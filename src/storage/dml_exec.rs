//! The physical plan of an UPDATE, DELETE or TRUNCATE on a durable table. The change is made when
//! the plan runs (not when it is built), so EXPLAIN never modifies data.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::UInt64Array;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};

use super::durable_table::TableStore;

#[derive(Debug, Clone)]
pub(super) enum DmlOperation {
    Delete {
        predicate: Option<Expr>,
    },
    Update {
        assignments: Vec<(String, Expr)>,
        predicate: Option<Expr>,
    },
}

#[derive(Debug)]
pub(super) struct DmlExec {
    store: Arc<TableStore>,
    operation: DmlOperation,
    properties: Arc<PlanProperties>,
}

impl DmlExec {
    pub(super) fn new(store: Arc<TableStore>, operation: DmlOperation) -> Self {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(count_schema()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Self {
            store,
            operation,
            properties: Arc::new(properties),
        }
    }
}

/// DataFusion's DML result shape: one non-null `count` row.
fn count_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(
        "count",
        DataType::UInt64,
        false,
    )]))
}

impl DisplayAs for DmlExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.operation {
            DmlOperation::Delete { .. } => "DeltaDelete",
            DmlOperation::Update { .. } => "DeltaUpdate",
        };
        write!(f, "{verb}: {}", self.store.uri())
    }
}

impl ExecutionPlan for DmlExec {
    fn name(&self) -> &str {
        "DmlExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            Err(DataFusionError::Internal("DmlExec has no children".into()))
        }
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "DmlExec has one partition, asked for {partition}"
            )));
        }
        let store = Arc::clone(&self.store);
        let operation = self.operation.clone();
        let schema = count_schema();
        let output_schema = Arc::clone(&schema);
        let result = futures::stream::once(async move {
            let count = store.run_dml(&operation).await?;
            RecordBatch::try_new(
                output_schema,
                vec![Arc::new(UInt64Array::from(vec![count]))],
            )
            .map_err(DataFusionError::from)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, result)))
    }
}
