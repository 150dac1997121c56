//! `predict(model_ref, f1, ..., fn)` and `predict_proba(model_ref, ...)`: vectorized scalar
//! functions that score each Arrow batch with one forward pass. The model is resolved when the
//! query is planned (to know the result type and check the arguments) and again per batch
//! through the registry's cache.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};

use super::MlError;
use super::registry::{Registry, VersionRecord};
use super::scoring::{check_argument_types, prediction_type, probability_type, score};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Output {
    Prediction,
    Probabilities,
}

pub struct Predict {
    registry: Arc<Registry>,
    output: Output,
    signature: Signature,
}

impl std::fmt::Debug for Predict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.function())
    }
}

impl PartialEq for Predict {
    fn eq(&self, other: &Self) -> bool {
        self.output == other.output && Arc::ptr_eq(&self.registry, &other.registry)
    }
}

impl Eq for Predict {}

impl Hash for Predict {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.output.hash(state);
    }
}

pub fn predict_udf(registry: Arc<Registry>) -> ScalarUDF {
    ScalarUDF::new_from_impl(Predict::new(registry, Output::Prediction))
}

pub fn predict_proba_udf(registry: Arc<Registry>) -> ScalarUDF {
    ScalarUDF::new_from_impl(Predict::new(registry, Output::Probabilities))
}

/// The model reference in the first argument, which must be a constant string.
pub fn model_reference(function: &str, value: Option<&ScalarValue>) -> Result<String, MlError> {
    match value {
        Some(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
        ) => Ok(s.clone()),
        _ => Err(MlError::invalid(format!(
            "{function}'s first argument must be a model name in quotes, such as \
             {function}('churn', f1, f2) or {function}('churn@2', ...)"
        ))),
    }
}

impl Predict {
    fn new(registry: Arc<Registry>, output: Output) -> Self {
        Self {
            registry,
            output,
            signature: Signature::user_defined(Volatility::Stable),
        }
    }

    fn function(&self) -> &'static str {
        match self.output {
            Output::Prediction => "predict",
            Output::Probabilities => "predict_proba",
        }
    }

    fn resolve(&self, reference: &str) -> Result<Arc<VersionRecord>, MlError> {
        self.registry.resolve(reference)
    }
}

impl ScalarUDFImpl for Predict {
    fn name(&self) -> &str {
        self.function()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() < 2 {
            return Err(MlError::invalid(format!(
                "{0} takes a model and its features: {0}('model', f1, ..., fn)",
                self.function()
            ))
            .into());
        }
        Ok(arg_types.to_vec())
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Err(DataFusionError::Internal(
            "predict's type comes from return_field_from_args".into(),
        ))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let reference = model_reference(
            self.function(),
            args.scalar_arguments.first().copied().flatten(),
        )?;
        let record = self.resolve(&reference)?;
        let model = self.registry.model(&record)?;
        let types: Vec<DataType> = args.arg_fields[1..]
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        check_argument_types(&model.spec, self.function(), &types)?;
        let data_type = match self.output {
            Output::Prediction => prediction_type(&model.spec),
            Output::Probabilities => probability_type(&model.spec)?,
        };
        Ok(Arc::new(Field::new(self.function(), data_type, true)))
    }

    /// Checks plain-column arguments against the model's feature names, which only the
    /// expressions (not their evaluated types) tell.
    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let Some(Expr::Literal(reference, _)) = args.first() else {
            return Ok(ExprSimplifyResult::Original(args));
        };
        let record = self.resolve(&model_reference(self.function(), Some(reference))?)?;
        let given: Vec<Option<&str>> = args[1..]
            .iter()
            .map(|arg| match arg {
                Expr::Column(column) => Some(column.name.as_str()),
                _ => None,
            })
            .collect();
        let mismatch = given
            .iter()
            .zip(&record.features)
            .any(|(name, (feature, _))| name.is_some_and(|n| !n.eq_ignore_ascii_case(feature)));
        if mismatch {
            let given = args[1..]
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let expected = record
                .features
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(MlError::invalid(format!(
                "{}: the columns passed ({given}) do not match model \"{}\" version {}'s features, \
                 in order: ({expected})",
                self.function(),
                record.model,
                record.version
            ))
            .into());
        }
        Ok(ExprSimplifyResult::Original(args))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let reference = match args.args.first() {
            Some(ColumnarValue::Scalar(value)) => model_reference(self.function(), Some(value))?,
            _ => return Err(model_reference(self.function(), None).unwrap_err().into()),
        };
        let record = self.resolve(&reference)?;
        let model = self.registry.model(&record)?;
        let rows = args.number_rows;
        let columns: Vec<ArrayRef> = args.args[1..]
            .iter()
            .map(|value| value.to_array(rows))
            .collect::<Result<_>>()?;
        let scores = score(&model, &columns)?;
        Ok(ColumnarValue::Array(match self.output {
            Output::Prediction => scores.predictions(),
            Output::Probabilities => scores.probabilities(),
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static PREDICT: OnceLock<Documentation> = OnceLock::new();
        static PROBA: OnceLock<Documentation> = OnceLock::new();
        Some(match self.output {
            Output::Prediction => PREDICT.get_or_init(|| {
                Documentation::builder(
                    datafusion::logical_expr::DocSection { include: true, label: "Machine learning", description: None },
                    "Scores rows with a registered model: the predicted class for classifiers, the \
                     value for regressors. The model reference is 'name' (Production, else Staging, \
                     else latest), 'name@3' or 'name@staging'; features follow in the model's order.",
                    "predict(model_ref, feature_1, ..., feature_n)",
                )
                .with_sql_example("SELECT id, predict('churn', age, tenure, plan) FROM customers;")
                .build()
            }),
            Output::Probabilities => PROBA.get_or_init(|| {
                Documentation::builder(
                    datafusion::logical_expr::DocSection { include: true, label: "Machine learning", description: None },
                    "Class probabilities of a classifier: the probability of the positive class \
                     (the second of the sorted classes) for two classes, a list in class order for more.",
                    "predict_proba(model_ref, feature_1, ..., feature_n)",
                )
                .with_sql_example("SELECT id, predict_proba('churn', age, tenure, plan) FROM customers;")
                .build()
            }),
        })
    }
}

/// A call of `predict` / `predict_proba` on the given model and feature columns.
pub fn call(udf: &Arc<ScalarUDF>, reference: &str, features: Vec<Expr>) -> Expr {
    let mut args = vec![datafusion::logical_expr::lit(reference.to_string())];
    args.extend(features);
    Expr::ScalarFunction(ScalarFunction::new_udf(Arc::clone(udf), args))
}
