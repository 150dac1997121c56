//! `welch_ttest(value, is_treatment)`: Welch's unequal-variances t-test.

use std::marker::PhantomData;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::ab::AB_SECTION;
use crate::common::arguments::{coerce_value_and_flag, float_column};
use crate::common::pairs::{
    PairAggregate, PairKernel, indicator_column, moments, moments_merge, moments_update,
};
use crate::common::samples::binary_flags;
use crate::common::{struct_type, struct_value};
use crate::error::non_finite;

const NAME: &str = "welch_ttest";
const SIGNATURE: &str = "welch_ttest(value numeric, is_treatment boolean|0/1)";
const CONFIDENCE: f64 = 0.95;

fn return_type() -> DataType {
    struct_type(&[
        ("statistic", DataType::Float64),
        ("pvalue", DataType::Float64),
        ("mean_diff", DataType::Float64),
        ("ci_low", DataType::Float64),
        ("ci_high", DataType::Float64),
    ])
}

/// Welch's test of treatment − control from each arm's (count, shift, mean − shift, m2):
/// (t, two-sided p, mean difference, 95% CI low, high), `None` with fewer than two values in an
/// arm or no variance at all.
fn welch(treatment: (f64, f64, f64, f64), control: (f64, f64, f64, f64)) -> Option<[f64; 5]> {
    let ((n1, shift1, centred1, m2_1), (n2, shift2, centred2, m2_2)) = (treatment, control);
    if n1 < 2.0 || n2 < 2.0 {
        return None;
    }
    let (share1, share2) = (m2_1 / (n1 - 1.0) / n1, m2_2 / (n2 - 1.0) / n2);
    let standard_error = (share1 + share2).sqrt();
    if standard_error == 0.0 {
        return None;
    }
    let dof =
        (share1 + share2).powi(2) / (share1 * share1 / (n1 - 1.0) + share2 * share2 / (n2 - 1.0));
    // The shifts are data values, usually close: their difference is exact.
    let difference = (shift1 - shift2) + (centred1 - centred2);
    let t = difference / standard_error;
    let distribution = StudentsT::new(0.0, 1.0, dof).ok()?;
    let pvalue = (2.0 * distribution.sf(t.abs())).min(1.0);
    let critical = distribution.inverse_cdf(0.5 + CONFIDENCE / 2.0);
    Some([
        t,
        pvalue,
        difference,
        difference - critical * standard_error,
        difference + critical * standard_error,
    ])
}

#[derive(Debug)]
struct WelchTTest;

impl PairKernel for WelchTTest {
    const STATE: &'static [&'static str] = &[
        "treatment_count",
        "treatment_shift",
        "treatment_deviations",
        "treatment_squared_deviations",
        "control_count",
        "control_shift",
        "control_deviations",
        "control_squared_deviations",
    ];

    fn from_arguments(_args: &AccumulatorArgs) -> Result<Self> {
        Ok(Self)
    }

    fn columns(&self, args: &[ArrayRef]) -> Result<(Float64Array, Float64Array)> {
        Ok((
            float_column(NAME, &args[0])?.clone(),
            indicator_column(&binary_flags(NAME, &args[1])?),
        ))
    }

    fn update(&self, state: &mut [f64], value: f64, is_treatment: f64) -> Result<()> {
        if !value.is_finite() {
            return Err(non_finite(NAME, value));
        }
        let arm = if is_treatment == 1.0 { 0 } else { 4 };
        moments_update(state, arm, value);
        Ok(())
    }

    fn merge(&self, state: &mut [f64], other: &[f64]) {
        moments_merge(state, other, 0);
        moments_merge(state, other, 4);
    }

    fn evaluate(&self, state: &[f64]) -> Result<ScalarValue> {
        let result = welch(moments(state, 0), moments(state, 4));
        struct_value(
            &return_type(),
            result.map(|values| {
                values
                    .into_iter()
                    .map(|value| ScalarValue::Float64(Some(value)))
                    .collect()
            }),
        )
    }
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    coerce_value_and_flag(NAME, SIGNATURE, arg_types)
}

fn documentation() -> Documentation {
    Documentation::builder(
        AB_SECTION,
        "Welch's two-sample t-test of the treatment mean against the control mean (unequal \
         variances), as scipy.stats.ttest_ind(treatment, control, equal_var=False): a struct \
         {statistic, pvalue (two-sided), mean_diff (treatment − control), ci_low, ci_high (95% \
         confidence interval of mean_diff with Welch–Satterthwaite degrees of freedom)}. Means \
         and variances are accumulated around a value of the data, so large offsets keep \
         their precision. NULL when an arm has fewer than \
         two values or both arms are constant. NULLs are ignored; NaN and infinities are errors.",
        "welch_ttest(value, is_treatment)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT welch_ttest(revenue, variant = 'B')['pvalue'] FROM experiment_users;\n\
         ```",
    )
    .with_argument("value", "numeric metric per unit (user, session)")
    .with_argument("is_treatment", "true for rows of the treatment arm")
    .build()
}

/// The `welch_ttest` aggregate.
pub fn welch_ttest_udaf() -> AggregateUDF {
    PairAggregate::<WelchTTest> {
        name: NAME,
        parameters: &["value", "is_treatment"],
        return_type: return_type(),
        coerce,
        documentation: documentation(),
        kernel: PhantomData,
    }
    .into_udaf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_arms_have_no_difference() {
        // both arms [1, 2, 3]: shift 1, mean − shift 1, m2 2
        let arm = (3.0, 1.0, 1.0, 2.0);
        let [t, p, difference, low, high] = welch(arm, arm).expect("defined");
        assert_eq!((t, p, difference), (0.0, 1.0, 0.0));
        assert!(low < 0.0 && high > 0.0 && (low + high).abs() < 1e-12);
    }

    #[test]
    fn needs_two_values_per_arm() {
        assert_eq!(welch((1.0, 5.0, 0.0, 0.0), (3.0, 1.0, 1.0, 2.0)), None);
    }
}
