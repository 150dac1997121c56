//! Errors a caller can act on, tagged with the SQLSTATE a Postgres client expects.

use std::fmt;

use datafusion::error::DataFusionError;

/// SQLSTATE 22023: an argument value the function cannot work with (NaN, infinity, bins < 2, ...).
pub const INVALID_PARAMETER_VALUE: &str = "22023";

/// An error raised by one of this crate's functions. Hosts that speak SQLSTATEs (Quiver's server)
/// find it inside `DataFusionError::External` and report `sqlstate`; plain DataFusion programs see
/// the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdfError {
    pub sqlstate: &'static str,
    pub message: String,
}

impl fmt::Display for UdfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UdfError {}

/// An invalid argument value, reported as `function: message`.
pub fn invalid_argument(function: &str, message: impl fmt::Display) -> DataFusionError {
    DataFusionError::External(Box::new(UdfError {
        sqlstate: INVALID_PARAMETER_VALUE,
        message: format!("{function}: {message}"),
    }))
}

/// Statistics are undefined on NaN and infinities, so they are refused rather than propagated.
pub fn non_finite(function: &str, value: f64) -> DataFusionError {
    invalid_argument(
        function,
        format!("input contains {value}; filter it out (WHERE isfinite(x)) or replace it first"),
    )
}
