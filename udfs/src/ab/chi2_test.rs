//! `chi2_test(converted, is_treatment)`: chi-square test of conversion rates.

use std::marker::PhantomData;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, Documentation};

use crate::ab::AB_SECTION;
use crate::common::arguments::{binary_label, check_arity, coerce_argument};
use crate::common::pairs::{PairAggregate, PairKernel, add_states, indicator_column};
use crate::common::samples::binary_flags;
use crate::common::{struct_type, struct_value};
use crate::drift::chi2_2samp::chi2_contingency;

const NAME: &str = "chi2_test";
const SIGNATURE: &str = "chi2_test(converted boolean|0/1, is_treatment boolean|0/1)";

fn return_type() -> DataType {
    struct_type(&[
        ("statistic", DataType::Float64),
        ("pvalue", DataType::Float64),
        ("lift", DataType::Float64),
    ])
}

#[derive(Debug)]
struct ConversionTest;

impl PairKernel for ConversionTest {
    const STATE: &'static [&'static str] = &[
        "treatment_rows",
        "treatment_conversions",
        "control_rows",
        "control_conversions",
    ];

    fn from_arguments(_args: &AccumulatorArgs) -> Result<Self> {
        Ok(Self)
    }

    fn columns(&self, args: &[ArrayRef]) -> Result<(Float64Array, Float64Array)> {
        Ok((
            indicator_column(&binary_flags(NAME, &args[0])?),
            indicator_column(&binary_flags(NAME, &args[1])?),
        ))
    }

    fn update(&self, state: &mut [f64], converted: f64, is_treatment: f64) -> Result<()> {
        let arm = if is_treatment == 1.0 { 0 } else { 2 };
        state[arm] += 1.0;
        state[arm + 1] += converted;
        Ok(())
    }

    fn merge(&self, state: &mut [f64], other: &[f64]) {
        add_states(state, other);
    }

    fn evaluate(&self, state: &[f64]) -> Result<ScalarValue> {
        let [treated, treated_converted, control, control_converted] =
            [state[0], state[1], state[2], state[3]];
        let table = [
            vec![treated_converted, treated - treated_converted],
            vec![control_converted, control - control_converted],
        ];
        let values = chi2_contingency(&table, false).map(|(statistic, pvalue, _)| {
            let control_rate = control_converted / control;
            let lift =
                (control_rate > 0.0).then(|| treated_converted / treated / control_rate - 1.0);
            vec![
                ScalarValue::Float64(Some(statistic)),
                ScalarValue::Float64(Some(pvalue)),
                ScalarValue::Float64(lift),
            ]
        });
        struct_value(&return_type(), values)
    }
}

fn coerce(arg_types: &[DataType]) -> Result<Vec<DataType>> {
    check_arity(NAME, SIGNATURE, arg_types, 2..=2)?;
    Ok(vec![
        coerce_argument(NAME, SIGNATURE, arg_types, 0, binary_label)?,
        coerce_argument(NAME, SIGNATURE, arg_types, 1, binary_label)?,
    ])
}

fn documentation() -> Documentation {
    Documentation::builder(
        AB_SECTION,
        "Pearson chi-square test that the treatment and control arms convert at the same rate: \
         the 2×2 table arm × converted, as scipy.stats.chi2_contingency(table, correction=False) \
         (no Yates correction, so the statistic equals the square of the two-proportion z-test). \
         Returns {statistic, pvalue, lift} with lift = rate_treatment / rate_control − 1 (NULL \
         when control never converts). NULL when an arm is empty or nobody (or everybody) \
         converted. NULLs are ignored.",
        "chi2_test(converted, is_treatment)",
    )
    .with_sql_example(
        "```sql\n\
         > SELECT chi2_test(purchased, variant = 'B') FROM experiment_users;  -- (statistic,pvalue,lift)\n\
         ```",
    )
    .with_argument("converted", "boolean or 0/1: did the unit convert")
    .with_argument("is_treatment", "true for rows of the treatment arm")
    .build()
}

/// The `chi2_test` aggregate.
pub fn chi2_test_udaf() -> AggregateUDF {
    PairAggregate::<ConversionTest> {
        name: NAME,
        parameters: &["converted", "is_treatment"],
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
    fn lift_and_statistic() {
        // treatment 20/100, control 10/100: z-test² = (0.1)² / (0.15·0.85·(2/100))
        let state = [100.0, 20.0, 100.0, 10.0];
        let ScalarValue::Struct(result) = ConversionTest.evaluate(&state).expect("evaluates")
        else {
            panic!("struct expected");
        };
        let column =
            |index: usize| ScalarValue::try_from_array(result.column(index), 0).expect("value");
        let expected = 0.01 / (0.15 * 0.85 * 0.02);
        let ScalarValue::Float64(Some(statistic)) = column(0) else {
            panic!("statistic");
        };
        assert!((statistic - expected).abs() < 1e-12);
        assert_eq!(column(2), ScalarValue::Float64(Some(1.0)));
    }
}
