//! Runs `window_features`: the source is read once into per-entity, time-ordered arrays shared
//! by every label partition; each label batch streams through, its windows found by binary
//! search and aggregated exactly (two-pass variance) over the rows inside them.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Builder, Int64Builder, RecordBatch,
};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Float64Type, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties, collect,
};
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};
use futures::{StreamExt, TryStreamExt};
use tokio::sync::OnceCell;

use super::logical::WindowAggregates;
use super::{Aggregate, WindowSpec};
use crate::features::time_order::{TimeDomain, TimeOrder, time_values};

/// The source rows, grouped by entity and ordered by time.
struct SourceIndex {
    order: TimeOrder,
    /// One column per value, in `times` order.
    values: Vec<Vec<Option<f64>>>,
}

fn column(batch: &RecordBatch, name: &str) -> Result<ArrayRef> {
    batch
        .column_by_name(name)
        .cloned()
        .ok_or_else(|| DataFusionError::Internal(format!("window_features lost column {name}")))
}

impl SourceIndex {
    fn build(batch: &RecordBatch, spec: &WindowSpec) -> Result<Self> {
        let keys = spec
            .entity
            .iter()
            .map(|k| column(batch, k))
            .collect::<Result<Vec<_>>>()?;
        let row_times = time_values(&column(batch, &spec.source_time)?, TimeDomain::Instant)?;
        let order = TimeOrder::build(&keys, &row_times, |_, _| std::cmp::Ordering::Equal)?;
        let values = spec
            .values
            .iter()
            .map(|name| {
                let floats = cast(&column(batch, name)?, &DataType::Float64)?;
                let floats = floats.as_primitive::<Float64Type>();
                Ok(order
                    .order
                    .iter()
                    .map(|&row| {
                        let row = row as usize;
                        floats.is_valid(row).then(|| floats.value(row))
                    })
                    .collect())
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { order, values })
    }
}

/// The aggregates of the non-NULL values in one window.
struct Summary {
    count: i64,
    sum: f64,
    min: f64,
    max: f64,
    stddev: Option<f64>,
}

fn summarize(values: &[Option<f64>]) -> Summary {
    let (mut count, mut sum, mut min, mut max) = (0i64, 0.0, f64::INFINITY, f64::NEG_INFINITY);
    for value in values.iter().flatten() {
        count += 1;
        sum += value;
        min = min.min(*value);
        max = max.max(*value);
    }
    let stddev = (count > 1).then(|| {
        let mean = sum / count as f64;
        let squares: f64 = values.iter().flatten().map(|v| (v - mean).powi(2)).sum();
        (squares / (count - 1) as f64).sqrt()
    });
    Summary {
        count,
        sum,
        min,
        max,
        stddev,
    }
}

/// One output column being built, in the order of [`WindowSpec::output_names`].
enum Output {
    Count(Int64Builder),
    Float(Float64Builder),
}

fn aggregate_labels(
    index: &SourceIndex,
    spec: &WindowSpec,
    schema: &SchemaRef,
    labels: RecordBatch,
) -> Result<RecordBatch> {
    let rows = labels.num_rows();
    let keys = spec
        .entity
        .iter()
        .map(|k| column(&labels, k))
        .collect::<Result<Vec<_>>>()?;
    let groups = index.order.keys.lookup(&keys, rows)?;
    let times = time_values(&column(&labels, &spec.label_time)?, TimeDomain::Instant)?;
    let per_window = spec.aggregates.len();
    let outputs = spec.values.len() * spec.windows.len() * per_window;
    let mut builders: Vec<Output> = (0..outputs)
        .map(|i| match spec.aggregates[i % per_window] {
            Aggregate::Count => Output::Count(Int64Builder::with_capacity(rows)),
            _ => Output::Float(Float64Builder::with_capacity(rows)),
        })
        .collect();
    for (group, time) in groups.iter().zip(&times) {
        let entity = match (group, time) {
            (Some(g), Some(t)) => {
                let g = *g as usize;
                Some((index.order.starts[g]..index.order.starts[g + 1], *t))
            }
            _ => None,
        };
        let mut next = builders.iter_mut();
        for values in &index.values {
            for window in &spec.windows {
                let summary = match &entity {
                    Some((range, time)) => {
                        let times = &index.order.times[range.clone()];
                        let end = times.partition_point(|&t| t <= *time);
                        let start =
                            times.partition_point(|&t| t <= time.saturating_sub(window.nanos));
                        summarize(&values[range.start + start..range.start + end.max(start)])
                    }
                    None => summarize(&[]),
                };
                let some = |v: f64| (summary.count > 0).then_some(v);
                for aggregate in &spec.aggregates {
                    let value = match aggregate {
                        Aggregate::Count => None,
                        Aggregate::Sum => some(summary.sum),
                        Aggregate::Mean => some(summary.sum / summary.count as f64),
                        Aggregate::Min => some(summary.min),
                        Aggregate::Max => some(summary.max),
                        Aggregate::Stddev => summary.stddev,
                    };
                    match next.next() {
                        Some(Output::Count(builder)) => builder.append_value(summary.count),
                        Some(Output::Float(builder)) => builder.append_option(value),
                        None => {}
                    }
                }
            }
        }
    }
    let mut columns = labels.columns().to_vec();
    columns.extend(builders.iter_mut().map(|builder| -> ArrayRef {
        match builder {
            Output::Count(builder) => Arc::new(builder.finish()),
            Output::Float(builder) => Arc::new(builder.finish()),
        }
    }));
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

#[derive(Debug)]
pub struct WindowAggregatesExec {
    labels: Arc<dyn ExecutionPlan>,
    source: Arc<dyn ExecutionPlan>,
    spec: WindowSpec,
    schema: SchemaRef,
    index: Arc<OnceCell<Arc<SourceIndex>>>,
    properties: Arc<PlanProperties>,
}

impl fmt::Debug for SourceIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceIndex({} rows)", self.order.times.len())
    }
}

impl WindowAggregatesExec {
    fn new(
        labels: Arc<dyn ExecutionPlan>,
        source: Arc<dyn ExecutionPlan>,
        spec: WindowSpec,
        schema: SchemaRef,
    ) -> Self {
        let mut equivalences = EquivalenceProperties::new(Arc::clone(&schema));
        if let Some(ordering) = labels.output_ordering() {
            equivalences.add_ordering(ordering.iter().cloned());
        }
        let properties = PlanProperties::new(
            equivalences,
            Partitioning::UnknownPartitioning(labels.output_partitioning().partition_count()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Self {
            labels,
            source,
            spec,
            schema,
            index: Arc::new(OnceCell::new()),
            properties: Arc::new(properties),
        }
    }
}

impl DisplayAs for WindowAggregatesExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WindowAggregatesExec: entity=[{}], values=[{}], {} windows",
            self.spec.entity.join(", "),
            self.spec.values.join(", "),
            self.spec.windows.len()
        )
    }
}

impl ExecutionPlan for WindowAggregatesExec {
    fn name(&self) -> &str {
        "WindowAggregatesExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.labels, &self.source]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true, false]
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
        let [labels, source]: [Arc<dyn ExecutionPlan>; 2] = children.try_into().map_err(|_| {
            DataFusionError::Internal("WindowAggregatesExec takes two children".into())
        })?;
        Ok(Arc::new(Self::new(
            labels,
            source,
            self.spec.clone(),
            Arc::clone(&self.schema),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let labels = self.labels.execute(partition, Arc::clone(&context))?;
        let index = Arc::clone(&self.index);
        let source = Arc::clone(&self.source);
        let spec = self.spec.clone();
        let schema = Arc::clone(&self.schema);
        let output_schema = Arc::clone(&schema);
        let stream = futures::stream::once(async move {
            let index = index
                .get_or_try_init(|| {
                    let spec = spec.clone();
                    async move {
                        let source_schema = source.schema();
                        let batches = collect(source, context).await?;
                        let batch = concat_batches(&source_schema, &batches)?;
                        tokio::task::spawn_blocking(move || {
                            SourceIndex::build(&batch, &spec).map(Arc::new)
                        })
                        .await
                        .map_err(|e| DataFusionError::External(Box::new(e)))?
                    }
                })
                .await
                .cloned()?;
            Ok::<_, DataFusionError>(
                labels.map(move |batch| aggregate_labels(&index, &spec, &output_schema, batch?)),
            )
        })
        .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

/// Plans [`WindowAggregates`] nodes.
#[derive(Debug, Default)]
pub struct WindowPlanner;

#[async_trait]
impl ExtensionPlanner for WindowPlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(node) = node.as_any().downcast_ref::<WindowAggregates>() else {
            return Ok(None);
        };
        let [labels, source] = physical_inputs else {
            return Err(DataFusionError::Internal(
                "WindowAggregates takes two inputs".into(),
            ));
        };
        Ok(Some(Arc::new(WindowAggregatesExec::new(
            Arc::clone(labels),
            Arc::clone(source),
            node.spec.clone(),
            Arc::new(node.schema().as_arrow().clone()),
        ))))
    }
}
