//! `chi2_2samp(category, is_reference)`: chi-square test of a 2×k contingency table.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};
use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::common::arguments::{
    binary_label, category, check_arity, coerce_argument, numeric_or_category,
};
use crate::common::categories::{CategoryCounts, CategoryStatistic};
use crate::common::two_sample::TwoSampleAggregate;
use crate::common::{struct_type, struct_value};
use crate::drift::DRIFT_SECTION;

const NAME: &str = "chi2_2samp";
const SIGNATURE: &str = "chi2_2samp(category text|integer|boolean, is_reference boolean|0/1)";

fn return_type() -> DataType {
    struct_type(&[
        ("statistic", DataType::Float64),
        ("pvalue", DataType::Float64),
        ("dof", DataType::Int64),
    ])
}

/// Pearson's χ² of a table of observed counts (rows × columns) with `scipy.stats.chi2_contingency`
/// defaults: Yates' continuity correction when there is exactly one degree of freedom.
/// Returns (statistic, p-value, degrees of freedom); `None` when a row or column is empty.
pub(crate) fn chi2_contingency(table: &[Vec<f64>], yates: bool) -> Option<(f64, f64, u64)> {
    let rows = table.len();
    let columns = table.first()?.len();
    let row_sums: Vec<f64> = table.iter().map(|row| row.iter().sum()).collect();
    let column_sums: Vec<f64> = (0..columns)
        .map(|column| table.iter().map(|row| row[column]).sum())
        .collect();
    let total: f64 = row_sums.iter().sum();
    if row_sums.contains(&0.0) || column_sums.contains(&0.0) {
        return None;
    }
    let dof = (rows.saturating_sub(1) * columns.saturating_sub(1)) as u64;
    if dof == 0 {
        return Some((0.0, 1.0, 0));
    }
    let mut statistic = 0.0;
    for (row, row_sum) in table.iter().zip(&row_sums) {
        for (&observed, column_sum) in row.iter().zip(&column_sums) {
            let expected = row_sum * column_sum / total;
            let difference = if yates && dof == 1 {
                (expected - observed).abs().min(0.5) * (expected - observed).signum()
                    + (observed - expected)
            } else {
                observed - expected
            };
            statistic += difference * difference / expected;
        }
    }
    let pvalue = ChiSquared::new(dof as f64).ok()?.sf(statistic);
    Some((statistic, pvalue, dof))
}

#[derive(Debug)]
struct ChiSquareTwoSample;

impl CategoryStatistic for ChiSquareTwoSample {
    fn evaluate(&self, counts: &CategoryCounts) -> Result<ScalarValue> {
        let return_type = return_type();
        let categories = counts.sorted();
        let table = vec![
            categories.iter().map(|(_, [r, _])| *r as f64).collect(),
            categories.iter().map(|(_, [_, c])| *c as f64).collect(),
        ];
        let values = chi2_contingency(&table, true).map(|(statistic, pvalue, dof)| {
            vec![
                ScalarValue::Float64(Some(statistic)),
                ScalarValue::Float64(Some(pvalue)),
                ScalarValue::Int64(Some(dof as i64)),
            ]
        });
        struct_value(&return_type, values)
    }
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    check_arity(NAME, SIGNATURE, arg_types, 2..=2)?;
    Ok(vec![
        // Numbers are categories here: compare them by their text.
        coerce_argument(NAME, SIGNATURE, arg_types, 0, |data_type| {
            numeric_or_category(data_type).map(|_| category(data_type))
        })?,
        coerce_argument(NAME, SIGNATURE, arg_types, 1, binary_label)?,
    ])
}

fn categorical(_args: &AccumulatorArgs) -> Result<Arc<dyn CategoryStatistic>> {
    Ok(Arc::new(ChiSquareTwoSample))
}

fn documentation() -> Documentation {
    Documentation::builder(
        DRIFT_SECTION,
        "Chi-square test of homogeneity of a categorical column between the reference and \
         current samples: Pearson's statistic of the 2×k table (reference/current × the k \
         categories seen in either), as scipy.stats.chi2_contingency with its defaults. With \
         k = 2 (one degree of freedom) that includes Yates' continuity correction, exactly as \
         scipy; with k > 2 there is no correction. Returns {statistic, pvalue, dof}; a single \
         category gives statistic 0, pvalue 1, dof 0. NULLs are ignored; an empty sample gives \
         NULL.",
        "chi2_2samp(category, is_reference)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT chi2_2samp(plan, month = '2026-10')['pvalue'] FROM subscriptions;\n\
         ```",
    )
    .with_argument("category", "text, integer or boolean expression")
    .with_argument("is_reference", "true for rows of the reference sample")
    .build()
}

/// The `chi2_2samp` aggregate.
pub fn chi2_2samp_udaf() -> AggregateUDF {
    TwoSampleAggregate {
        name: NAME,
        parameters: &["category", "is_reference"],
        return_type: return_type(),
        coerce,
        numeric: None,
        categorical: Some(categorical),
        documentation: documentation(),
    }
    .into_udaf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_by_two_applies_yates() {
        // [[10, 20], [30, 40]]: expected [[12, 18], [28, 42]], |O − E| = 2 → 1.5 after the
        // correction: 2.25·(1/12 + 1/18 + 1/28 + 1/42), scipy's 0.4464285714285714
        let (statistic, _, dof) =
            chi2_contingency(&[vec![10.0, 20.0], vec![30.0, 40.0]], true).expect("defined");
        let expected = 2.25 * (1.0 / 12.0 + 1.0 / 18.0 + 1.0 / 28.0 + 1.0 / 42.0);
        assert!((statistic - expected).abs() < 1e-12);
        assert_eq!(dof, 1);
    }

    #[test]
    fn single_category_has_no_degrees_of_freedom() {
        assert_eq!(
            chi2_contingency(&[vec![3.0], vec![4.0]], true),
            Some((0.0, 1.0, 0))
        );
    }
}
