//! Fitting a model's layers on encoded inputs, on candle: linear regression exactly (normal
//! equations), everything else by gradient descent with Adam and autograd.

use std::collections::HashMap;

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use super::MlError;
use super::linalg::solve_semidefinite;
use super::model::{Activation, LayerSpec, ModelType};
use super::options::TrainingOptions;

/// Encoded rows: a column-major (width × rows) matrix, as `encoding::encode` produces.
pub struct Inputs {
    pub columns: Vec<f64>,
    pub width: usize,
    pub rows: usize,
}

impl Inputs {
    /// The rows as a contiguous (rows × width) tensor.
    pub(super) fn tensor(&self, device: &Device) -> Result<Tensor, MlError> {
        Ok(
            Tensor::from_slice(&self.columns, (self.width, self.rows), device)?
                .t()?
                .contiguous()?,
        )
    }
}

/// What the model learns to produce for each row.
pub enum Targets {
    /// Class indices into the model's sorted classes.
    Classes {
        indices: Vec<u32>,
        count: usize,
    },
    Values(Vec<f64>),
}

/// One training iteration's losses (the regularized objective on the training rows, and the
/// plain loss on the evaluation rows when there are any).
#[derive(Debug, Clone, Copy)]
pub struct Iteration {
    pub number: usize,
    pub training_loss: f64,
    pub eval_loss: Option<f64>,
}

/// Called after every iteration; an error (such as a cancelled statement) stops training.
pub type Progress<'a> = dyn FnMut(Iteration) -> Result<(), MlError> + 'a;

pub struct Trained {
    pub tensors: HashMap<String, Tensor>,
    pub layers: Vec<LayerSpec>,
    pub iterations: Vec<Iteration>,
}

impl Drop for Trained {
    fn drop(&mut self) {
        super::model::bind_device_to_thread();
    }
}

pub fn train(
    options: &TrainingOptions,
    train: (&Inputs, &Targets),
    eval: Option<(&Inputs, &Targets)>,
    progress: &mut Progress<'_>,
) -> Result<Trained, MlError> {
    let device = super::model::device();
    if options.model_type == ModelType::LinearReg {
        return least_squares(options, train, eval, &device, progress);
    }
    let binary = matches!(train.1, Targets::Classes { count: 2, .. });
    if options.model_type == ModelType::LogisticReg && binary && options.batch_size.is_none() {
        return super::newton::newton_logistic(options, train, eval, &device, progress);
    }
    gradient_descent(options, train, eval, &device, progress)
}

pub(super) fn layer_spec(index: usize, activation: Activation) -> LayerSpec {
    LayerSpec {
        weight: format!("layers.{index}.weight"),
        bias: format!("layers.{index}.bias"),
        activation,
    }
}

pub(super) fn values_tensor(targets: &Targets, device: &Device) -> Result<Tensor, MlError> {
    match targets {
        Targets::Values(values) => Ok(Tensor::from_slice(values, (values.len(), 1), device)?),
        Targets::Classes { indices, .. } => {
            let values: Vec<f64> = indices.iter().map(|&i| f64::from(i)).collect();
            Ok(Tensor::from_vec(values, (indices.len(), 1), device)?)
        }
    }
}

/// Ordinary least squares (ridge when `l2_reg` > 0) through the normal equations: the inputs'
/// Gram matrix is computed on candle, the small (width + 1)² system solved in f64.
fn least_squares(
    options: &TrainingOptions,
    (inputs, targets): (&Inputs, &Targets),
    eval: Option<(&Inputs, &Targets)>,
    device: &Device,
    progress: &mut Progress<'_>,
) -> Result<Trained, MlError> {
    let rows = inputs.rows;
    let x = inputs.tensor(device)?;
    let ones = Tensor::ones((rows, 1), DType::F64, device)?;
    let design = Tensor::cat(&[&ones, &x], 1)?;
    let y = values_tensor(targets, device)?;
    let gram = design.t()?.matmul(&design)?;
    let moment = design.t()?.matmul(&y)?;
    let size = inputs.width + 1;
    let mut gram: Vec<f64> = gram.flatten_all()?.to_vec1()?;
    // Objective: ‖y − Xw − b‖² / (2n) + l2_reg/2 · ‖w‖², so the penalty enters as n·l2_reg.
    for j in 1..size {
        gram[j * size + j] += rows as f64 * options.l2_reg;
    }
    let solution = solve_semidefinite(&gram, &moment.flatten_all()?.to_vec1()?);
    let weight = Tensor::from_slice(&solution[1..], (1, inputs.width), device)?;
    let bias = Tensor::from_slice(&solution[..1], 1, device)?;
    let loss = |inputs: &Inputs, targets: &Targets| -> Result<f64, MlError> {
        let predicted = inputs
            .tensor(device)?
            .matmul(&weight.t()?)?
            .broadcast_add(&bias)?;
        let residual = (predicted - values_tensor(targets, device)?)?;
        Ok(residual.sqr()?.mean_all()?.to_scalar::<f64>()?)
    };
    let iteration = Iteration {
        number: 1,
        training_loss: loss(inputs, targets)?,
        eval_loss: eval.map(|(i, t)| loss(i, t)).transpose()?,
    };
    progress(iteration)?;
    let spec = layer_spec(0, Activation::Identity);
    let tensors = HashMap::from([(spec.weight.clone(), weight), (spec.bias.clone(), bias)]);
    Ok(Trained {
        tensors,
        layers: vec![spec],
        iterations: vec![iteration],
    })
}

/// scikit-learn's 'balanced' class weights: n / (classes · rows of the class).
pub(super) fn class_weights(indices: &[u32], count: usize) -> Vec<f64> {
    let mut counts = vec![0usize; count];
    indices.iter().for_each(|&c| counts[c as usize] += 1);
    counts
        .iter()
        .map(|&n| {
            if n == 0 {
                0.0
            } else {
                indices.len() as f64 / (count * n) as f64
            }
        })
        .collect()
}

/// A small deterministic generator (SplitMix64) for initial weights and batch order, so that
/// a seed gives the same model on every machine.
struct SplitMix(u64);

/// SplitMix64's increment, 2⁶⁴ / φ.
pub(super) const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a well-mixed 64-bit value from any state.
pub(super) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform draw in [0, 1) from the top 53 bits.
pub(super) fn unit_interval(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN_GAMMA);
        mix64(self.0)
    }

    fn uniform(&mut self) -> f64 {
        unit_interval(self.next())
    }

    fn shuffle(&mut self, items: &mut [u32]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

struct Network {
    weights: Vec<Var>,
    biases: Vec<Var>,
}

impl Network {
    /// Hidden layers start He-uniform (for ReLU), the output layer Glorot-uniform; a model
    /// without hidden layers (logistic regression) starts at zero, as its optimum is unique.
    fn new(sizes: &[usize], rng: &mut SplitMix, device: &Device) -> Result<Self, MlError> {
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        let layers = sizes.len() - 1;
        for (i, pair) in sizes.windows(2).enumerate() {
            let (input, output) = (pair[0], pair[1]);
            let limit = match (layers, i + 1 == layers) {
                (1, _) => 0.0,
                (_, false) => (6.0 / input as f64).sqrt(),
                (_, true) => (6.0 / (input + output) as f64).sqrt(),
            };
            let values: Vec<f64> = (0..input * output)
                .map(|_| (2.0 * rng.uniform() - 1.0) * limit)
                .collect();
            weights.push(Var::from_tensor(&Tensor::from_vec(
                values,
                (output, input),
                device,
            )?)?);
            biases.push(Var::zeros(output, DType::F64, device)?);
        }
        Ok(Self { weights, biases })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, MlError> {
        let mut x = x.clone();
        for (i, (weight, bias)) in self.weights.iter().zip(&self.biases).enumerate() {
            x = x
                .matmul(&weight.as_tensor().t()?)?
                .broadcast_add(bias.as_tensor())?;
            if i + 1 < self.weights.len() {
                x = x.relu()?;
            }
        }
        Ok(x)
    }

    fn penalty(&self) -> Result<Tensor, MlError> {
        let mut total = Tensor::new(0.0f64, self.weights[0].device())?;
        for weight in &self.weights {
            total = (total + weight.as_tensor().sqr()?.sum_all()?)?;
        }
        Ok(total)
    }
}

/// The loss of each row, given the network's raw outputs.
fn row_losses(outputs: &Tensor, targets: &Tensor, kind: Loss) -> Result<Tensor, MlError> {
    Ok(match kind {
        // log(1 + e^z) − y·z, written to stay finite for large |z|.
        Loss::Logistic => {
            let softplus = (outputs.relu()? + (outputs.abs()?.neg()?.exp()? + 1.0)?.log()?)?;
            (softplus - (outputs * targets)?)?.squeeze(1)?
        }
        Loss::CrossEntropy => {
            let log_probabilities = candle_nn::ops::log_softmax(outputs, D::Minus1)?;
            log_probabilities.gather(targets, 1)?.squeeze(1)?.neg()?
        }
        Loss::Squared => ((outputs - targets)?.sqr()? * 0.5)?.squeeze(1)?,
    })
}

#[derive(Clone, Copy)]
enum Loss {
    Logistic,
    CrossEntropy,
    Squared,
}

struct Prepared {
    x: Tensor,
    targets: Tensor,
    weights: Tensor,
}

fn prepare(
    inputs: &Inputs,
    targets: &Targets,
    loss: Loss,
    class_weights: Option<&[f64]>,
    device: &Device,
) -> Result<Prepared, MlError> {
    let x = inputs.tensor(device)?;
    let (targets_tensor, weights) = match (targets, loss) {
        (Targets::Classes { indices, .. }, Loss::CrossEntropy) => (
            Tensor::from_slice(indices, (indices.len(), 1), device)?,
            indices
                .iter()
                .map(|&c| class_weights.map_or(1.0, |w| w[c as usize]))
                .collect(),
        ),
        (Targets::Classes { indices, .. }, _) => (
            values_tensor(targets, device)?,
            indices
                .iter()
                .map(|&c| class_weights.map_or(1.0, |w| w[c as usize]))
                .collect(),
        ),
        (Targets::Values(values), _) => (values_tensor(targets, device)?, vec![1.0; values.len()]),
    };
    let rows = inputs.rows;
    Ok(Prepared {
        x,
        targets: targets_tensor,
        weights: Tensor::from_vec(weights, rows, device)?,
    })
}

/// The weighted mean loss over `rows` of `data`, or over all of it (no copy) for `None`.
fn mean_loss(
    network: &Network,
    data: &Prepared,
    rows: Option<&[u32]>,
    loss: Loss,
) -> Result<Tensor, MlError> {
    let Some(rows) = rows else {
        let losses = row_losses(&network.forward(&data.x)?, &data.targets, loss)?;
        return Ok((losses * &data.weights)?.mean_all()?);
    };
    let indices = Tensor::from_slice(rows, rows.len(), data.x.device())?;
    let x = data.x.index_select(&indices, 0)?;
    let targets = data.targets.index_select(&indices, 0)?;
    let weights = data.weights.index_select(&indices, 0)?;
    let losses = row_losses(&network.forward(&x)?, &targets, loss)?;
    Ok((losses * weights)?.mean_all()?)
}

fn gradient_descent(
    options: &TrainingOptions,
    (inputs, targets): (&Inputs, &Targets),
    eval: Option<(&Inputs, &Targets)>,
    device: &Device,
    progress: &mut Progress<'_>,
) -> Result<Trained, MlError> {
    let (loss, outputs, class_weights) = match targets {
        Targets::Classes { indices, count } => {
            let weights = options
                .balanced_class_weights
                .then(|| class_weights(indices, *count));
            if *count == 2 {
                (Loss::Logistic, 1, weights)
            } else {
                (Loss::CrossEntropy, *count, weights)
            }
        }
        Targets::Values(_) => (Loss::Squared, 1, None),
    };
    let mut sizes = vec![inputs.width];
    sizes.extend(&options.hidden_units);
    sizes.push(outputs);
    let mut rng = SplitMix(options.seed);
    let network = Network::new(&sizes, &mut rng, device)?;
    let mut variables = network.weights.clone();
    variables.extend(network.biases.iter().cloned());
    let mut optimizer = AdamW::new(
        variables,
        ParamsAdamW {
            lr: options.learn_rate,
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        },
    )?;
    let data = prepare(inputs, targets, loss, class_weights.as_deref(), device)?;
    let eval_data = eval
        .map(|(i, t)| prepare(i, t, loss, None, device))
        .transpose()?;
    let rows = inputs.rows;
    let batch = options.batch_size.unwrap_or(rows).clamp(1, rows.max(1));
    let mut order: Vec<u32> = (0..rows as u32).collect();
    let mut iterations: Vec<Iteration> = Vec::new();
    for number in 1..=options.max_iterations {
        if batch < rows {
            rng.shuffle(&mut order);
        }
        // The iteration's training loss is the mean of the objectives its steps minimized (the
        // objective before the step, for full batches): no extra pass over the data.
        let mut objective_sum = 0.0;
        for chunk in order.chunks(batch) {
            let rows_of_step = (chunk.len() < rows).then_some(chunk);
            let objective = (mean_loss(&network, &data, rows_of_step, loss)?
                + (network.penalty()? * (options.l2_reg / 2.0))?)?;
            objective_sum += objective.to_scalar::<f64>()? * chunk.len() as f64;
            optimizer.backward_step(&objective)?;
        }
        let training_loss = objective_sum / rows.max(1) as f64;
        if !training_loss.is_finite() {
            return Err(MlError::invalid(format!(
                "training diverged at iteration {number} (loss {training_loss}); lower learn_rate"
            )));
        }
        let eval_loss = eval_data
            .as_ref()
            .map(|d| {
                mean_loss(&network, d, None, loss)?
                    .to_scalar::<f64>()
                    .map_err(MlError::from)
            })
            .transpose()?;
        let iteration = Iteration {
            number,
            training_loss,
            eval_loss,
        };
        progress(iteration)?;
        iterations.push(iteration);
        if options.early_stop && converged(&iterations, options.min_rel_progress) {
            break;
        }
    }
    let mut tensors = HashMap::new();
    let mut layers = Vec::new();
    let count = network.weights.len();
    for (i, (weight, bias)) in network.weights.iter().zip(&network.biases).enumerate() {
        let spec = layer_spec(
            i,
            if i + 1 < count {
                Activation::Relu
            } else {
                Activation::Identity
            },
        );
        tensors.insert(spec.weight.clone(), weight.as_tensor().detach());
        tensors.insert(spec.bias.clone(), bias.as_tensor().detach());
        layers.push(spec);
    }
    Ok(Trained {
        tensors,
        layers,
        iterations,
    })
}

/// Iterations to look back over when judging progress.
const PROGRESS_WINDOW: usize = 5;

/// True when the watched loss (evaluation loss when there is an evaluation split, else the
/// training objective) improved by less than `min_rel_progress` over the last few iterations.
fn converged(iterations: &[Iteration], min_rel_progress: f64) -> bool {
    let n = iterations.len();
    if n <= PROGRESS_WINDOW {
        return false;
    }
    let watched = |i: &Iteration| i.eval_loss.unwrap_or(i.training_loss);
    let before = watched(&iterations[n - 1 - PROGRESS_WINDOW]);
    let now = watched(&iterations[n - 1]);
    before - now < min_rel_progress * before.abs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::options::DataSplit;

    fn options(model_type: ModelType) -> TrainingOptions {
        TrainingOptions {
            model_type,
            label: "y".into(),
            l2_reg: 0.0,
            max_iterations: 300,
            learn_rate: 0.1,
            batch_size: None,
            hidden_units: vec![],
            early_stop: false,
            min_rel_progress: 0.0,
            data_split: DataSplit::NoSplit,
            seed: 1,
            balanced_class_weights: false,
        }
    }

    #[test]
    fn least_squares_recovers_an_exact_line() {
        // y = 3 + 2x exactly.
        let inputs = Inputs {
            columns: vec![-1.0, 0.0, 1.0, 2.0],
            width: 1,
            rows: 4,
        };
        let targets = Targets::Values(vec![1.0, 3.0, 5.0, 7.0]);
        let trained = train(
            &options(ModelType::LinearReg),
            (&inputs, &targets),
            None,
            &mut |_| Ok(()),
        )
        .unwrap();
        let weight: Vec<f64> = trained.tensors["layers.0.weight"]
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let bias: Vec<f64> = trained.tensors["layers.0.bias"].to_vec1().unwrap();
        assert!((weight[0] - 2.0).abs() < 1e-12 && (bias[0] - 3.0).abs() < 1e-12);
    }

    #[test]
    fn adam_separates_two_classes_and_reports_each_iteration() {
        let inputs = Inputs {
            columns: vec![-2.0, -1.0, 1.0, 2.0],
            width: 1,
            rows: 4,
        };
        let targets = Targets::Classes {
            indices: vec![0, 0, 1, 1],
            count: 2,
        };
        let mut minibatches = options(ModelType::LogisticReg);
        minibatches.batch_size = Some(2);
        let mut seen = 0;
        let trained = train(&minibatches, (&inputs, &targets), None, &mut |i| {
            seen = i.number;
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, 300);
        let first = trained.iterations[0].training_loss;
        let last = trained.iterations[299].training_loss;
        assert!(first < 0.7 && last < 0.05, "{first} → {last}");
    }

    #[test]
    fn newton_reaches_the_closed_form_optimum() {
        // x = −1 has 1 positive in 4, x = +1 has 3 in 4: the MLE is b = 0, w = logit(3/4) = ln 3.
        let inputs = Inputs {
            columns: vec![-1.0, -1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0],
            width: 1,
            rows: 8,
        };
        let targets = Targets::Classes {
            indices: vec![0, 0, 0, 1, 1, 1, 1, 0],
            count: 2,
        };
        let trained = train(
            &options(ModelType::LogisticReg),
            (&inputs, &targets),
            None,
            &mut |_| Ok(()),
        )
        .unwrap();
        let weight: Vec<f64> = trained.tensors["layers.0.weight"]
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let bias: Vec<f64> = trained.tensors["layers.0.bias"].to_vec1().unwrap();
        assert!((weight[0] - 3f64.ln()).abs() < 1e-10, "{weight:?}");
        assert!(bias[0].abs() < 1e-10, "{bias:?}");
        assert!(
            trained.iterations.len() < 10,
            "{} iterations",
            trained.iterations.len()
        );
    }

    #[test]
    fn a_progress_error_stops_training() {
        let inputs = Inputs {
            columns: vec![-1.0, 1.0],
            width: 1,
            rows: 2,
        };
        let targets = Targets::Classes {
            indices: vec![0, 1],
            count: 2,
        };
        let err = train(
            &options(ModelType::LogisticReg),
            (&inputs, &targets),
            None,
            &mut |i| {
                if i.number == 3 {
                    Err(MlError::Canceled("stop".into()))
                } else {
                    Ok(())
                }
            },
        );
        assert!(matches!(err, Err(MlError::Canceled(_))));
    }
}
