//! `ml_predict(model_ref, 'query')` (BigQuery's ML.PREDICT: every input column passed through,
//! prediction columns added, features matched by name) and `ml_evaluate(model_ref, 'query')`
//! (the model's metrics on labelled rows, computed by quiver-udfs' aggregates).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{DataFrame, col, ident};

use super::MlError;
use super::metrics::{evaluate, metric_names};
use super::model::ModelSpec;
use super::predict::call;
use super::registry::{Registry, VersionRecord};
use super::scoring::{prediction_type, probability_type};

/// The text of a string literal argument.
pub fn text_literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Literal(
            ScalarValue::Utf8(Some(text))
            | ScalarValue::Utf8View(Some(text))
            | ScalarValue::LargeUtf8(Some(text)),
            _,
        ) => Some(text.clone()),
        _ => None,
    }
}

pub fn text_arguments(function: &str, args: &TableFunctionArgs) -> Result<(String, String)> {
    let exprs = args.exprs();
    let text = text_literal;
    match exprs {
        [model, query] => match (text(model), text(query)) {
            (Some(model), Some(query)) => Ok((model, query)),
            _ => Err(MlError::invalid(format!(
                "{function} takes a model name and a query, both in quotes: {function}('churn', 'SELECT * FROM t')"
            ))
            .into()),
        },
        _ => Err(MlError::invalid(format!("{function} takes (model_ref text, query text)")).into()),
    }
}

pub fn session_state<'a>(function: &str, session: &'a dyn Session) -> Result<&'a SessionState> {
    session
        .as_any()
        .downcast_ref::<SessionState>()
        .ok_or_else(|| DataFusionError::Plan(format!("{function} needs a DataFusion SessionState")))
}

pub async fn plan_query(function: &str, state: &SessionState, query: &str) -> Result<LogicalPlan> {
    let plan = state.create_logical_plan(query).await?;
    if matches!(
        plan,
        LogicalPlan::Dml(_)
            | LogicalPlan::Ddl(_)
            | LogicalPlan::Copy(_)
            | LogicalPlan::Statement(_)
    ) {
        return Err(
            MlError::invalid(format!("{function}'s query must be a SELECT, got: {query}")).into(),
        );
    }
    Ok(plan)
}

fn udf(state: &SessionState, name: &str) -> Result<Arc<ScalarUDF>> {
    state
        .scalar_functions()
        .get(name)
        .cloned()
        .ok_or_else(|| DataFusionError::Internal(format!("{name} is not registered")))
}

/// The query's columns that feed the model's features, by name (case-insensitively).
fn feature_columns(function: &str, spec: &ModelSpec, columns: &[String]) -> Result<Vec<Expr>> {
    spec.features
        .iter()
        .map(|feature| {
            columns
                .iter()
                .find(|c| *c == &feature.name)
                .or_else(|| columns.iter().find(|c| c.eq_ignore_ascii_case(&feature.name)))
                .map(|c| ident(c.clone()))
                .ok_or_else(|| {
                    MlError::UndefinedColumn(format!(
                        "{function}: the query has no column \"{}\" for the model's feature; it has ({})",
                        feature.name,
                        columns.join(", ")
                    ))
                    .into()
                })
        })
        .collect()
}

fn resolve(registry: &Registry, reference: &str) -> Result<(Arc<VersionRecord>, ModelSpec)> {
    let record = registry.resolve(reference)?;
    let spec = registry.model(&record)?.spec.clone();
    Ok((record, spec))
}

/// `ml_predict`.
pub struct MlPredict {
    pub registry: Arc<Registry>,
}

impl std::fmt::Debug for MlPredict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ml_predict")
    }
}

impl TableFunctionImpl for MlPredict {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let (reference, query) = text_arguments("ml_predict", &args)?;
        let state = session_state("ml_predict", args.session())?.clone();
        let (_, spec) = resolve(&self.registry, &reference)?;
        // The result's columns depend on the query's, so it is planned now. Planning only
        // resolves tables already in the catalog, so it completes without awaiting I/O.
        let plan = futures::executor::block_on(plan_query("ml_predict", &state, &query))?;
        let input = plan.schema().as_arrow().clone();
        let columns: Vec<String> = input.fields().iter().map(|f| f.name().clone()).collect();
        let features = feature_columns("ml_predict", &spec, &columns)?;
        let label = &spec.label.name;
        let mut outputs = vec![(
            format!("predicted_{label}"),
            "predict",
            prediction_type(&spec),
        )];
        if spec.model_type.is_classifier() {
            let name = if spec.classes.len() == 2 {
                "probability"
            } else {
                "probabilities"
            };
            outputs.push((
                format!("predicted_{label}_{name}"),
                "predict_proba",
                probability_type(&spec)?,
            ));
        }
        let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.extend(
            outputs
                .iter()
                .map(|(name, _, data_type)| Field::new(name, data_type.clone(), true)),
        );
        Ok(Arc::new(PredictTable {
            reference,
            plan,
            features,
            outputs: outputs
                .into_iter()
                .map(|(name, function, _)| (name, function))
                .collect(),
            schema: Arc::new(Schema::new(fields)),
        }))
    }
}

#[derive(Debug)]
struct PredictTable {
    reference: String,
    plan: LogicalPlan,
    features: Vec<Expr>,
    outputs: Vec<(String, &'static str)>,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for PredictTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let state = session_state("ml_predict", session)?;
        let mut frame = DataFrame::new(state.clone(), self.plan.clone());
        for (name, function) in &self.outputs {
            frame = frame.with_column(
                name,
                call(
                    &udf(state, function)?,
                    &self.reference,
                    self.features.clone(),
                ),
            )?;
        }
        if let Some(projection) = projection {
            let columns: Vec<Expr> = projection
                .iter()
                .map(|&i| col(format!("\"{}\"", self.schema.field(i).name())))
                .collect();
            frame = frame.select(columns)?;
        }
        frame.create_physical_plan().await
    }
}

/// `ml_evaluate`.
pub struct MlEvaluate {
    pub registry: Arc<Registry>,
}

impl std::fmt::Debug for MlEvaluate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ml_evaluate")
    }
}

impl TableFunctionImpl for MlEvaluate {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let (reference, query) = text_arguments("ml_evaluate", &args)?;
        let (_, spec) = resolve(&self.registry, &reference)?;
        let fields: Vec<Field> = metric_names(&spec)
            .iter()
            .map(|n| Field::new(*n, DataType::Float64, true))
            .collect();
        Ok(Arc::new(EvaluateTable {
            reference,
            query,
            spec,
            schema: Arc::new(Schema::new(fields)),
        }))
    }
}

#[derive(Debug)]
struct EvaluateTable {
    reference: String,
    query: String,
    spec: ModelSpec,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for EvaluateTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let state = session_state("ml_evaluate", session)?;
        let plan = plan_query("ml_evaluate", state, &self.query).await?;
        let columns: Vec<String> = plan
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let features = feature_columns("ml_evaluate", &self.spec, &columns)?;
        let label = columns
            .iter()
            .find(|c| c.eq_ignore_ascii_case(&self.spec.label.name))
            .ok_or_else(|| {
                MlError::UndefinedColumn(format!(
                    "ml_evaluate: the query has no label column \"{}\"; it has ({})",
                    self.spec.label.name,
                    columns.join(", ")
                ))
            })?;
        let mut selected = vec![
            ident(label.clone()).alias("label"),
            call(&udf(state, "predict")?, &self.reference, features.clone()).alias("predicted"),
        ];
        if self.spec.classes.len() == 2 {
            selected.push(
                call(&udf(state, "predict_proba")?, &self.reference, features).alias("probability"),
            );
        }
        let frame = DataFrame::new(state.clone(), plan).select(selected)?;
        let metrics = evaluate(state, &self.spec, frame).await?;
        let values: Vec<ArrayRef> = self
            .schema
            .fields()
            .iter()
            .map(|f| Arc::new(Float64Array::from(vec![metrics.get(f.name()).copied()])) as ArrayRef)
            .collect();
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), values)?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            Arc::clone(&self.schema),
            projection.cloned(),
        )?)
    }
}
