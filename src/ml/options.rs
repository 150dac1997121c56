//! `CREATE MODEL ... OPTIONS (...)`: BigQuery ML's option names, checked one by one so that a
//! misspelt option or an impossible value is an error naming it rather than a silent default.

use super::MlError;
use super::model::ModelType;
use super::statement::OptionValue;

/// How rows are set aside for evaluation while training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DataSplit {
    /// Fewer than 500 rows: no split; otherwise 20% at random (BigQuery's AUTO_SPLIT, simplified).
    Auto,
    Random {
        eval_fraction: f64,
    },
    NoSplit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainingOptions {
    pub model_type: ModelType,
    pub label: String,
    pub l2_reg: f64,
    pub max_iterations: usize,
    pub learn_rate: f64,
    /// Rows per gradient step; `None` = all training rows (full batch).
    pub batch_size: Option<usize>,
    pub hidden_units: Vec<usize>,
    pub early_stop: bool,
    pub min_rel_progress: f64,
    pub data_split: DataSplit,
    pub seed: u64,
    pub balanced_class_weights: bool,
}

const KNOWN: &[&str] = &[
    "model_type",
    "input_label_cols",
    "l2_reg",
    "max_iterations",
    "learn_rate",
    "batch_size",
    "hidden_units",
    "early_stop",
    "min_rel_progress",
    "data_split_method",
    "data_split_eval_fraction",
    "seed",
    "class_weights",
];

impl TrainingOptions {
    pub fn parse(options: &[(String, OptionValue)]) -> Result<Self, MlError> {
        for (i, (key, _)) in options.iter().enumerate() {
            if !KNOWN.contains(&key.as_str()) {
                return Err(MlError::invalid(format!(
                    "unknown option \"{key}\"; CREATE MODEL takes {}",
                    KNOWN.join(", ")
                )));
            }
            if options[..i].iter().any(|(earlier, _)| earlier == key) {
                return Err(MlError::invalid(format!("option \"{key}\" is given twice")));
            }
        }
        let get = |key: &str| options.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let model_type = match get("model_type") {
            None => {
                return Err(MlError::invalid(
                    "option \"model_type\" is required: 'linear_reg', 'logistic_reg', \
                 'mlp_classifier' or 'mlp_regressor'",
                ));
            }
            Some(value) => {
                let text = text("model_type", value)?;
                ModelType::parse(&text).ok_or_else(|| {
                    MlError::invalid(format!(
                        "option \"model_type\" is '{text}'; it must be 'linear_reg', \
                         'logistic_reg', 'mlp_classifier' or 'mlp_regressor'"
                    ))
                })?
            }
        };
        let label = match get("input_label_cols") {
            None => "label".to_string(),
            Some(OptionValue::List(items)) if items.len() == 1 => {
                text("input_label_cols", &items[0])?
            }
            Some(OptionValue::Text(label)) => label.clone(),
            Some(other) => {
                return Err(MlError::invalid(format!(
                    "option \"input_label_cols\" must name one label column, as ['label'], not {other}"
                )));
            }
        };
        let mlp = matches!(
            model_type,
            ModelType::MlpClassifier | ModelType::MlpRegressor
        );
        let l2_reg = number("l2_reg", get("l2_reg"), 0.0)?;
        if l2_reg < 0.0 {
            return Err(MlError::invalid(format!(
                "option \"l2_reg\" must be ≥ 0, not {l2_reg}"
            )));
        }
        let max_iterations = integer(
            "max_iterations",
            get("max_iterations"),
            if mlp { 200 } else { 100 },
        )?;
        if max_iterations == 0 {
            return Err(MlError::invalid(
                "option \"max_iterations\" must be at least 1",
            ));
        }
        let learn_rate = number(
            "learn_rate",
            get("learn_rate"),
            if mlp { 0.001 } else { 0.1 },
        )?;
        if learn_rate <= 0.0 {
            return Err(MlError::invalid(format!(
                "option \"learn_rate\" must be > 0, not {learn_rate}"
            )));
        }
        let batch_size = match get("batch_size") {
            None if mlp => Some(200),
            None => None,
            Some(value) => {
                let size = integer("batch_size", Some(value), 0)?;
                if size == 0 {
                    return Err(MlError::invalid("option \"batch_size\" must be at least 1"));
                }
                Some(size)
            }
        };
        let hidden_units = match get("hidden_units") {
            None => {
                if mlp {
                    vec![100]
                } else {
                    vec![]
                }
            }
            Some(_) if !mlp => {
                return Err(MlError::invalid(format!(
                    "option \"hidden_units\" applies to mlp_classifier and mlp_regressor, not {}",
                    model_type.name()
                )));
            }
            Some(OptionValue::List(items)) if !items.is_empty() => items
                .iter()
                .map(|item| match integer("hidden_units", Some(item), 0)? {
                    0 => Err(MlError::invalid(
                        "option \"hidden_units\" must list sizes ≥ 1",
                    )),
                    units => Ok(units),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(MlError::invalid(format!(
                    "option \"hidden_units\" must be a list of layer sizes such as [64, 32], not {other}"
                )));
            }
        };
        let early_stop = match get("early_stop") {
            None => true,
            Some(OptionValue::Boolean(b)) => *b,
            Some(other) => {
                return Err(MlError::invalid(format!(
                    "option \"early_stop\" must be true or false, not {other}"
                )));
            }
        };
        let min_rel_progress = number("min_rel_progress", get("min_rel_progress"), 0.001)?;
        if min_rel_progress < 0.0 {
            return Err(MlError::invalid("option \"min_rel_progress\" must be ≥ 0"));
        }
        let fraction = get("data_split_eval_fraction")
            .map(|v| number("data_split_eval_fraction", Some(v), 0.2))
            .transpose()?;
        if let Some(fraction) = fraction
            && !(fraction > 0.0 && fraction < 1.0)
        {
            return Err(MlError::invalid(format!(
                "option \"data_split_eval_fraction\" must be between 0 and 1, not {fraction}"
            )));
        }
        let data_split = match get("data_split_method")
            .map(|v| text("data_split_method", v))
            .transpose()?
        {
            None if fraction.is_some() => DataSplit::Random {
                eval_fraction: fraction.unwrap_or(0.2),
            },
            None => DataSplit::Auto,
            Some(method) => match method.to_ascii_lowercase().as_str() {
                "random" => DataSplit::Random {
                    eval_fraction: fraction.unwrap_or(0.2),
                },
                "no_split" if fraction.is_some() => {
                    return Err(MlError::invalid(
                        "option \"data_split_eval_fraction\" cannot be used with data_split_method = 'no_split'",
                    ));
                }
                "no_split" => DataSplit::NoSplit,
                "auto_split" => DataSplit::Auto,
                other => {
                    return Err(MlError::invalid(format!(
                        "option \"data_split_method\" is '{other}'; it must be 'random', \
                         'no_split' or 'auto_split'"
                    )));
                }
            },
        };
        let seed = integer("seed", get("seed"), 42)? as u64;
        let balanced_class_weights = match get("class_weights") {
            None => false,
            Some(value) => match text("class_weights", value)?.to_ascii_lowercase().as_str() {
                "balanced" if model_type.is_classifier() => true,
                "balanced" => {
                    return Err(MlError::invalid(format!(
                        "option \"class_weights\" applies to classifiers, not {}",
                        model_type.name()
                    )));
                }
                other => {
                    return Err(MlError::invalid(format!(
                        "option \"class_weights\" is '{other}'; the one choice is 'balanced'"
                    )));
                }
            },
        };
        Ok(Self {
            model_type,
            label,
            l2_reg,
            max_iterations,
            learn_rate,
            batch_size,
            hidden_units,
            early_stop,
            min_rel_progress,
            data_split,
            seed,
            balanced_class_weights,
        })
    }
}

fn text(key: &str, value: &OptionValue) -> Result<String, MlError> {
    match value {
        OptionValue::Text(text) => Ok(text.clone()),
        other => Err(MlError::invalid(format!(
            "option \"{key}\" must be a string in quotes, not {other}"
        ))),
    }
}

fn number(key: &str, value: Option<&OptionValue>, default: f64) -> Result<f64, MlError> {
    match value {
        None => Ok(default),
        Some(OptionValue::Number(text)) => text
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| MlError::invalid(format!("option \"{key}\" is not a number: {text}"))),
        Some(other) => Err(MlError::invalid(format!(
            "option \"{key}\" must be a number, not {other}"
        ))),
    }
}

fn integer(key: &str, value: Option<&OptionValue>, default: usize) -> Result<usize, MlError> {
    match value {
        None => Ok(default),
        Some(OptionValue::Number(text)) => text.parse::<usize>().map_err(|_| {
            MlError::invalid(format!(
                "option \"{key}\" must be a whole number ≥ 0, not {text}"
            ))
        }),
        Some(other) => Err(MlError::invalid(format!(
            "option \"{key}\" must be a whole number, not {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, OptionValue)]) -> Vec<(String, OptionValue)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn text(s: &str) -> OptionValue {
        OptionValue::Text(s.into())
    }

    #[test]
    fn defaults_follow_the_model_type() {
        let parsed =
            TrainingOptions::parse(&options(&[("model_type", text("mlp_classifier"))])).unwrap();
        assert_eq!(parsed.hidden_units, vec![100]);
        assert_eq!(parsed.batch_size, Some(200));
        assert_eq!(parsed.data_split, DataSplit::Auto);
        assert_eq!(parsed.label, "label");
    }

    #[test]
    fn bad_options_are_named() {
        let cases = [
            (options(&[("model_type", text("forest"))]), "model_type"),
            (
                options(&[
                    ("model_type", text("linear_reg")),
                    ("l2reg", OptionValue::Number("1".into())),
                ]),
                "l2reg",
            ),
            (
                options(&[("model_type", text("linear_reg")), ("l2_reg", text("much"))]),
                "l2_reg",
            ),
            (
                options(&[
                    ("model_type", text("linear_reg")),
                    ("learn_rate", OptionValue::Number("-1".into())),
                ]),
                "learn_rate",
            ),
            (
                options(&[
                    ("model_type", text("linear_reg")),
                    ("hidden_units", OptionValue::List(vec![])),
                ]),
                "hidden_units",
            ),
            (
                options(&[
                    ("model_type", text("logistic_reg")),
                    (
                        "data_split_eval_fraction",
                        OptionValue::Number("1.5".into()),
                    ),
                ]),
                "data_split_eval_fraction",
            ),
            (
                options(&[
                    ("model_type", text("linear_reg")),
                    ("class_weights", text("balanced")),
                ]),
                "class_weights",
            ),
            (options(&[]), "model_type"),
        ];
        for (options, named) in cases {
            let err = TrainingOptions::parse(&options).unwrap_err().to_string();
            assert!(err.contains(&format!("\"{named}\"")), "{named}: {err}");
        }
    }
}
