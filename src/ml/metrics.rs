//! Evaluation metrics of a model on labelled rows, computed by quiver-udfs' aggregates
//! (the same functions users call in SQL), so training reports and `ml_evaluate` agree.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::{AggregateUDF, Expr, lit};
use datafusion::prelude::{DataFrame, col};

use super::model::{ClassLabel, ModelSpec};

/// The metrics a model type reports, in the order `ml_evaluate` shows them.
pub fn metric_names(spec: &ModelSpec) -> Vec<&'static str> {
    match (spec.model_type.is_classifier(), spec.classes.len()) {
        (false, _) => vec!["rmse", "mae", "r2"],
        (true, 2) => vec![
            "accuracy",
            "precision",
            "recall",
            "f1",
            "roc_auc",
            "log_loss",
            "ks",
            "gini",
        ],
        (true, _) => vec!["accuracy", "precision", "recall", "f1"],
    }
}

fn class_literal(class: &ClassLabel) -> Expr {
    match class {
        ClassLabel::Boolean(b) => lit(*b),
        ClassLabel::Integer(i) => lit(*i),
        ClassLabel::Text(s) => lit(s.clone()),
    }
}

fn aggregate(ctx: &(dyn FunctionRegistry + Sync), name: &str, args: Vec<Expr>) -> Result<Expr> {
    let udaf: std::sync::Arc<AggregateUDF> = ctx.udaf(name)?;
    Ok(udaf.call(args))
}

/// Computes the metrics over `frame`, whose columns are `label`, `predicted` and, for binary
/// classifiers, `probability` (of the positive class, `classes[1]`). Multiclass precision,
/// recall and F1 are macro averages over the classes, as scikit-learn's `average='macro'`.
pub async fn evaluate(
    ctx: &(dyn FunctionRegistry + Sync),
    spec: &ModelSpec,
    frame: DataFrame,
) -> Result<BTreeMap<String, f64>> {
    let label = || col("label");
    let predicted = || col("predicted");
    let outcome = || vec![predicted(), label()];
    // (metric name, quiver-udfs aggregate, arguments); a `#i` suffix marks one class's share
    // of a macro average.
    let mut calls: Vec<(String, &str, Vec<Expr>)> = Vec::new();
    if !spec.model_type.is_classifier() {
        for (name, function) in [("rmse", "rmse"), ("mae", "mae"), ("r2", "r2_score")] {
            calls.push((name.into(), function, outcome()));
        }
    } else {
        calls.push(("accuracy".into(), "accuracy", outcome()));
        let per_class = [
            ("precision", "precision_score"),
            ("recall", "recall_score"),
            ("f1", "f1_score"),
        ];
        // Binary metrics are about the positive class, classes[1]; multiclass ones average all.
        let classes: Vec<(usize, &ClassLabel)> = if spec.classes.len() == 2 {
            vec![(0, &spec.classes[1])]
        } else {
            spec.classes.iter().enumerate().collect()
        };
        for (name, function) in per_class {
            for (i, class) in &classes {
                let mut args = outcome();
                args.push(class_literal(class));
                calls.push((format!("{name}#{i}"), function, args));
            }
        }
        if spec.classes.len() == 2 {
            let is_positive = label().eq(class_literal(&spec.classes[1]));
            for (name, function) in [
                ("roc_auc", "roc_auc"),
                ("log_loss", "log_loss"),
                ("ks", "ks_score"),
                ("gini", "gini"),
            ] {
                calls.push((
                    name.into(),
                    function,
                    vec![col("probability"), is_positive.clone()],
                ));
            }
        }
    }
    let exprs: Vec<(String, Expr)> = calls
        .into_iter()
        .map(|(name, function, args)| Ok((name, aggregate(ctx, function, args)?)))
        .collect::<Result<_>>()?;
    let aliased: Vec<Expr> = exprs
        .iter()
        .enumerate()
        .map(|(i, (_, e))| e.clone().alias(format!("m{i}")))
        .collect();
    let batches = frame.aggregate(vec![], aliased)?.collect().await?;
    let batch = batches
        .first()
        .ok_or_else(|| DataFusionError::Internal("an aggregate returned no row".into()))?;
    let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for (i, (name, _)) in exprs.iter().enumerate() {
        let value = cast(batch.column(i), &DataType::Float64)?;
        let value = value.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        if value.is_null(0) {
            continue;
        }
        let key = name.split('#').next().unwrap_or(name).to_string();
        let entry = sums.entry(key).or_insert((0.0, 0));
        entry.0 += value.value(0);
        entry.1 += 1;
    }
    Ok(sums
        .into_iter()
        .map(|(name, (sum, n))| (name, sum / n as f64))
        .collect())
}
