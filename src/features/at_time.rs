//! `features_at_time(label_query, view [, view ...])`: a point-in-time correct training set,
//! Feast's `get_historical_features` in one call. Each view is joined to the label rows with an
//! [`AsofJoin`] on its entity columns, matching its latest row at or before the label time,
//! within the view's TTL, among rows already created at the label time.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Column, TableReference};
use datafusion::datasource::{ViewTable, provider_as_source};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};

use super::asof::AsofOp;
use super::asof::index::MatchRule;
use super::asof::logical::AsofJoin;
use super::store::{FeatureStore, public_table, table_gone};
use super::view::label_time_column;
use crate::error::{SqlError, sqlstate};
use crate::ml::table_functions::{plan_query, session_state, text_literal};

const FUNCTION: &str = "features_at_time";
const LABELS: &str = "__labels";

#[derive(Debug)]
pub struct FeaturesAtTime {
    pub store: Arc<FeatureStore>,
}

fn invalid(message: impl Into<String>) -> DataFusionError {
    SqlError::new(sqlstate::INVALID_PARAMETER_VALUE, message).into_datafusion()
}

fn column(relation: &str, name: &str) -> Expr {
    Expr::Column(Column::new(Some(TableReference::bare(relation)), name))
}

impl TableFunctionImpl for FeaturesAtTime {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let texts: Option<Vec<String>> = args.exprs().iter().map(text_literal).collect();
        let usage = || {
            invalid(format!(
                "{FUNCTION} takes a label query and one or more feature view names, all in quotes: \
                 {FUNCTION}('SELECT customer_id, label_ts, churned FROM labels', 'customer_stats')"
            ))
        };
        let texts = texts.ok_or_else(usage)?;
        let [query, views @ ..] = texts.as_slice() else {
            return Err(usage());
        };
        if views.is_empty() {
            return Err(usage());
        }
        let state = session_state(FUNCTION, args.session())?.clone();
        // The output's columns depend on the query's, so it is planned now. Planning only
        // resolves tables already in the catalog, so it completes without awaiting I/O.
        let labels = futures::executor::block_on(plan_query(FUNCTION, &state, query))?;
        let labels = LogicalPlanBuilder::from(labels).alias(LABELS)?.build()?;
        let label_schema = Arc::clone(labels.schema());
        let label_time = label_time_column(FUNCTION, label_schema.as_arrow())?;
        let mut outputs: Vec<Expr> = label_schema
            .fields()
            .iter()
            .map(|f| column(LABELS, f.name()).alias(f.name()))
            .collect();
        let mut plan = labels;
        for (i, name) in views.iter().enumerate() {
            let index = self.store.get(name)?;
            let view = index.view();
            let provider =
                futures::executor::block_on(public_table(state.catalog_list().as_ref(), name))?
                    .ok_or_else(|| table_gone(name))?;
            let alias = format!("__view{i}");
            let view_schema = provider.schema();
            let right =
                LogicalPlanBuilder::scan(name.as_str(), provider_as_source(provider), None)?
                    .alias(alias.as_str())?
                    .build()?;
            let mut on = Vec::new();
            for key in &view.entity {
                if label_schema.field_with_unqualified_name(key).is_err() {
                    return Err(SqlError::new(
                        sqlstate::UNDEFINED_COLUMN,
                        format!(
                            "{FUNCTION}: the label query has no column \"{key}\", an entity column of feature view {name}"
                        ),
                    )
                    .into_datafusion());
                }
                on.push((column(LABELS, key), column(&alias, key)));
            }
            plan = AsofJoin::try_new(
                plan,
                right,
                on,
                (column(LABELS, &label_time), column(&alias, &view.timestamp)),
                MatchRule {
                    op: AsofOp::Ge,
                    ttl: view.ttl.as_ref().map(|t| t.nanos),
                },
                view.created.as_deref().map(|c| column(&alias, c)),
            )?
            .into_plan();
            for feature in view.features(&view_schema) {
                outputs.push(column(&alias, feature).alias(format!("{name}__{feature}")));
            }
            // Keep only what is output: the join then gathers just the view's features.
            plan = LogicalPlanBuilder::from(plan)
                .project(outputs.iter().map(|e| match e {
                    Expr::Alias(alias) => (*alias.expr).clone(),
                    other => other.clone(),
                }))?
                .build()?;
        }
        let plan = LogicalPlanBuilder::from(plan).project(outputs)?.build()?;
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}
