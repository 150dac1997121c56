//! A physical optimizer rule that aggregates whole samples in one stage instead of two.
//!
//! Without GROUP BY, DataFusion plans an aggregate over several partitions in two stages: a
//! partial aggregate per partition, and a final one that merges the partial states after the
//! partitions are coalesced. That pays when a state is small. The numeric two-sample functions
//! (PSI, KS, Wasserstein, ROC AUC, ...) keep every value, so a partial state is its whole
//! partition: writing it copies the held input batches into one list, and the final stage reads
//! them all again. Coalescing the partitions' rows instead and aggregating once skips that copy;
//! the scan, filters and projections below the aggregate still run on every partition.
//!
//! Add it where the session is built:
//!
//! ```
//! use std::sync::Arc;
//! use datafusion::execution::SessionStateBuilder;
//! use datafusion::prelude::SessionContext;
//!
//! let state = SessionStateBuilder::new()
//!     .with_default_features()
//!     .with_physical_optimizer_rule(Arc::new(quiver_udfs::SingleStageSamples))
//!     .build();
//! let ctx = SessionContext::new_with_state(state);
//! quiver_udfs::register_all(&ctx);
//! ```
//!
//! Without the rule every function gives the same results, only slower on several partitions.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;

use crate::common::two_sample::keeps_whole_input;

/// Rewrites `Final(no GROUP BY) ← CoalescePartitions ← Partial ← input` into
/// `Single ← CoalescePartitions ← input` when an aggregate keeps its whole input.
#[derive(Debug, Default)]
pub struct SingleStageSamples;

impl PhysicalOptimizerRule for SingleStageSamples {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_down(|plan| {
            Ok(match single_stage(&plan)? {
                Some(single) => Transformed::yes(single),
                None => Transformed::no(plan),
            })
        })
        .data()
    }

    fn name(&self) -> &str {
        "single_stage_samples"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

fn single_stage(plan: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some(last) = plan.downcast_ref::<AggregateExec>() else {
        return Ok(None);
    };
    if *last.mode() != AggregateMode::Final || !last.group_expr().is_empty() {
        return Ok(None);
    }
    let Some(coalesce) = last.input().downcast_ref::<CoalescePartitionsExec>() else {
        return Ok(None);
    };
    let Some(partial) = coalesce.input().downcast_ref::<AggregateExec>() else {
        return Ok(None);
    };
    if *partial.mode() != AggregateMode::Partial || coalesce.fetch().is_some() {
        return Ok(None);
    }
    let input_schema = partial.input().schema();
    let mut keeps_input = false;
    for aggregate in partial.aggr_expr() {
        let value_type = match aggregate.expressions().first() {
            Some(value) => Some(value.data_type(&input_schema)?),
            None => None,
        };
        keeps_input |=
            value_type.is_some_and(|value_type| keeps_whole_input(aggregate.fun(), &value_type));
    }
    if !keeps_input {
        return Ok(None);
    }
    let single = AggregateExec::try_new(
        AggregateMode::Single,
        partial.group_expr().clone(),
        partial.aggr_expr().to_vec(),
        partial.filter_expr().to_vec(),
        Arc::new(CoalescePartitionsExec::new(Arc::clone(partial.input()))),
        partial.input_schema(),
    )?
    .with_limit_options(last.limit_options());
    Ok(Some(Arc::new(single)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray,
    };
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::execution::SessionStateBuilder;
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::{SessionConfig, SessionContext};

    /// Four partitions of one batch each: values 0..40, the first half the reference.
    fn context(with_rule: bool) -> SessionContext {
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, false),
            Field::new("label", DataType::Utf8, false),
            Field::new("is_ref", DataType::Boolean, false),
        ]));
        let partitions = (0..4)
            .map(|part| {
                let values: Vec<f64> = (0..10).map(|i| f64::from(part * 10 + i)).collect();
                let labels: Vec<String> = values
                    .iter()
                    .map(|v| format!("k{}", *v as u32 % 3))
                    .collect();
                vec![
                    RecordBatch::try_new(
                        Arc::clone(&schema),
                        vec![
                            Arc::new(Float64Array::from(values)) as ArrayRef,
                            Arc::new(StringArray::from(labels)),
                            Arc::new(BooleanArray::from(vec![part < 2; 10])),
                        ],
                    )
                    .unwrap(),
                ]
            })
            .collect();
        let mut builder = SessionStateBuilder::new()
            .with_config(SessionConfig::new().with_target_partitions(4))
            .with_default_features();
        if with_rule {
            builder = builder.with_physical_optimizer_rule(Arc::new(SingleStageSamples));
        }
        let ctx = SessionContext::new_with_state(builder.build());
        crate::register_all(&ctx);
        ctx.register_table(
            "t",
            Arc::new(MemTable::try_new(schema, partitions).unwrap()),
        )
        .unwrap();
        ctx
    }

    async fn plan_and_rows(ctx: &SessionContext, sql: &str) -> (String, String) {
        let frame = ctx.sql(sql).await.unwrap();
        let plan = frame.clone().create_physical_plan().await.unwrap();
        let plan = displayable(plan.as_ref()).indent(false).to_string();
        let rows =
            datafusion::arrow::util::pretty::pretty_format_batches(&frame.collect().await.unwrap())
                .unwrap()
                .to_string();
        (plan, rows)
    }

    #[tokio::test]
    async fn numeric_samples_aggregate_once_with_the_same_results() {
        let sql = "SELECT psi(x, is_ref), ks_2samp(x, is_ref), count(*) FROM t WHERE x <> 3";
        let (plan, rows) = plan_and_rows(&context(true), sql).await;
        assert!(plan.contains("AggregateExec: mode=Single"), "{plan}");
        assert!(!plan.contains("mode=Partial"), "{plan}");
        assert!(plan.contains("CoalescePartitionsExec"), "{plan}");
        let (two_stage_plan, two_stage_rows) = plan_and_rows(&context(false), sql).await;
        assert!(two_stage_plan.contains("mode=Partial"), "{two_stage_plan}");
        assert_eq!(rows, two_stage_rows);
    }

    #[tokio::test]
    async fn small_states_and_grouped_aggregates_keep_two_stages() {
        let ctx = context(true);
        for sql in [
            "SELECT psi(label, is_ref), count(*) FROM t",
            "SELECT sum(x) FROM t",
            "SELECT is_ref, psi(x, x > 5) FROM t GROUP BY is_ref",
        ] {
            let (plan, _) = plan_and_rows(&ctx, sql).await;
            assert!(plan.contains("mode=Partial"), "{sql}: {plan}");
        }
    }
}
