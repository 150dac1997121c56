//! The physical ASOF join: the right side is read once into a [`PartitionedIndex`] (one
//! [`AsofIndex`] per right partition, built in parallel) shared by every left partition; each left batch is then matched row by row (a hash lookup and a binary
//! search) and streams out in its own order, with the matched right columns appended.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::projection::ProjectionMapping;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties,
};
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};
use futures::{StreamExt, TryStreamExt};
use tokio::sync::OnceCell;

use super::index::{AsofIndex, MatchRule, PartitionedIndex, RightColumns};
use super::logical::AsofJoin;
use crate::features::time_order::{TimeDomain, time_values};

/// The expressions one side of the join is matched on.
#[derive(Debug, Clone)]
pub struct SideExprs {
    pub keys: Vec<Arc<dyn PhysicalExpr>>,
    pub time: Arc<dyn PhysicalExpr>,
}

#[derive(Debug)]
pub struct AsofJoinExec {
    left: Arc<dyn ExecutionPlan>,
    right: Arc<dyn ExecutionPlan>,
    left_exprs: SideExprs,
    right_exprs: SideExprs,
    right_created: Option<Arc<dyn PhysicalExpr>>,
    domain: TimeDomain,
    rule: MatchRule,
    /// The left columns followed by the right ones.
    join_schema: SchemaRef,
    /// The columns emitted, as (index in `join_schema`, name), when a projection was absorbed:
    /// right columns nobody reads are then never gathered.
    output: Option<Vec<(usize, String)>>,
    schema: SchemaRef,
    index: Arc<OnceCell<Arc<PartitionedIndex>>>,
    properties: Arc<PlanProperties>,
}

impl AsofJoinExec {
    #[allow(clippy::too_many_arguments)]
    pub fn try_new(
        left: Arc<dyn ExecutionPlan>,
        right: Arc<dyn ExecutionPlan>,
        left_exprs: SideExprs,
        right_exprs: SideExprs,
        right_created: Option<Arc<dyn PhysicalExpr>>,
        rule: MatchRule,
        (join_schema, output): (SchemaRef, Option<Vec<(usize, String)>>),
    ) -> Result<Self> {
        let domain = TimeDomain::common(
            &left_exprs.time.data_type(&left.schema())?,
            &right_exprs.time.data_type(&right.schema())?,
        )?;
        // Left rows keep their order and their columns' positions, so the left's ordering holds.
        let mut equivalences = EquivalenceProperties::new(Arc::clone(&join_schema));
        if let Some(ordering) = left.output_ordering() {
            equivalences.add_ordering(ordering.iter().cloned());
        }
        let (schema, equivalences) = match &output {
            None => (Arc::clone(&join_schema), equivalences),
            Some(columns) => {
                let schema = Arc::new(Schema::new(
                    columns
                        .iter()
                        .map(|(i, name)| join_schema.field(*i).clone().with_name(name))
                        .collect::<Vec<_>>(),
                ));
                let mapping = ProjectionMapping::try_new(
                    columns.iter().map(|(i, name)| {
                        let column = Column::new(join_schema.field(*i).name(), *i);
                        (Arc::new(column) as Arc<dyn PhysicalExpr>, name.clone())
                    }),
                    &join_schema,
                )?;
                let projected = equivalences.project(&mapping, Arc::clone(&schema));
                (schema, projected)
            }
        };
        let partitions = left.output_partitioning().partition_count();
        let properties = PlanProperties::new(
            equivalences,
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(Self {
            left,
            right,
            left_exprs,
            right_exprs,
            right_created,
            domain,
            rule,
            join_schema,
            output,
            schema,
            index: Arc::new(OnceCell::new()),
            properties: Arc::new(properties),
        })
    }
}

impl DisplayAs for AsofJoinExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self
            .left_exprs
            .keys
            .iter()
            .zip(&self.right_exprs.keys)
            .map(|(l, r)| format!("{l} = {r}"))
            .collect();
        write!(
            f,
            "AsofJoinExec: on=[{}], match={} {} {}",
            keys.join(", "),
            self.left_exprs.time,
            self.rule.op.symbol(),
            self.right_exprs.time
        )
    }
}

fn evaluate(exprs: &[Arc<dyn PhysicalExpr>], batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
    exprs
        .iter()
        .map(|e| e.evaluate(batch)?.into_array(batch.num_rows()))
        .collect()
}

/// Reads and indexes one partition of the right side.
async fn index_partition(
    right: Arc<dyn ExecutionPlan>,
    partition: usize,
    exprs: SideExprs,
    created: Option<Arc<dyn PhysicalExpr>>,
    (domain, rule): (TimeDomain, MatchRule),
    context: Arc<TaskContext>,
) -> Result<AsofIndex> {
    let schema = right.schema();
    let batches: Vec<RecordBatch> = right.execute(partition, context)?.try_collect().await?;
    // Sorting millions of rows is CPU work; keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        let batch = datafusion::arrow::compute::concat_batches(&schema, &batches)?;
        drop(batches);
        let keys = evaluate(&exprs.keys, &batch)?;
        let times = time_values(&evaluate(&[exprs.time], &batch)?[0], domain)?;
        let created = match created {
            Some(created) => Some(time_values(
                &evaluate(&[created], &batch)?[0],
                TimeDomain::Instant,
            )?),
            None => None,
        };
        AsofIndex::build(
            RightColumns {
                batch,
                keys,
                times,
                created,
            },
            rule,
        )
    })
    .await
    .map_err(|e| DataFusionError::External(Box::new(e)))?
}

/// Indexes every partition of the right side at once, each on a task of its own.
async fn build_index(
    right: Arc<dyn ExecutionPlan>,
    exprs: SideExprs,
    created: Option<Arc<dyn PhysicalExpr>>,
    (domain, rule): (TimeDomain, MatchRule),
    context: Arc<TaskContext>,
) -> Result<Arc<PartitionedIndex>> {
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..right.output_partitioning().partition_count())
        .map(|partition| {
            tokio::spawn(index_partition(
                Arc::clone(&right),
                partition,
                exprs.clone(),
                created.clone(),
                (domain, rule),
                Arc::clone(&context),
            ))
        })
        .collect();
    let mut parts = Vec::with_capacity(tasks.len());
    for task in tasks {
        parts.push(
            task.await
                .map_err(|e| DataFusionError::External(Box::new(e)))??,
        );
    }
    let index = PartitionedIndex::new(parts, &right.schema(), rule.op);
    tracing::debug!(
        "ASOF right side: {} rows indexed in {:?}",
        index.rows(),
        started.elapsed()
    );
    Ok(Arc::new(index))
}

/// The output columns for one left batch, gathering only the right columns emitted.
fn probe(
    index: &PartitionedIndex,
    exprs: &SideExprs,
    domain: TimeDomain,
    (schema, output): (&SchemaRef, &[usize]),
    left: RecordBatch,
) -> Result<RecordBatch> {
    let keys = evaluate(&exprs.keys, &left)?;
    let times = time_values(
        &evaluate(std::slice::from_ref(&exprs.time), &left)?[0],
        domain,
    )?;
    let left_width = left.num_columns();
    let right_columns: Vec<usize> = output
        .iter()
        .filter(|&&i| i >= left_width)
        .map(|&i| i - left_width)
        .collect();
    let gathered = index.probe(&keys, &times, &right_columns)?;
    let columns = output
        .iter()
        .map(|&i| {
            if i < left_width {
                Arc::clone(left.column(i))
            } else {
                let at = right_columns.iter().position(|&r| r == i - left_width);
                Arc::clone(&gathered[at.unwrap_or_default()])
            }
        })
        .collect();
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

impl ExecutionPlan for AsofJoinExec {
    fn name(&self) -> &str {
        "AsofJoinExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.left, &self.right]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true, false]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        let exprs = self
            .left_exprs
            .keys
            .iter()
            .chain(&self.right_exprs.keys)
            .chain([&self.left_exprs.time, &self.right_exprs.time])
            .chain(&self.right_created);
        for expr in exprs {
            if f(expr)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let [left, right]: [Arc<dyn ExecutionPlan>; 2] = children
            .try_into()
            .map_err(|_| DataFusionError::Internal("AsofJoinExec takes two children".into()))?;
        Ok(Arc::new(Self::try_new(
            left,
            right,
            self.left_exprs.clone(),
            self.right_exprs.clone(),
            self.right_created.clone(),
            self.rule,
            (Arc::clone(&self.join_schema), self.output.clone()),
        )?))
    }

    fn try_swapping_with_projection(
        &self,
        projection: &ProjectionExec,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let mut output = Vec::with_capacity(projection.expr().len());
        for expr in projection.expr() {
            let Some(column) = expr.expr.downcast_ref::<Column>() else {
                return Ok(None);
            };
            let index = match &self.output {
                Some(columns) => columns[column.index()].0,
                None => column.index(),
            };
            output.push((index, expr.alias.clone()));
        }
        Ok(Some(Arc::new(Self::try_new(
            Arc::clone(&self.left),
            Arc::clone(&self.right),
            self.left_exprs.clone(),
            self.right_exprs.clone(),
            self.right_created.clone(),
            self.rule,
            (Arc::clone(&self.join_schema), Some(output)),
        )?)))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let left = self.left.execute(partition, Arc::clone(&context))?;
        let index = Arc::clone(&self.index);
        let right = Arc::clone(&self.right);
        let right_exprs = self.right_exprs.clone();
        let created = self.right_created.clone();
        let left_exprs = self.left_exprs.clone();
        let (domain, rule) = (self.domain, self.rule);
        let schema = Arc::clone(&self.schema);
        let output_schema = Arc::clone(&schema);
        let output: Vec<usize> = match &self.output {
            Some(columns) => columns.iter().map(|(i, _)| *i).collect(),
            None => (0..self.join_schema.fields().len()).collect(),
        };
        let stream = futures::stream::once(async move {
            let index = index
                .get_or_try_init(|| {
                    build_index(right, right_exprs, created, (domain, rule), context)
                })
                .await
                .cloned()?;
            Ok::<_, DataFusionError>(left.map(move |batch| {
                probe(
                    &index,
                    &left_exprs,
                    domain,
                    (&output_schema, &output),
                    batch?,
                )
            }))
        })
        .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

/// Plans [`AsofJoin`] nodes.
#[derive(Debug, Default)]
pub struct AsofPlanner;

#[async_trait]
impl ExtensionPlanner for AsofPlanner {
    async fn plan_extension(
        &self,
        planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        session: &dyn Session,
        planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(join) = node.as_any().downcast_ref::<AsofJoin>() else {
            return Ok(None);
        };
        let ([left_plan, right_plan], [left, right]) = (logical_inputs, physical_inputs) else {
            return Err(DataFusionError::Internal(
                "AsofJoin takes two inputs".into(),
            ));
        };
        let physical = |expr, plan: &LogicalPlan| {
            planner.create_physical_expr(expr, plan.schema(), session, planning_ctx)
        };
        let left_exprs = SideExprs {
            keys: join
                .on
                .iter()
                .map(|(l, _)| physical(l, left_plan))
                .collect::<Result<_>>()?,
            time: physical(&join.left_time, left_plan)?,
        };
        let right_exprs = SideExprs {
            keys: join
                .on
                .iter()
                .map(|(_, r)| physical(r, right_plan))
                .collect::<Result<_>>()?,
            time: physical(&join.right_time, right_plan)?,
        };
        let created = match &join.right_created {
            Some(created) => Some(physical(created, right_plan)?),
            None => None,
        };
        Ok(Some(Arc::new(AsofJoinExec::try_new(
            Arc::clone(left),
            Arc::clone(right),
            left_exprs,
            right_exprs,
            created,
            join.rule,
            (Arc::new(join.schema().as_arrow().clone()), None),
        )?)))
    }
}
