//! `ASOF JOIN`: for each left row, the right row with equal keys and the nearest time on one
//! side of it. SQL text spelled the Snowflake way (`ASOF JOIN r MATCH_CONDITION (l.t >= r.t) ON
//! ...`) or the DuckDB way (`ASOF [LEFT] JOIN r ON ... AND l.t >= r.t`) is rewritten by
//! [`sql`] into a LEFT JOIN carrying a marker; [`logical::AsofJoinRule`] turns that join into an
//! [`logical::AsofJoin`] node, which [`exec::AsofJoinExec`] runs.

pub mod exec;
pub mod index;
pub mod logical;
pub mod sql;

use datafusion::logical_expr::Operator;

/// How the left time must compare with the right time: `left {op} right`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AsofOp {
    Ge,
    Gt,
    Le,
    Lt,
}

impl AsofOp {
    pub fn from_operator(op: Operator) -> Option<Self> {
        Some(match op {
            Operator::GtEq => Self::Ge,
            Operator::Gt => Self::Gt,
            Operator::LtEq => Self::Le,
            Operator::Lt => Self::Lt,
            _ => return None,
        })
    }

    /// The same condition with its sides swapped (`a >= b` is `b <= a`).
    pub fn flipped(self) -> Self {
        match self {
            Self::Ge => Self::Le,
            Self::Gt => Self::Lt,
            Self::Le => Self::Ge,
            Self::Lt => Self::Gt,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Self::Ge => ">=",
            Self::Gt => ">",
            Self::Le => "<=",
            Self::Lt => "<",
        }
    }
}
