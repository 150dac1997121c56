//! `CREATE [OR REPLACE] MODEL name FROM 'path'`: registering a model trained elsewhere, given
//! as a directory in Quiver's format (`model.json` + `model.safetensors`).

use std::path::Path;

use chrono::Utc;

use super::Ml;
use super::MlError;
use super::model::{ArtifactDigests, Model, SPEC_FILE, WEIGHTS_FILE};
use super::registry::VersionRecord;

/// Checks the model loads and is consistent, copies its files into the registry, and registers
/// it. Returns the new version.
pub async fn import_model(
    ml: &Ml,
    name: &str,
    or_replace: bool,
    path: &str,
    actor: &str,
) -> Result<i64, MlError> {
    if !or_replace && ml.registry.exists(name) {
        return Err(MlError::DuplicateModel(format!(
            "model \"{name}\" already exists; CREATE OR REPLACE MODEL adds a new version"
        )));
    }
    let source = Path::new(path);
    let model = Model::load(source, None)?;
    let _change = ml.registry.lock().await;
    let version = ml.registry.next_version(name);
    let target = ml.registry.artifact_dir(name, version);
    std::fs::create_dir_all(&target)?;
    for file in [SPEC_FILE, WEIGHTS_FILE] {
        std::fs::copy(source.join(file), target.join(file))?;
        std::fs::File::open(target.join(file))?.sync_all()?;
    }
    // The copy is what will be served: its digests are the ones recorded.
    let digests = ArtifactDigests::of(
        &std::fs::read(target.join(SPEC_FILE))?,
        &std::fs::read(target.join(WEIGHTS_FILE))?,
    );
    Model::load(&target, Some(&digests))?;
    ml.registry
        .register(VersionRecord {
            model: name.to_string(),
            version,
            model_type: model.spec.model_type,
            label: model.spec.label.name.clone(),
            features: model
                .spec
                .features
                .iter()
                .map(|f| (f.name.clone(), f.value_type))
                .collect(),
            options: String::new(),
            metrics: Default::default(),
            run_id: None,
            created_at: Utc::now(),
            created_by: actor.to_string(),
            digests,
            profile: Vec::new(),
            training_rows: 0,
            source: format!("imported from {path}"),
        })
        .await?;
    Ok(version)
}
