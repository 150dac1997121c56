//! A model as it is stored and served: `model.json` (what the inputs are, how they are
//! transformed, what the outputs mean) beside `model.safetensors` (the layers' weights).
//!
//! The format is Quiver's own and documented in README → "Model format", so models trained
//! elsewhere (a PyTorch MLP, a scikit-learn linear model) can be imported and served.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, DeviceLocation, Tensor};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::MlError;

pub const FORMAT: &str = "quiver-model/1";
pub const SPEC_FILE: &str = "model.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelType {
    LinearReg,
    LogisticReg,
    MlpClassifier,
    MlpRegressor,
}

impl ModelType {
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "linear_reg" => Some(Self::LinearReg),
            "logistic_reg" => Some(Self::LogisticReg),
            "mlp_classifier" => Some(Self::MlpClassifier),
            "mlp_regressor" => Some(Self::MlpRegressor),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::LinearReg => "linear_reg",
            Self::LogisticReg => "logistic_reg",
            Self::MlpClassifier => "mlp_classifier",
            Self::MlpRegressor => "mlp_regressor",
        }
    }

    pub fn is_classifier(self) -> bool {
        matches!(self, Self::LogisticReg | Self::MlpClassifier)
    }
}

/// The SQL type of a feature or label, as the model's callers must supply it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    Text,
    Bigint,
    Double,
    Boolean,
}

impl ValueType {
    pub fn sql_name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Bigint => "bigint",
            Self::Double => "double precision",
            Self::Boolean => "boolean",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    Numeric,
    Categorical,
}

/// One input column and the transform that turns it into model inputs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub value_type: ValueType,
    pub kind: FeatureKind,
    /// Numeric: standardized as `(x - mean) / std`; NULL becomes `mean` (so 0 after scaling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
    /// Categorical: one input per category, in this order; NULL and unseen values are all-zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
}

impl FeatureSpec {
    pub fn width(&self) -> usize {
        match self.kind {
            FeatureKind::Numeric => 1,
            FeatureKind::Categorical => self.categories.as_ref().map_or(0, Vec::len),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabelSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub value_type: ValueType,
}

/// A class label as JSON writes it: a string, an integer or a boolean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClassLabel {
    Boolean(bool),
    Integer(i64),
    Text(String),
}

impl std::fmt::Display for ClassLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Boolean(b) => write!(f, "{b}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Text(s) => write!(f, "{s}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Identity,
    Relu,
    Tanh,
    Sigmoid,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerSpec {
    /// Tensor names in the safetensors file; weight is (out, in) as in PyTorch's `nn.Linear`.
    pub weight: String,
    pub bias: String,
    pub activation: Activation,
}

/// `model.json`: everything needed to turn raw columns into predictions, besides the weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelSpec {
    pub format: String,
    pub model_type: ModelType,
    pub label: LabelSpec,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ClassLabel>,
    pub features: Vec<FeatureSpec>,
    pub layers: Vec<LayerSpec>,
}

impl ModelSpec {
    pub fn input_width(&self) -> usize {
        self.features.iter().map(FeatureSpec::width).sum()
    }

    pub fn output_width(&self) -> usize {
        match (self.model_type.is_classifier(), self.classes.len()) {
            (true, 2) => 1,
            (true, k) => k,
            (false, _) => 1,
        }
    }
}

/// The device models train and score on: the first CUDA GPU when built with `cuda` and one
/// can be opened, else the CPU. Chosen once per process, so that every model and every batch
/// shares one CUDA context (candle treats two opened devices as different devices).
pub fn device() -> Device {
    DEVICE.get_or_init(open_device).clone()
}

static DEVICE: std::sync::OnceLock<Device> = std::sync::OnceLock::new();

/// One explicit stream for all threads: with per-thread default streams, a weight uploaded by
/// one thread could still be in flight when another thread's kernel reads it.
#[cfg(feature = "cuda")]
fn open_device() -> Device {
    match Device::new_cuda_with_stream(0) {
        Ok(device) => device,
        Err(e) => {
            tracing::warn!(
                "built with CUDA, but GPU 0 could not be opened ({e}); models run on the CPU"
            );
            Device::Cpu
        }
    }
}

#[cfg(not(feature = "cuda"))]
fn open_device() -> Device {
    Device::Cpu
}

/// Makes the CUDA context current on this thread. cudarc frees a tensor's memory on whichever
/// thread drops it without doing so itself, and a thread that never touched the GPU then fails
/// the free; the error is kept and surfaces in the next, unrelated GPU call. Whatever holds
/// tensors that may be dropped on another thread (async tasks move between threads) calls this
/// in its `Drop`.
pub fn bind_device_to_thread() {
    #[cfg(feature = "cuda")]
    if let Some(Device::Cuda(cuda)) = DEVICE.get()
        && let Err(e) = cuda.cuda_stream().context().bind_to_thread()
    {
        tracing::warn!("cannot make the CUDA context current on this thread: {e}");
    }
}

/// The device as notices and logs name it: `cpu`, `cuda:0`.
pub fn device_name(device: &Device) -> String {
    match device.location() {
        DeviceLocation::Cpu => "cpu".to_string(),
        DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
        DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
    }
}

/// A dense layer ready to run.
#[derive(Debug, Clone)]
pub struct Layer {
    /// (in, out): the stored (out, in) weight, transposed once at load.
    pub weight_t: Tensor,
    pub bias: Tensor,
    pub activation: Activation,
}

/// A model loaded into memory: its spec and its layers on the scoring device.
#[derive(Debug)]
pub struct Model {
    pub spec: ModelSpec,
    pub layers: Vec<Layer>,
}

impl Drop for Model {
    fn drop(&mut self) {
        bind_device_to_thread();
    }
}

impl Model {
    /// Checks that the spec and the weights agree with each other.
    pub fn new(spec: ModelSpec, tensors: HashMap<String, Tensor>) -> Result<Self, MlError> {
        if spec.format != FORMAT {
            return Err(MlError::invalid(format!(
                "model.json has format \"{}\"; this Quiver reads \"{FORMAT}\"",
                spec.format
            )));
        }
        if spec.features.is_empty() {
            return Err(MlError::invalid("model.json lists no features"));
        }
        if spec.model_type.is_classifier() && spec.classes.len() < 2 {
            return Err(MlError::invalid(
                "a classifier's model.json must list at least two classes",
            ));
        }
        for feature in &spec.features {
            match feature.kind {
                FeatureKind::Numeric => {
                    let (Some(mean), Some(std)) = (feature.mean, feature.std) else {
                        return Err(MlError::invalid(format!(
                            "numeric feature \"{}\" needs a mean and a std in model.json",
                            feature.name
                        )));
                    };
                    if !mean.is_finite() || !std.is_finite() || std <= 0.0 {
                        return Err(MlError::invalid(format!(
                            "feature \"{}\" has mean {mean} and std {std}; std must be > 0",
                            feature.name
                        )));
                    }
                }
                FeatureKind::Categorical => {
                    if feature.categories.as_ref().is_none_or(Vec::is_empty) {
                        return Err(MlError::invalid(format!(
                            "categorical feature \"{}\" needs its categories in model.json",
                            feature.name
                        )));
                    }
                }
            }
        }
        let device = device();
        let mut width = spec.input_width();
        let mut layers = Vec::with_capacity(spec.layers.len());
        for layer in &spec.layers {
            let fetch = |name: &str| {
                tensors.get(name).cloned().ok_or_else(|| {
                    MlError::invalid(format!("model.safetensors has no tensor \"{name}\""))
                })
            };
            let weight = fetch(&layer.weight)?.to_dtype(DType::F64)?;
            let bias = fetch(&layer.bias)?.to_dtype(DType::F64)?;
            let (out, input) = weight.dims2().map_err(|_| {
                MlError::invalid(format!(
                    "tensor \"{}\" must be two-dimensional (out, in)",
                    layer.weight
                ))
            })?;
            if input != width || bias.dims() != [out] {
                return Err(MlError::invalid(format!(
                    "layer \"{}\" is {out}×{input} with bias {:?}, but its input has width {width}",
                    layer.weight,
                    bias.dims()
                )));
            }
            width = out;
            layers.push(Layer {
                weight_t: weight.t()?.contiguous()?.to_device(&device)?,
                bias: bias.to_device(&device)?,
                activation: layer.activation,
            });
        }
        if layers.is_empty() || width != spec.output_width() {
            return Err(MlError::invalid(format!(
                "the layers end in {width} outputs; a {} with {} classes needs {}",
                spec.model_type.name(),
                spec.classes.len(),
                spec.output_width()
            )));
        }
        Ok(Self { spec, layers })
    }

    /// Reads a model directory, checking its files against the expected SHA-256 digests.
    pub fn load(dir: &Path, expected: Option<&ArtifactDigests>) -> Result<Self, MlError> {
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| {
                MlError::invalid(format!("cannot read {}: {e}", dir.join(name).display()))
            })
        };
        let spec_bytes = read(SPEC_FILE)?;
        let weight_bytes = read(WEIGHTS_FILE)?;
        let digests = ArtifactDigests::of(&spec_bytes, &weight_bytes);
        if let Some(expected) = expected
            && *expected != digests
        {
            return Err(MlError::Corrupted(format!(
                "the artifact in {} does not match its registered SHA-256 (expected {}, found \
                 {}); it was changed or damaged after registration, so it will not be used",
                dir.display(),
                expected.weights,
                digests.weights
            )));
        }
        let spec: ModelSpec = serde_json::from_slice(&spec_bytes)
            .map_err(|e| MlError::invalid(format!("model.json is not valid: {e}")))?;
        let tensors = candle_core::safetensors::load_buffer(&weight_bytes, &Device::Cpu)
            .map_err(|e| MlError::invalid(format!("model.safetensors is not valid: {e}")))?;
        Self::new(spec, tensors)
    }

    /// Writes the model's files into `dir` and returns their digests.
    pub fn save(
        spec: &ModelSpec,
        tensors: &HashMap<String, Tensor>,
        dir: &Path,
    ) -> Result<ArtifactDigests, MlError> {
        std::fs::create_dir_all(dir)?;
        let weights_path = dir.join(WEIGHTS_FILE);
        candle_core::safetensors::save(tensors, &weights_path)?;
        let spec_bytes = serde_json::to_vec_pretty(spec)
            .map_err(|e| MlError::invalid(format!("cannot write model.json: {e}")))?;
        std::fs::write(dir.join(SPEC_FILE), &spec_bytes)?;
        let weight_bytes = std::fs::read(&weights_path)?;
        // Both files must reach the disk before the registry points at them.
        for name in [SPEC_FILE, WEIGHTS_FILE] {
            std::fs::File::open(dir.join(name))?.sync_all()?;
        }
        Ok(ArtifactDigests::of(&spec_bytes, &weight_bytes))
    }

    /// Runs the layers over `inputs`, a column-major (input width × rows) matrix, and returns
    /// the raw outputs row-major (rows × output width): class probabilities for classifiers.
    pub fn forward(&self, inputs: Vec<f64>, rows: usize) -> Result<Vec<f64>, MlError> {
        let width = self.spec.input_width();
        let device = &self.layers[0].weight_t.device().clone();
        // Column-major input is the transpose of a row-major (width, rows) tensor: candle's
        // matmul takes the strided view as it is, so no row is touched one at a time.
        let mut x = Tensor::from_vec(inputs, (width, rows), device)?.t()?;
        for layer in &self.layers {
            x = x.matmul(&layer.weight_t)?.broadcast_add(&layer.bias)?;
            x = match layer.activation {
                Activation::Identity => x,
                Activation::Relu => x.relu()?,
                Activation::Tanh => x.tanh()?,
                Activation::Sigmoid => candle_nn::ops::sigmoid(&x)?,
            };
        }
        if self.spec.model_type.is_classifier() {
            x = if self.spec.classes.len() == 2 {
                candle_nn::ops::sigmoid(&x)?
            } else {
                candle_nn::ops::softmax_last_dim(&x)?
            };
        }
        Ok(x.flatten_all()?.to_device(&Device::Cpu)?.to_vec1::<f64>()?)
    }
}

/// SHA-256 of a model's two files, as the registry records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactDigests {
    pub weights: String,
    pub spec: String,
}

impl ArtifactDigests {
    pub fn of(spec: &[u8], weights: &[u8]) -> Self {
        let hex = |bytes: &[u8]| {
            Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        Self {
            weights: hex(weights),
            spec: hex(spec),
        }
    }
}
