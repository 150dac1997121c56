//! A feature view's definition, and the file that keeps every definition across restarts.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use datafusion::arrow::compute::kernels::cast_utils::parse_interval_month_day_nano;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::error::{DataFusionError, Result};

use super::statement::ViewSource;
use super::time_order::TimeDomain;
use crate::error::{SqlError, sqlstate};

/// How long a feature row stays valid after its timestamp.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ttl {
    /// As the user wrote it, e.g. `30 days`.
    pub text: String,
    pub nanos: i64,
}

impl Ttl {
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |why: &str| {
            SqlError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!("TTL '{text}' {why}; write it like TTL INTERVAL '30 days' or '12 hours'"),
            )
            .into_datafusion()
        };
        let interval =
            parse_interval_month_day_nano(text).map_err(|_| invalid("is not an interval"))?;
        if interval.months != 0 {
            return Err(invalid(
                "counts months, whose length varies; use days, hours, minutes or seconds",
            ));
        }
        let nanos = i64::from(interval.days)
            .checked_mul(86_400_000_000_000)
            .and_then(|days| days.checked_add(interval.nanoseconds))
            .ok_or_else(|| invalid("is too long"))?;
        if nanos <= 0 {
            return Err(invalid("is not positive"));
        }
        Ok(Self {
            text: text.to_string(),
            nanos,
        })
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeatureView {
    pub name: String,
    pub entity: Vec<String>,
    pub timestamp: String,
    pub created: Option<String>,
    pub ttl: Option<Ttl>,
    pub source: ViewSource,
    pub owner: String,
    pub created_at: DateTime<Utc>,
    pub refreshed_at: DateTime<Utc>,
}

/// Whether a column of this type holds instants (a view's times, a label time).
pub fn is_instant(data_type: &DataType) -> bool {
    matches!(TimeDomain::of(data_type), Ok(TimeDomain::Instant))
}

/// The label time of a label query: its first timestamp (or date) column.
pub fn label_time_column(function: &str, schema: &Schema) -> Result<String> {
    schema
        .fields()
        .iter()
        .find(|f| is_instant(f.data_type()))
        .map(|f| f.name().clone())
        .ok_or_else(|| {
            SqlError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!("{function}: the label query needs a timestamp column (the label time)"),
            )
            .into_datafusion()
        })
}

impl FeatureView {
    /// The SQL that produces the view's rows.
    pub fn query(&self) -> String {
        match &self.source {
            ViewSource::Query(query) => query.clone(),
            ViewSource::Table(table) => format!("SELECT * FROM \"{}\"", table.replace('"', "\"\"")),
        }
    }

    /// Checks that the rows the query produces have the view's entity and time columns.
    pub fn check_schema(&self, schema: &Schema) -> Result<()> {
        let column = |name: &str, role: &str| {
            schema.field_with_name(name).map_err(|_| {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                SqlError::new(
                    sqlstate::UNDEFINED_COLUMN,
                    format!(
                        "feature view {}: its query has no {role} column \"{name}\" (it has {})",
                        self.name,
                        names.join(", ")
                    ),
                )
                .into_datafusion()
            })
        };
        for key in &self.entity {
            column(key, "entity")?;
        }
        for (name, role) in [
            (Some(&self.timestamp), "TIMESTAMP"),
            (self.created.as_ref(), "CREATED"),
        ] {
            let Some(name) = name else { continue };
            let field = column(name, role)?;
            if !is_instant(field.data_type()) {
                return Err(SqlError::new(
                    sqlstate::DATATYPE_MISMATCH,
                    format!(
                        "feature view {}: the {role} column \"{name}\" is {}, not a timestamp or date",
                        self.name,
                        field.data_type()
                    ),
                )
                .into_datafusion());
            }
        }
        Ok(())
    }

    /// The view's feature columns: everything but the entity, time and created columns.
    pub fn features<'a>(&self, schema: &'a Schema) -> Vec<&'a str> {
        schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .filter(|name| {
                !self.entity.iter().any(|k| k == name)
                    && *name != self.timestamp
                    && self.created.as_deref() != Some(*name)
            })
            .collect()
    }
}

/// The definitions, as one JSON file replaced atomically on every change.
pub struct ViewFile {
    path: PathBuf,
}

impl ViewFile {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join("features").join("views.json"),
        }
    }

    pub fn load(&self) -> Result<Vec<FeatureView>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                SqlError::new(
                    sqlstate::DATA_CORRUPTED,
                    format!("{} is damaged: {e}", self.path.display()),
                )
                .into_datafusion()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(vec![]),
            Err(e) => Err(DataFusionError::IoError(e)),
        }
    }

    pub fn save(&self, views: &[FeatureView]) -> Result<()> {
        let text = serde_json::to_string_pretty(views)
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let staging = self.path.with_extension("json.tmp");
        std::fs::write(&staging, text)?;
        std::fs::rename(&staging, &self.path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_is_a_fixed_length_interval() {
        assert_eq!(
            Ttl::parse("30 days").unwrap().nanos,
            30 * 86_400_000_000_000
        );
        assert_eq!(
            Ttl::parse("1 hour 30 minutes").unwrap().nanos,
            5_400_000_000_000
        );
        for bad in ["1 month", "soon", "0 days", "-2 hours"] {
            let err = Ttl::parse(bad).unwrap_err();
            assert!(err.to_string().contains("TTL"), "{bad}: {err}");
        }
    }
}
