//! `window_features(label_query, source, entity => ..., ts => ..., value => ..., windows =>
//! ..., aggs => ...)`: for each label row, aggregates of the source rows of the same entity
//! whose time is in `(label_time - window, label_time]`, for each window. The source is sorted
//! once per entity; each label finds its windows by binary search in its entity's rows.

pub mod exec;
pub mod logical;

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::datasource::{ViewTable, provider_as_source};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col};

use super::store::public_table;
use super::view::Ttl;
use super::view::{is_instant, label_time_column};
use crate::engine::rewrite::named_argument;
use crate::error::{SqlError, sqlstate};
use crate::ml::table_functions::{plan_query, session_state, text_literal};
use logical::WindowAggregates;

pub const FUNCTION: &str = "window_features";

/// An aggregate `window_features` computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd)]
pub enum Aggregate {
    Count,
    Sum,
    Mean,
    Min,
    Max,
    Stddev,
}

impl Aggregate {
    fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "count" => Self::Count,
            "sum" => Self::Sum,
            "mean" | "avg" => Self::Mean,
            "min" => Self::Min,
            "max" => Self::Max,
            "stddev" | "stddev_samp" => Self::Stddev,
            other => {
                return Err(invalid(format!(
                    "{FUNCTION}: unknown aggregate '{other}'; choose from count, sum, mean, min, max, stddev"
                )));
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Sum => "sum",
            Self::Mean => "mean",
            Self::Min => "min",
            Self::Max => "max",
            Self::Stddev => "stddev",
        }
    }
}

/// A window: its length and the suffix of its output columns (`1h`, `7d`, `90m`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd)]
pub struct Window {
    pub nanos: i64,
    pub suffix: String,
}

impl Window {
    fn parse(text: &str) -> Result<Self> {
        let nanos = Ttl::parse(text)
            .map_err(|_| {
                invalid(format!(
                    "{FUNCTION}: window '{text}' is not a fixed-length interval such as '1 hour' or '7 days'"
                ))
            })?
            .nanos;
        const UNITS: [(i64, &str); 5] = [
            (86_400_000_000_000, "d"),
            (3_600_000_000_000, "h"),
            (60_000_000_000, "m"),
            (1_000_000_000, "s"),
            (1_000_000, "ms"),
        ];
        let suffix = UNITS
            .iter()
            .find(|(unit, _)| nanos % unit == 0)
            .map_or_else(
                || format!("{nanos}ns"),
                |(unit, name)| format!("{}{name}", nanos / unit),
            );
        Ok(Self { nanos, suffix })
    }
}

/// What to compute, with every column name resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd)]
pub struct WindowSpec {
    pub entity: Vec<String>,
    pub label_time: String,
    pub source_time: String,
    pub values: Vec<String>,
    pub windows: Vec<Window>,
    pub aggregates: Vec<Aggregate>,
}

impl WindowSpec {
    /// The output columns after the label columns: `{value}_{aggregate}_{window}`.
    pub fn output_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for value in &self.values {
            for window in &self.windows {
                for aggregate in &self.aggregates {
                    names.push(format!("{value}_{}_{}", aggregate.name(), window.suffix));
                }
            }
        }
        names
    }
}

fn invalid(message: impl Into<String>) -> DataFusionError {
    SqlError::new(sqlstate::INVALID_PARAMETER_VALUE, message).into_datafusion()
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|item| item.trim().to_string())
        .filter(|item| !item.is_empty())
        .collect()
}

#[derive(Debug)]
pub struct WindowFeatures;

const USAGE: &str = "window_features('SELECT customer_id, label_ts FROM labels', 'transactions', \
    entity => 'customer_id', ts => 'txn_ts', value => 'amount', windows => '1 hour,7 days', \
    aggs => 'count,sum,mean,min,max,stddev')";

impl TableFunctionImpl for WindowFeatures {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let usage = || invalid(format!("{FUNCTION} is called like {USAGE}"));
        let mut positional = Vec::new();
        let mut named = std::collections::HashMap::new();
        for expr in args.exprs() {
            match named_argument(expr) {
                Some((name, value)) => {
                    let value = text_literal(&value).ok_or_else(|| {
                        invalid(format!("{FUNCTION}: {name} takes a value in quotes"))
                    })?;
                    named.insert(name, value);
                }
                None => positional.push(text_literal(expr).ok_or_else(|| {
                    invalid(format!(
                        "{FUNCTION}: unexpected argument {expr}; it is called like {USAGE}"
                    ))
                })?),
            }
        }
        let [query, source] = positional.as_slice() else {
            return Err(usage());
        };
        for name in named.keys() {
            if !["entity", "ts", "value", "windows", "aggs", "label_ts"].contains(&name.as_str()) {
                return Err(invalid(format!(
                    "{FUNCTION}: unknown argument {name}; it takes entity, ts, value, windows, aggs and label_ts"
                )));
            }
        }
        let required = |name: &str| {
            named
                .get(name)
                .cloned()
                .ok_or_else(|| invalid(format!("{FUNCTION} needs {name} => '...': {USAGE}")))
        };
        let entity = list(&required("entity")?);
        let source_time = required("ts")?;
        let values = list(&required("value")?);
        let windows = list(&required("windows")?)
            .iter()
            .map(|w| Window::parse(w))
            .collect::<Result<Vec<_>>>()?;
        let aggregates = list(
            named
                .get("aggs")
                .map_or("count,sum,mean,min,max,stddev", String::as_str),
        )
        .iter()
        .map(|a| Aggregate::parse(&a.to_lowercase()))
        .collect::<Result<Vec<_>>>()?;
        if entity.is_empty() || values.is_empty() || windows.is_empty() || aggregates.is_empty() {
            return Err(usage());
        }

        let state = session_state(FUNCTION, args.session())?.clone();
        // Planning only resolves tables already in the catalog, so it completes without I/O.
        let labels = futures::executor::block_on(plan_query(FUNCTION, &state, query))?;
        let label_schema = labels.schema().as_arrow().clone();
        let label_time = match named.get("label_ts") {
            Some(name) => name.clone(),
            None => label_time_column(FUNCTION, &label_schema)?,
        };
        let provider =
            futures::executor::block_on(public_table(state.catalog_list().as_ref(), source))?
                .ok_or_else(|| {
                    SqlError::new(
                        sqlstate::UNDEFINED_TABLE,
                        format!("{FUNCTION}: relation \"{source}\" does not exist"),
                    )
                    .into_datafusion()
                })?;
        let source_schema = provider.schema();
        let missing = |side: &str, name: &str, schema: &datafusion::arrow::datatypes::Schema| {
            if schema.field_with_name(name).is_ok() {
                return Ok(());
            }
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            Err(SqlError::new(
                sqlstate::UNDEFINED_COLUMN,
                format!(
                    "{FUNCTION}: the {side} has no column \"{name}\" (it has {})",
                    names.join(", ")
                ),
            )
            .into_datafusion())
        };
        for key in &entity {
            missing("label query", key, &label_schema)?;
            missing("source", key, &source_schema)?;
        }
        missing("label query", &label_time, &label_schema)?;
        missing("source", &source_time, &source_schema)?;
        for (side, name, schema) in [
            ("label query", &label_time, &label_schema),
            ("source", &source_time, &source_schema),
        ] {
            let data_type = schema.field_with_name(name)?.data_type();
            if !is_instant(data_type) {
                return Err(SqlError::new(
                    sqlstate::DATATYPE_MISMATCH,
                    format!("{FUNCTION}: the {side}'s time column \"{name}\" is {data_type}, not a timestamp"),
                )
                .into_datafusion());
            }
        }
        for value in &values {
            missing("source", value, &source_schema)?;
            let data_type = source_schema.field_with_name(value)?.data_type();
            if !data_type.is_numeric() && *data_type != DataType::Boolean {
                return Err(SqlError::new(
                    sqlstate::DATATYPE_MISMATCH,
                    format!("{FUNCTION}: value column \"{value}\" is {data_type}, not a number"),
                )
                .into_datafusion());
            }
        }
        let mut columns: Vec<Expr> = entity.iter().map(|k| col(format!("\"{k}\""))).collect();
        columns.push(col(format!("\"{source_time}\"")));
        columns.extend(values.iter().map(|v| col(format!("\"{v}\""))));
        let source = LogicalPlanBuilder::scan(source.as_str(), provider_as_source(provider), None)?
            .project(columns)?
            .build()?;
        let spec = WindowSpec {
            entity,
            label_time,
            source_time,
            values,
            windows,
            aggregates,
        };
        let plan = WindowAggregates::try_new(labels, source, spec)?.into_plan();
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}
