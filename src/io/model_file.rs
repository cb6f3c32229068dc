//! The model file: a fixed header, then the model encoded with bincode.
//!
//! ```text
//! offset  size  field
//! 0       8     magic b"RBIGMODL"
//! 8       4     format version (u32, little endian)
//! 12      8     payload length in bytes (u64, little endian)
//! 20      4     CRC-32 of the payload (u32, little endian)
//! 24      ...   payload: bincode 2 (standard config) of the model through serde
//! ```
//!
//! Version 2 added the density options to the parameters (validation, shrinkage) and the
//! held-out score to the model; version 1 files are still read, as models fitted with
//! neither. Version 3 has version 2's layout but lets an unmixing step end in a
//! non-orthogonal matrix (the maximum-likelihood refinement of ICA mode): version 2
//! files read unchanged, and a build that predates refinements refuses a version-3 file
//! by its version instead of by a puzzling validation error.
//!
//! All encoding lives here, behind the version number, so the payload encoding can
//! change (bincode is unmaintained) without breaking saved models. Loading checks every
//! field before decoding, and the decoded model is validated (monotone knots, orthogonal
//! rotations, consistent dimensions), so a damaged file gives an error, never a panic or
//! a model that computes garbage.

use std::fs;
use std::path::Path;

use serde::Deserialize;

use crate::error::{RbigError, Result};
use crate::marginal::Knots;
use crate::model::{Layer, LayerDiagnostics, Rbig};
use crate::params::RbigValidParams;
use crate::rotation::{Radial, RotationKind, Unmixing};

const MAGIC: &[u8; 8] = b"RBIGMODL";
/// The model-file format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 3;
const HEADER_LEN: usize = 24;

fn config() -> impl bincode::config::Config {
    // A generous cap on what a length prefix may claim, so a hostile file cannot ask for
    // an absurd allocation.
    bincode::config::standard().with_limit::<{ 1 << 32 }>()
}

/// Encodes a model as the bytes of a model file.
pub(crate) fn to_bytes(model: &Rbig) -> Vec<u8> {
    let payload = bincode::serde::encode_to_vec(model, config()).expect("encoding into memory cannot fail");
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Decodes the bytes of a model file.
pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Rbig> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(RbigError::NotAModel);
    }
    if bytes.len() < HEADER_LEN {
        return Err(RbigError::CorruptModel(format!("truncated header: {} of {HEADER_LEN} bytes", bytes.len())));
    }
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let version = word(8);
    if !(1..=FORMAT_VERSION).contains(&version) {
        return Err(RbigError::UnsupportedVersion { found: version, supported: FORMAT_VERSION });
    }
    let declared = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let payload = &bytes[HEADER_LEN..];
    if declared != payload.len() as u64 {
        return Err(RbigError::CorruptModel(format!(
            "payload is {} bytes but the header declares {declared} (truncated or padded file)",
            payload.len()
        )));
    }
    if crc32fast::hash(payload) != word(20) {
        return Err(RbigError::CorruptModel("checksum mismatch: the file was damaged".into()));
    }
    let decoded = if version == 1 {
        bincode::serde::decode_from_slice::<RbigV1, _>(payload, config()).map(|(m, used)| (m.into(), used))
    } else {
        bincode::serde::decode_from_slice(payload, config())
    };
    let (model, used): (Rbig, usize) =
        decoded.map_err(|e| RbigError::CorruptModel(format!("cannot decode the model: {e}")))?;
    if used != payload.len() {
        return Err(RbigError::CorruptModel(format!("{} trailing bytes after the model", payload.len() - used)));
    }
    model.validate().map_err(RbigError::CorruptModel)?;
    Ok(model)
}

/// Format 1: parameters without the density options (validation, shrinkage), and no
/// held-out score. Still read, as a model fitted with neither.
#[derive(Deserialize)]
struct ParamsV1 {
    rotation: RotationKind,
    max_layers: usize,
    patience: usize,
    significance: f64,
    knots: Knots,
    seed: u64,
}

#[derive(Deserialize)]
struct RbigV1 {
    dim: usize,
    n_train: usize,
    params: ParamsV1,
    unmixing: Vec<Unmixing>,
    radial: Option<Radial>,
    pre_tc: f64,
    layers: Vec<Layer>,
    diagnostics: Vec<LayerDiagnostics>,
    marginal_entropies: Vec<f64>,
}

impl From<RbigV1> for Rbig {
    fn from(m: RbigV1) -> Self {
        let p = m.params;
        Rbig {
            dim: m.dim,
            n_train: m.n_train,
            params: RbigValidParams {
                rotation: p.rotation,
                max_layers: p.max_layers,
                patience: p.patience,
                significance: p.significance,
                knots: p.knots,
                seed: p.seed,
                validation: None,
                shrinkage: 1.0,
                memory_limit: None,
            },
            unmixing: m.unmixing,
            radial: m.radial,
            pre_tc: m.pre_tc,
            layers: m.layers,
            diagnostics: m.diagnostics,
            marginal_entropies: m.marginal_entropies,
            held_out_log_likelihood: None,
        }
    }
}

/// Reads a model file.
pub(crate) fn read(path: &Path) -> Result<Rbig> {
    let bytes = fs::read(path).map_err(|source| RbigError::Io { path: path.to_path_buf(), source })?;
    from_bytes(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksummed_but_inconsistent_models_are_rejected() {
        // Strongly dependent columns, so the model has a rotating layer.
        let x = ndarray::Array2::from_shape_fn((300, 2), |(i, j)| {
            let t = (i as f64 * 0.37).sin();
            if j == 0 {
                t
            } else {
                t + 0.1 * (i as f64 * 1.3).cos()
            }
        });
        assert!(Rbig::fit(&x).unwrap().n_layers() > 1);
        let model = Rbig::fit(&x).unwrap();
        let mut wrong_dim = model.clone();
        wrong_dim.dim = 3;
        let mut no_layers = model.clone();
        no_layers.layers.clear();
        no_layers.diagnostics.clear();
        let mut bad_params = model.clone();
        bad_params.params.patience = 0;
        let mut rotating_last = model.clone();
        let first_rotation = rotating_last.layers[0].rotation.clone();
        rotating_last.layers.last_mut().unwrap().rotation = first_rotation;
        for (name, m) in [("dim", wrong_dim), ("layers", no_layers), ("params", bad_params), ("last", rotating_last)] {
            assert!(matches!(from_bytes(&to_bytes(&m)), Err(RbigError::CorruptModel(_))), "{name}");
        }
        assert_eq!(from_bytes(&to_bytes(&model)).unwrap(), model);
    }
}
