//! The logical side of an ASOF join: the [`AsofJoin`] plan node, the marker function the SQL
//! rewrite leaves in a LEFT JOIN's condition, and the analyzer rule that finds such joins.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{DFSchema, DFSchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::logical_plan::builder::build_join_schema;
use datafusion::logical_expr::utils::split_conjunction_owned;
use datafusion::logical_expr::{
    BinaryExpr, ColumnarValue, Expr, ExprSchemable, Extension, Join, JoinType, LogicalPlan,
    Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, UserDefinedLogicalNodeCore,
    Volatility,
};
use datafusion::optimizer::AnalyzerRule;

use super::AsofOp;
use super::index::MatchRule;
use crate::error::{SqlError, sqlstate};
use crate::features::time_order::TimeDomain;

/// The function the SQL rewrite wraps an ASOF match condition in.
pub const MARKER: &str = "__quiver_asof_match";

/// Marks the match condition of an ASOF join inside a LEFT JOIN's ON clause. It is never run:
/// [`AsofJoinRule`] removes it, and a plan that still holds it is refused when it runs.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct AsofMatchMarker {
    signature: Signature,
}

impl AsofMatchMarker {
    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(Self {
            signature: Signature::exact(vec![DataType::Boolean], Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for AsofMatchMarker {
    fn name(&self) -> &str {
        MARKER
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Err(SqlError::new(
            sqlstate::FEATURE_NOT_SUPPORTED,
            "an ASOF match condition can only be used in the ON clause of an ASOF JOIN",
        )
        .into_datafusion())
    }
}

/// For each left row, the right row with equal `on` keys whose time is nearest to the left
/// time on the side `rule.op` names; right columns are NULL where there is none.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AsofJoin {
    pub left: LogicalPlan,
    pub right: LogicalPlan,
    pub on: Vec<(Expr, Expr)>,
    pub left_time: Expr,
    pub right_time: Expr,
    pub rule: MatchRule,
    /// When set, a right row is visible only to left times at or after this column's value.
    pub right_created: Option<Expr>,
    schema: DFSchemaRef,
}

fn plan_error(message: impl Into<String>) -> DataFusionError {
    SqlError::new(sqlstate::SYNTAX_ERROR, message).into_datafusion()
}

impl AsofJoin {
    pub fn try_new(
        left: LogicalPlan,
        right: LogicalPlan,
        on: Vec<(Expr, Expr)>,
        (left_time, right_time): (Expr, Expr),
        rule: MatchRule,
        right_created: Option<Expr>,
    ) -> Result<Self> {
        let domain = TimeDomain::common(
            &left_time.get_type(left.schema())?,
            &right_time.get_type(right.schema())?,
        )?;
        if rule.ttl.is_some() && domain != TimeDomain::Instant {
            return Err(plan_error("a TTL applies only to timestamp times"));
        }
        if let Some(created) = &right_created
            && TimeDomain::of(&created.get_type(right.schema())?)? != TimeDomain::Instant
        {
            return Err(SqlError::new(
                sqlstate::DATATYPE_MISMATCH,
                format!("the created column {created} must be a timestamp"),
            )
            .into_datafusion());
        }
        let schema = Arc::new(build_join_schema(
            left.schema(),
            right.schema(),
            &JoinType::Left,
        )?);
        Ok(Self {
            left,
            right,
            on,
            left_time,
            right_time,
            rule,
            right_created,
            schema,
        })
    }

    pub fn into_plan(self) -> LogicalPlan {
        LogicalPlan::Extension(Extension {
            node: Arc::new(self),
        })
    }
}

impl PartialOrd for AsofJoin {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (
            &self.on,
            &self.left_time,
            &self.right_time,
            &self.rule,
            &self.right_created,
        )
            .partial_cmp(&(
                &other.on,
                &other.left_time,
                &other.right_time,
                &other.rule,
                &other.right_created,
            ))
            .filter(|ordering| *ordering != Ordering::Equal || self == other)
    }
}

impl UserDefinedLogicalNodeCore for AsofJoin {
    fn name(&self) -> &str {
        "AsofJoin"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.left, &self.right]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        let mut exprs: Vec<Expr> = self.on.iter().map(|(l, _)| l.clone()).collect();
        exprs.extend(self.on.iter().map(|(_, r)| r.clone()));
        exprs.push(self.left_time.clone());
        exprs.push(self.right_time.clone());
        exprs.extend(self.right_created.clone());
        exprs
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let on: Vec<String> = self.on.iter().map(|(l, r)| format!("{l} = {r}")).collect();
        write!(
            f,
            "AsofJoin: on=[{}], match={} {} {}",
            on.join(", "),
            self.left_time,
            self.rule.op.symbol(),
            self.right_time
        )?;
        if let Some(ttl) = self.rule.ttl {
            write!(f, ", ttl={ttl}ns")?;
        }
        if let Some(created) = &self.right_created {
            write!(f, ", created={created}")?;
        }
        Ok(())
    }

    fn with_exprs_and_inputs(&self, exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        let [left, right]: [LogicalPlan; 2] = inputs
            .try_into()
            .map_err(|_| DataFusionError::Internal("AsofJoin takes two inputs".into()))?;
        let keys = self.on.len();
        let expected = 2 * keys + 2 + usize::from(self.right_created.is_some());
        if exprs.len() != expected {
            return Err(DataFusionError::Internal(format!(
                "AsofJoin takes {expected} expressions, got {}",
                exprs.len()
            )));
        }
        let mut exprs = exprs.into_iter();
        let lefts: Vec<Expr> = exprs.by_ref().take(keys).collect();
        let rights: Vec<Expr> = exprs.by_ref().take(keys).collect();
        let times = (
            exprs.next().unwrap_or_else(|| self.left_time.clone()),
            exprs.next().unwrap_or_else(|| self.right_time.clone()),
        );
        Self::try_new(
            left,
            right,
            lefts.into_iter().zip(rights).collect(),
            times,
            self.rule,
            exprs.next(),
        )
    }
}

/// Turns each LEFT JOIN whose condition holds the ASOF marker into an [`AsofJoin`]. It runs
/// after type coercion, so both sides of every comparison already have one type.
#[derive(Debug, Default)]
pub struct AsofJoinRule;

impl AnalyzerRule for AsofJoinRule {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| match plan {
            LogicalPlan::Join(join) if holds_marker(&join) => {
                Ok(Transformed::yes(asof_from_join(join)?.into_plan()))
            }
            plan => Ok(Transformed::no(plan)),
        })
        .data()
    }

    fn name(&self) -> &str {
        "quiver_asof_join"
    }
}

fn marker_argument(expr: &Expr) -> Option<&Expr> {
    match expr {
        Expr::ScalarFunction(ScalarFunction { func, args }) if func.name() == MARKER => {
            args.first()
        }
        _ => None,
    }
}

fn holds_marker(join: &Join) -> bool {
    join.filter.as_ref().is_some_and(|filter| {
        filter
            .exists(|e| Ok(marker_argument(e).is_some()))
            .unwrap_or(false)
    })
}

/// Which input `expr` reads from: `Some(true)` for the left alone, `Some(false)` for the
/// right alone, `None` for both or neither.
fn side_of(expr: &Expr, left: &DFSchema, right: &DFSchema) -> Option<bool> {
    let columns = expr.column_refs();
    if columns.is_empty() {
        return None;
    }
    if columns.iter().all(|c| left.has_column(c)) {
        Some(true)
    } else if columns.iter().all(|c| right.has_column(c)) {
        Some(false)
    } else {
        None
    }
}

fn asof_from_join(join: Join) -> Result<AsofJoin> {
    let left_schema = Arc::clone(join.left.schema());
    let right_schema = Arc::clone(join.right.schema());
    let mut on = join.on;
    let mut time = None;
    for conjunct in join.filter.map(split_conjunction_owned).unwrap_or_default() {
        if let Some(condition) = marker_argument(&conjunct) {
            if time.is_some() {
                return Err(plan_error("an ASOF JOIN takes exactly one match condition"));
            }
            time = Some(match_condition(condition, &left_schema, &right_schema)?);
            continue;
        }
        match &conjunct {
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::Eq,
                right,
            }) => match (
                side_of(left, &left_schema, &right_schema),
                side_of(right, &left_schema, &right_schema),
            ) {
                (Some(true), Some(false)) => on.push((*left.clone(), *right.clone())),
                (Some(false), Some(true)) => on.push((*right.clone(), *left.clone())),
                _ => return Err(only_equalities(&conjunct)),
            },
            _ => return Err(only_equalities(&conjunct)),
        }
    }
    let Some((left_time, op, right_time)) = time else {
        return Err(plan_error("an ASOF JOIN needs a match condition"));
    };
    AsofJoin::try_new(
        Arc::unwrap_or_clone(join.left),
        Arc::unwrap_or_clone(join.right),
        on,
        (left_time, right_time),
        MatchRule { op, ttl: None },
        None,
    )
}

fn only_equalities(conjunct: &Expr) -> DataFusionError {
    plan_error(format!(
        "the ON clause of an ASOF JOIN holds only equalities between the two tables' columns \
         (and, in DuckDB's spelling, the one time comparison); found {conjunct}"
    ))
}

/// Splits `left_expr {op} right_expr` into its sides, whichever way round it was written.
fn match_condition(
    condition: &Expr,
    left: &DFSchema,
    right: &DFSchema,
) -> Result<(Expr, AsofOp, Expr)> {
    let invalid = || {
        plan_error(format!(
            "an ASOF match condition is one comparison (>=, >, <=, <) of a time or number of \
             each table, such as l.label_ts >= f.event_ts; found {condition}"
        ))
    };
    let Expr::BinaryExpr(BinaryExpr {
        left: a,
        op,
        right: b,
    }) = condition
    else {
        return Err(invalid());
    };
    let op = AsofOp::from_operator(*op).ok_or_else(invalid)?;
    match (side_of(a, left, right), side_of(b, left, right)) {
        (Some(true), Some(false)) => Ok((*a.clone(), op, *b.clone())),
        (Some(false), Some(true)) => Ok((*b.clone(), op.flipped(), *a.clone())),
        _ => Err(invalid()),
    }
}
