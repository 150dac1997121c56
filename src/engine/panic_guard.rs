//! Turns a panic inside query execution into an error for that query alone.
//!
//! Rows are pulled from a plan's stream long after the statement handler returned (the wire
//! protocol sends them as they come), so catching panics around statement handling is not
//! enough: [`CatchPanics`] wraps every physical plan's root in [`CatchUnwindExec`], whose stream
//! catches a panic raised while producing a batch, including one re-raised from a worker task.

use std::any::Any;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt;

use crate::error::{SqlError, sqlstate};

/// The error a caught panic becomes.
pub fn panic_error(payload: &(dyn Any + Send)) -> SqlError {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".to_string());
    SqlError::new(
        sqlstate::INTERNAL_ERROR,
        format!("internal error: the statement panicked ({detail}); the server is still running"),
    )
}

/// Physical optimizer rule that puts [`CatchUnwindExec`] at the root of every plan.
#[derive(Debug, Default)]
pub struct CatchPanics;

impl PhysicalOptimizerRule for CatchPanics {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let already_guarded = (plan.as_ref() as &dyn Any).is::<CatchUnwindExec>();
        if already_guarded {
            Ok(plan)
        } else {
            Ok(Arc::new(CatchUnwindExec::new(plan)))
        }
    }

    fn name(&self) -> &str {
        "catch_panics"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[derive(Debug)]
pub struct CatchUnwindExec {
    input: Arc<dyn ExecutionPlan>,
}

impl CatchUnwindExec {
    pub fn new(input: Arc<dyn ExecutionPlan>) -> Self {
        Self { input }
    }
}

impl DisplayAs for CatchUnwindExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CatchUnwindExec")
    }
}

impl ExecutionPlan for CatchUnwindExec {
    fn name(&self) -> &str {
        "CatchUnwindExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match (children.pop(), children.is_empty()) {
            (Some(input), true) => Ok(Arc::new(CatchUnwindExec::new(input))),
            _ => Err(DataFusionError::Internal(
                "CatchUnwindExec takes exactly one child".into(),
            )),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = Arc::clone(&self.input);
        let stream =
            std::panic::catch_unwind(AssertUnwindSafe(|| input.execute(partition, context)))
                .map_err(|payload| panic_error(payload.as_ref()).into_datafusion())??;
        let schema = stream.schema();
        let guarded = AssertUnwindSafe(stream)
            .catch_unwind()
            .map(|item| match item {
                Ok(batch) => batch,
                Err(payload) => Err(panic_error(payload.as_ref()).into_datafusion()),
            })
            // After a panic the inner stream is in an unknown state: stop at the error.
            .scan(false, |failed, item| {
                let stop = *failed;
                *failed = item.is_err();
                futures::future::ready((!stop).then_some(item))
            });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, guarded)))
    }
}
