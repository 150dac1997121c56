//! Model-evaluation metrics: `metric(prediction_or_score, label)`, as scikit-learn defines them.

pub(crate) mod accuracy;
pub(crate) mod binary_outcomes;
pub(crate) mod confusion_matrix;
pub(crate) mod f1_score;
pub(crate) mod gini;
pub(crate) mod ks_score;
pub(crate) mod labels;
pub(crate) mod log_loss;
pub(crate) mod mae;
pub(crate) mod pr_auc;
pub(crate) mod precision_score;
pub(crate) mod r2_score;
pub(crate) mod recall_score;
pub(crate) mod regression;
pub(crate) mod rmse;
pub(crate) mod roc_auc;
pub(crate) mod roc_curve;

use datafusion::logical_expr::DocSection;

pub(crate) const EVALUATION_SECTION: DocSection = DocSection {
    include: true,
    label: "Evaluation metrics",
    description: Some("Classification and regression metrics over predictions and labels."),
};
