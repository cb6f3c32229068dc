//! Python keyword arguments to the library's parameter builder.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use pyo3::prelude::*;
use rbig::{information::Units, Knots, MixtureStart, Rbig, RbigError, RbigParams, RotationKind, Whitening};

/// The knot rule as Python passes it: `"auto"`, `"smooth"` or a count.
#[derive(FromPyObject)]
pub(crate) enum KnotsArg {
    Count(usize),
    Name(String),
}

fn invalid(name: &'static str, reason: String) -> RbigError {
    RbigError::InvalidParameter { name, reason }
}

impl KnotsArg {
    fn knots(&self) -> Result<Knots, RbigError> {
        match self {
            KnotsArg::Count(k) => Ok(Knots::Fixed(*k)),
            KnotsArg::Name(name) => match name.as_str() {
                "auto" => Ok(Knots::Auto),
                "smooth" => Ok(Knots::Smooth),
                other => Err(invalid("knots", format!("{other:?} is not 'auto', 'smooth' or a number of knots"))),
            },
        }
    }
}

/// The mixture start as Python passes it: `"bic"` or a number of components.
#[derive(FromPyObject)]
pub(crate) enum MixtureArg {
    Count(usize),
    Name(String),
}

impl MixtureArg {
    fn mixture(&self) -> Result<MixtureStart, RbigError> {
        match self {
            MixtureArg::Count(k) => Ok(MixtureStart::Components(*k)),
            MixtureArg::Name(name) if name == "bic" => Ok(MixtureStart::Bic),
            MixtureArg::Name(other) => {
                Err(invalid("mixture", format!("{other:?} is not 'bic', a number of components or None")))
            }
        }
    }
}

pub(crate) fn rotation(name: &str) -> Result<RotationKind, RbigError> {
    match name {
        "pca" => Ok(RotationKind::Pca),
        "random" => Ok(RotationKind::Random),
        "ica" => Ok(RotationKind::Ica),
        other => Err(invalid("rotation", format!("{other:?} is not 'pca', 'random' or 'ica'"))),
    }
}

pub(crate) fn units(name: &str) -> Result<Units, RbigError> {
    match name {
        "nats" => Ok(Units::Nats),
        "bits" => Ok(Units::Bits),
        other => Err(invalid("units", format!("{other:?} is not 'nats' or 'bits'"))),
    }
}

/// The parameters every fit takes from Python.
pub(crate) struct FitArgs {
    pub(crate) rotation: String,
    pub(crate) max_layers: Option<usize>,
    pub(crate) knots: KnotsArg,
    pub(crate) seed: u64,
    /// `None` lets the fit choose ([`Whitening::Auto`]).
    pub(crate) whiten: Option<bool>,
    /// `None` for no mixture start.
    pub(crate) mixture: Option<MixtureArg>,
}

impl FitArgs {
    /// The builder for these arguments, guarded like the command-line tool: a fit that
    /// needs more memory than is left fails with `MemoryLimit` instead of ending the
    /// interpreter.
    pub(crate) fn builder(&self, cancel: Arc<AtomicBool>) -> Result<RbigParams, RbigError> {
        let whitening = match self.whiten {
            None => Whitening::Auto,
            Some(true) => Whitening::Always,
            Some(false) => Whitening::Never,
        };
        let mixture = self.mixture.as_ref().map(MixtureArg::mixture).transpose()?.unwrap_or_default();
        let p = Rbig::params()
            .rotation(rotation(&self.rotation)?)
            .knots(self.knots.knots()?)
            .whitening(whitening)
            .mixture(mixture);
        Ok(adjusted(p, self.max_layers, self.seed, cancel))
    }
}

/// `p` with the run's layer bound, seed, cancel flag and memory guard (what the
/// command-line tool sets on every fit, density candidates included).
pub(crate) fn adjusted(mut p: RbigParams, max_layers: Option<usize>, seed: u64, cancel: Arc<AtomicBool>) -> RbigParams {
    p = p.seed(seed).cancel_flag(cancel);
    if let Some(m) = max_layers {
        p = p.max_layers(m);
    }
    match rbig::io::available_memory() {
        Some(limit) => p.memory_limit(limit),
        None => p,
    }
}
