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
//! by its version instead of by a puzzling validation error. Version 4 appends the
//! bin widths the training data were dequantized with (`None` for continuous data), so
//! scoring discrete data needs no pasted list; versions 1 to 3 read as models of
//! continuous data. Version 5 appends the annotations (column names, quantiles of the
//! training log-densities, the held-out score per depth, the whitening parameter);
//! older files read without them. Version 6 appends the Gaussian-mixture start
//! (`None` without one); older files read as models without it. Version 7 appends what
//! a refined unmixing was charged for overfitting (`None` without one); in older files
//! it was the Gaussian null, which a model read from them falls back to.
//!
//! All encoding lives here, behind the version number, so the payload encoding can
//! change (bincode is unmaintained) without breaking saved models. Loading checks every
//! field before decoding, and the decoded model is validated (monotone knots, orthogonal
//! rotations, consistent dimensions), so a damaged file gives an error, never a panic or
//! a model that computes garbage.

use std::fs;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Annotations, Layer, LayerDiagnostics, Rbig, Step};
use crate::error::{RbigError, Result};
use crate::io::io_error;
use crate::marginal::{Knots, MarginalGaussianizer};
use crate::params::RbigValidParams;
use crate::prestep::{Mixture, Radial, Unmixing};
use crate::rotation::{Rotation, RotationKind};

const MAGIC: &[u8; 8] = b"RBIGMODL";
/// The model-file format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 7;
const HEADER_LEN: usize = 24;

fn config() -> impl bincode::config::Config {
    // A generous cap on what a length prefix may claim, so a hostile file cannot ask for
    // an absurd allocation.
    bincode::config::standard().with_limit::<{ 1 << 32 }>()
}

/// Encodes a model as the bytes of a model file.
pub(crate) fn to_bytes(model: &Rbig) -> Vec<u8> {
    frame(bincode::serde::encode_to_vec(model, config()).expect("encoding into memory cannot fail"))
}

/// The header, then `payload`.
fn frame(payload: Vec<u8>) -> Vec<u8> {
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
    from_bytes_versioned(bytes).map(|(model, _)| model)
}

/// Decodes the bytes of a model file, with the format version they were written in.
fn from_bytes_versioned(bytes: &[u8]) -> Result<(Rbig, u32)> {
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
    let none = Annotations::default;
    let decoded = match version {
        1 => bincode::serde::decode_from_slice::<RbigV1, _>(payload, config())
            .map(|(m, used)| ((m.into(), None, none(), None, None), used)),
        2 | 3 => bincode::serde::decode_from_slice::<ModelV3, _>(payload, config())
            .map(|(m, used)| ((m, None, none(), None, None), used)),
        4 => bincode::serde::decode_from_slice::<ModelV4, _>(payload, config())
            .map(|((m, widths), used)| ((m, widths, none(), None, None), used)),
        5 => bincode::serde::decode_from_slice::<ModelV5, _>(payload, config())
            .map(|((m, widths, annotations), used)| ((m, widths, annotations, None, None), used)),
        6 => bincode::serde::decode_from_slice::<ModelV6, _>(payload, config())
            .map(|((m, widths, annotations, mixture), used)| ((m, widths, annotations, mixture, None), used)),
        _ => bincode::serde::decode_from_slice(payload, config()),
    };
    let (stored, used): (ModelV7, usize) =
        decoded.map_err(|e| RbigError::CorruptModel(format!("cannot decode the model: {e}")))?;
    if used != payload.len() {
        return Err(RbigError::CorruptModel(format!("{} trailing bytes after the model", payload.len() - used)));
    }
    Rbig::try_from(stored).map_err(RbigError::CorruptModel).map(|model| (model, version))
}

/// Format 4: format 3's model, then the dequantization widths.
type ModelV4 = (ModelV3, Option<Vec<f64>>);
/// Format 5: format 4's, then the annotations.
type ModelV5 = (ModelV3, Option<Vec<f64>>, Annotations);
/// Format 6: format 5's, then the mixture start.
type ModelV6 = (ModelV3, Option<Vec<f64>>, Annotations, Option<Mixture>);
/// Format 7: format 6's, then the refinement's charge.
type ModelV7 = (ModelV3, Option<Vec<f64>>, Annotations, Option<Mixture>, Option<f64>);

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
    layers: Vec<LayerV3>,
    diagnostics: Vec<LayerDiagnostics>,
    marginal_entropies: Vec<f64>,
}

impl From<RbigV1> for ModelV3 {
    fn from(m: RbigV1) -> Self {
        let p = m.params;
        ModelV3 {
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
                whitening: crate::Whitening::Never,
                mixture: crate::MixtureStart::Off,
                cancel: None,
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

/// A layer as the file stores it: every layer but the last rotates.
#[derive(Serialize, Deserialize)]
struct LayerV3<M = MarginalGaussianizer, R = Rotation> {
    marginal: M,
    rotation: Option<R>,
}

/// The model as formats 2 and 3 store it: the steps before the layers apart from the
/// layers, and the closing marginal step as a last layer without a rotation. The same
/// fields serve reading (owned) and writing (borrowed, so saving copies nothing).
#[derive(Serialize, Deserialize)]
struct ModelV3<U = Unmixing, Q = Radial, L = LayerV3, P = RbigValidParams> {
    dim: usize,
    n_train: usize,
    params: P,
    unmixing: Vec<U>,
    radial: Option<Q>,
    pre_tc: f64,
    layers: Vec<L>,
    diagnostics: Vec<LayerDiagnostics>,
    marginal_entropies: Vec<f64>,
    held_out_log_likelihood: Option<f64>,
}

impl Serialize for Rbig {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let layer = |marginal, rotation| LayerV3 { marginal, rotation };
        // `validate` keeps the steps before the layers first, so storing them apart keeps
        // the order.
        let stored: ModelV3<&Unmixing, &Radial, LayerV3<&MarginalGaussianizer, &Rotation>, &RbigValidParams> =
            ModelV3 {
                dim: self.dim,
                n_train: self.n_train,
                params: &self.params,
                unmixing: self.unmixings().collect(),
                radial: self.steps.iter().find_map(|s| if let Step::Radial(r) = s { Some(r) } else { None }),
                pre_tc: self.pre_tc,
                layers: self
                    .layers()
                    .map(|l| layer(&l.marginal, Some(&l.rotation)))
                    .chain([layer(&self.output, None)])
                    .collect(),
                diagnostics: self.diagnostics.clone(),
                marginal_entropies: self.marginal_entropies.clone(),
                held_out_log_likelihood: self.held_out_log_likelihood,
            };
        let mixture = match self.steps.first() {
            Some(Step::Mixture(m)) => Some(m),
            _ => None,
        };
        (stored, &self.dequantization, &self.annotations, mixture, self.refinement_charge).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Rbig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Rbig::try_from(ModelV7::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<ModelV7> for Rbig {
    type Error = String;

    /// The one list of steps from the stored layout, checked (see `Rbig::validate`).
    fn try_from(
        (mut m, dequantization, annotations, mixture, refinement_charge): ModelV7,
    ) -> std::result::Result<Self, String> {
        m.params = m.params.with_whitening(if annotations.whitened {
            crate::Whitening::Always
        } else {
            crate::Whitening::Never
        });
        let mut layers = m.layers;
        let Some(last) = layers.pop() else {
            return Err("the model has no layers".into());
        };
        if last.rotation.is_some() {
            return Err("only the last layer may lack a rotation".into());
        }
        let rotating = layers.into_iter().map(|l| match l.rotation {
            Some(rotation) => Ok(Step::Layer(Layer { marginal: l.marginal, rotation })),
            None => Err("only the last layer may lack a rotation".to_string()),
        });
        m.params.mixture =
            mixture.as_ref().map_or(crate::MixtureStart::Off, |m| crate::MixtureStart::Components(m.components()));
        let pre = mixture
            .map(Step::Mixture)
            .into_iter()
            .chain(m.unmixing.into_iter().map(Step::Unmixing))
            .chain(m.radial.map(Step::Radial))
            .map(Ok);
        let model = Rbig {
            dim: m.dim,
            n_train: m.n_train,
            params: m.params,
            steps: pre.chain(rotating).collect::<std::result::Result<_, _>>()?,
            output: last.marginal,
            pre_tc: m.pre_tc,
            refinement_charge,
            diagnostics: m.diagnostics,
            marginal_entropies: m.marginal_entropies,
            held_out_log_likelihood: m.held_out_log_likelihood,
            dequantization,
            annotations,
        };
        model.validate()?;
        Ok(model)
    }
}

/// Reads a model file, with the format version it was written in.
fn read(path: &Path) -> Result<(Rbig, u32)> {
    let io = |source| io_error(path, source);
    let mut file = fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    (&mut file).take(HEADER_LEN as u64).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() == HEADER_LEN && bytes.starts_with(MAGIC) {
        // What the header declares and one byte more (to tell a padded file), growing
        // as bytes arrive: never the whole of an endless or huge file.
        let declared = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        (&mut file).take(declared.saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
    }
    from_bytes_versioned(&bytes)
}

impl Rbig {
    /// Saves the model to `path`, refusing to replace an existing file
    /// ([`RbigError::FileExists`]). The file is written to a temporary name and moved
    /// into place, so an interrupted save never leaves a partial model behind.
    ///
    /// ```
    /// # let x = ndarray::Array2::from_shape_fn((200, 2), |(i, j)| ((i * (j + 3)) as f64 * 0.37).sin());
    /// let model = rbig::Rbig::fit(&x)?;
    /// let dir = std::env::temp_dir().join(format!("rbig-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("model.rbig");
    /// model.save(&path)?;
    /// assert!(model.save(&path).is_err()); // never overwritten without asking
    /// let loaded = rbig::Rbig::load(&path)?;
    /// assert_eq!(loaded.log_density(&x)?, model.log_density(&x)?);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::write_atomic(path.as_ref(), &self.to_bytes(), false)
    }

    /// Saves the model to `path`, atomically replacing any existing file.
    pub fn save_overwrite(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::write_atomic(path.as_ref(), &self.to_bytes(), true)
    }

    /// Loads a model saved by [`Rbig::save`].
    ///
    /// # Errors
    /// [`RbigError::NotAModel`] for a file from another program,
    /// [`RbigError::UnsupportedVersion`] for a newer format, [`RbigError::CorruptModel`]
    /// for a truncated or damaged file, [`RbigError::Io`] if it cannot be read.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        read(path.as_ref()).map(|(model, _)| model)
    }

    /// [`Rbig::load`], also returning the format version the file was written in (older
    /// formats are read as written; [`Rbig::save`] writes [`crate::FORMAT_VERSION`]).
    ///
    /// ```
    /// # let x = ndarray::Array2::from_shape_fn((200, 2), |(i, j)| ((i * (j + 3)) as f64 * 0.37).sin());
    /// let dir = std::env::temp_dir().join(format!("rbig-doc-version-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("model.rbig");
    /// rbig::Rbig::fit(&x)?.save(&path)?;
    /// let (_, version) = rbig::Rbig::load_with_format(&path)?;
    /// assert_eq!(version, rbig::FORMAT_VERSION);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Rbig::load`].
    pub fn load_with_format(path: impl AsRef<Path>) -> Result<(Self, u32)> {
        read(path.as_ref())
    }

    /// The model as the bytes of a model file (see [`Rbig::save`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(self)
    }

    /// Reads a model from the bytes of a model file, with the checks of [`Rbig::load`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        from_bytes(bytes)
    }
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
        let model = Rbig::fit(&x).unwrap();
        assert!(model.n_layers() > 1);
        let mut wrong_dim = model.clone();
        wrong_dim.dim = 3;
        let mut bad_params = model.clone();
        bad_params.params.patience = 0;
        let mut no_diagnostics = model.clone();
        no_diagnostics.diagnostics.clear();
        for (name, m) in [("dim", wrong_dim), ("params", bad_params), ("diagnostics", no_diagnostics)] {
            assert!(matches!(from_bytes(&to_bytes(&m)), Err(RbigError::CorruptModel(_))), "{name}");
        }
        // Layouts the one list of steps cannot hold: no layers, or a rotating last layer.
        let stored = || bincode::serde::decode_from_slice::<ModelV3, _>(&to_bytes(&model)[HEADER_LEN..], config());
        let mut no_layers = stored().unwrap().0;
        no_layers.layers.clear();
        let mut rotating_last = stored().unwrap().0;
        let first_rotation = rotating_last.layers[0].rotation.take();
        rotating_last.layers.last_mut().unwrap().rotation = first_rotation;
        for (name, m) in [("no layers", no_layers), ("rotating last", rotating_last)] {
            let bytes = frame(bincode::serde::encode_to_vec(&m, config()).unwrap());
            assert!(matches!(from_bytes(&bytes), Err(RbigError::CorruptModel(_))), "{name}");
        }
        assert_eq!(from_bytes(&to_bytes(&model)).unwrap(), model);
    }
}
