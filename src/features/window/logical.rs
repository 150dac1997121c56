//! The plan node of `window_features`: label rows in, label rows with aggregate columns out.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::{DFSchema, DFSchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, Extension, LogicalPlan, UserDefinedLogicalNodeCore};

use super::{Aggregate, WindowSpec};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WindowAggregates {
    pub labels: LogicalPlan,
    pub source: LogicalPlan,
    pub spec: WindowSpec,
    schema: DFSchemaRef,
}

/// The aggregate columns' fields: counts are never NULL; the rest are NULL over no values.
pub fn aggregate_fields(spec: &WindowSpec) -> Vec<Field> {
    let names = spec.output_names();
    let aggregates = spec
        .values
        .iter()
        .flat_map(|_| spec.windows.iter().flat_map(|_| spec.aggregates.iter()));
    names
        .into_iter()
        .zip(aggregates)
        .map(|(name, aggregate)| match aggregate {
            Aggregate::Count => Field::new(name, DataType::Int64, false),
            _ => Field::new(name, DataType::Float64, true),
        })
        .collect()
}

impl WindowAggregates {
    pub fn try_new(labels: LogicalPlan, source: LogicalPlan, spec: WindowSpec) -> Result<Self> {
        let added = DFSchema::try_from(Schema::new(aggregate_fields(&spec)))?;
        let schema = Arc::new(labels.schema().join(&added)?);
        Ok(Self {
            labels,
            source,
            spec,
            schema,
        })
    }

    pub fn into_plan(self) -> LogicalPlan {
        LogicalPlan::Extension(Extension {
            node: Arc::new(self),
        })
    }
}

impl PartialOrd for WindowAggregates {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.spec
            .partial_cmp(&other.spec)
            .filter(|ordering| *ordering != Ordering::Equal || self == other)
    }
}

impl UserDefinedLogicalNodeCore for WindowAggregates {
    fn name(&self) -> &str {
        "WindowAggregates"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.labels, &self.source]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let windows: Vec<&str> = self
            .spec
            .windows
            .iter()
            .map(|w| w.suffix.as_str())
            .collect();
        let aggregates: Vec<&str> = self.spec.aggregates.iter().map(|a| a.name()).collect();
        write!(
            f,
            "WindowAggregates: entity=[{}], time={} ~ {}, values=[{}], windows=[{}], aggs=[{}]",
            self.spec.entity.join(", "),
            self.spec.label_time,
            self.spec.source_time,
            self.spec.values.join(", "),
            windows.join(", "),
            aggregates.join(", ")
        )
    }

    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        let [labels, source]: [LogicalPlan; 2] = inputs
            .try_into()
            .map_err(|_| DataFusionError::Internal("WindowAggregates takes two inputs".into()))?;
        Self::try_new(labels, source, self.spec.clone())
    }
}
