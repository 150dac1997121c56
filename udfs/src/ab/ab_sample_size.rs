//! `ab_sample_size(p1, lift, alpha, power)`: units per arm to detect a conversion-rate lift.

use std::hash::{Hash, Hasher};

use datafusion::arrow::array::{Array, AsArray, Int64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::ab::AB_SECTION;
use crate::common::arguments::{check_arity, coerce_argument, float};
use crate::error::invalid_argument;

const NAME: &str = "ab_sample_size";
const SIGNATURE: &str = "ab_sample_size(p1 double, lift double, alpha double, power double)";

/// n = ⌈(z₁₋α/₂·√(2·p̄(1−p̄)) + z_power·√(p₁(1−p₁) + p₂(1−p₂)))² / (p₂ − p₁)²⌉ with
/// p₂ = p₁·(1 + lift), p̄ = (p₁ + p₂)/2: the classic two-sided test of two proportions (pooled
/// variance under the null, unpooled under the alternative; Fleiss, Levin & Paik, ch. 4).
fn sample_size(p1: f64, lift: f64, alpha: f64, power: f64) -> Result<i64> {
    let open_unit = |value: f64| value > 0.0 && value < 1.0;
    let p2 = p1 * (1.0 + lift);
    if !open_unit(p1) {
        return Err(invalid_argument(
            NAME,
            format!("p1 must lie in (0, 1), got {p1}"),
        ));
    }
    if !lift.is_finite() || lift == 0.0 || !open_unit(p2) {
        return Err(invalid_argument(
            NAME,
            format!("lift must be non-zero with p1·(1 + lift) in (0, 1), got {lift}"),
        ));
    }
    if !open_unit(alpha) {
        return Err(invalid_argument(
            NAME,
            format!("alpha must lie in (0, 1), got {alpha}"),
        ));
    }
    if !open_unit(power) {
        return Err(invalid_argument(
            NAME,
            format!("power must lie in (0, 1), got {power}"),
        ));
    }
    let normal = Normal::standard();
    let z_alpha = normal.inverse_cdf(1.0 - alpha / 2.0);
    let z_power = normal.inverse_cdf(power);
    let pooled = (p1 + p2) / 2.0;
    let spread = z_alpha * (2.0 * pooled * (1.0 - pooled)).sqrt()
        + z_power * (p1 * (1.0 - p1) + p2 * (1.0 - p2)).sqrt();
    Ok((spread * spread / ((p2 - p1) * (p2 - p1))).ceil() as i64)
}

#[derive(Debug)]
struct AbSampleSize {
    signature: Signature,
    documentation: Documentation,
}

impl PartialEq for AbSampleSize {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for AbSampleSize {}

impl Hash for AbSampleSize {
    fn hash<H: Hasher>(&self, state: &mut H) {
        NAME.hash(state);
    }
}

impl ScalarUDFImpl for AbSampleSize {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(NAME, SIGNATURE, arg_types, 4..=4)?;
        (0..4)
            .map(|index| coerce_argument(NAME, SIGNATURE, arg_types, index, float))
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let columns: Vec<_> = arrays
            .iter()
            .map(|array| array.as_primitive::<Float64Type>())
            .collect();
        let sizes = (0..args.number_rows)
            .map(|row| {
                if columns.iter().any(|column| column.is_null(row)) {
                    return Ok(None);
                }
                let value = |index: usize| columns[index].value(row);
                sample_size(value(0), value(1), value(2), value(3)).map(Some)
            })
            .collect::<Result<Int64Array>>()?;
        Ok(ColumnarValue::Array(std::sync::Arc::new(sizes)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }
}

/// The `ab_sample_size` scalar function.
pub fn ab_sample_size_udf() -> ScalarUDF {
    let documentation = Documentation::builder(
        AB_SECTION,
        "Units needed in each arm of an A/B test to detect a relative lift of a conversion rate \
         with a two-sided test at significance alpha and the given power: \
         ⌈(z₁₋α/₂·√(2·p̄(1−p̄)) + z_power·√(p₁(1−p₁) + p₂(1−p₂)))² / (p₂ − p₁)²⌉ with \
         p₂ = p₁·(1 + lift) and p̄ = (p₁ + p₂)/2 (Fleiss, Levin & Paik, ch. 4). Arguments out \
         of range are errors; NULL arguments give NULL.",
        "ab_sample_size(p1, lift, alpha, power)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT ab_sample_size(0.10, 0.10, 0.05, 0.8);  -- 14751 per arm\n\
         ```",
    )
    .with_argument("p1", "baseline conversion rate, in (0, 1)")
    .with_argument("lift", "relative change to detect: 0.1 means p2 = 1.1·p1")
    .with_argument(
        "alpha",
        "significance level of the two-sided test, e.g. 0.05",
    )
    .with_argument("power", "probability of detecting the lift, e.g. 0.8")
    .build();
    ScalarUDF::new_from_impl(AbSampleSize {
        signature: Signature::user_defined(Volatility::Immutable)
            .with_parameter_names(vec!["p1", "lift", "alpha", "power"])
            .expect("parameter names are distinct constants"),
        documentation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_example() {
        // statsmodels / online calculators: 10% baseline, +10% relative, α 0.05, power 0.8
        assert_eq!(sample_size(0.10, 0.10, 0.05, 0.8).expect("valid"), 14751);
    }

    #[test]
    fn rejects_impossible_rates() {
        assert!(sample_size(0.9, 0.2, 0.05, 0.8).is_err());
        assert!(sample_size(0.1, 0.0, 0.05, 0.8).is_err());
        assert!(sample_size(0.1, 0.1, 1.5, 0.8).is_err());
    }
}
