//! Rotations: orthogonal maps `y ↦ W (y − μ)` between the marginal steps.
//!
//! Orthogonal maps leave the joint entropy unchanged (`ln |det W| = 0`), so all the
//! change in total correlation a layer makes is visible in the marginal entropies.
//!
//! Each kind is fitted through [`FitRotation`]; the fitting loop asks
//! [`RotationKind::fitter`] for one and never names a concrete rotation. A new rotation
//! is a new file implementing the trait, a variant of [`RotationKind`] and its arms in
//! the two methods below.

mod ica;
mod pca;
mod random;

pub(crate) use ica::{fastica, fastica_subsample, UNMIXING_MAX_ITER};
pub(crate) use pca::fit_pca;

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2};
use serde::{Deserialize, Serialize};

use crate::bijector::Bijector;
use crate::error::{RbigError, Result};
use crate::numeric::{apply_affine, full_rank};

/// Which rotation each layer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum RotationKind {
    /// Principal axes of the Gaussianized data (centred, not whitened). Deterministic.
    #[cfg_attr(feature = "cli", value(help = "Principal axes: fewest layers on nearly Gaussian data"))]
    Pca,
    /// A Haar-distributed random orthogonal matrix, drawn from the seed and layer index.
    #[cfg_attr(feature = "cli", value(help = "Haar-random orthogonal matrices, seeded"))]
    Random,
    /// Principal axes, then orthogonal ICA (FastICA) in the whitened principal
    /// coordinates: the rotation that makes the marginals as non-Gaussian as it can,
    /// which is what removes total correlation. Finds dependence PCA cannot see (mixed
    /// non-Gaussian sources, rotated uniforms), at a few dozen passes over the data per
    /// layer. Before the layers, a linear unmixing (whitening, then FastICA, then a
    /// non-orthogonal maximum-likelihood refinement when the unmixed components are
    /// non-Gaussian) and a radial Gaussianization, each kept only if it removes
    /// significant total correlation. Deterministic. Needs at least 20 samples per
    /// dimension; with fewer, it behaves as [`RotationKind::Pca`].
    #[cfg_attr(
        feature = "cli",
        value(help = "Linear unmixing, radial Gaussianization, then ICA rotations: the most accurate \
                      for information measures, slower")
    )]
    Ica,
}

impl RotationKind {
    /// The rotation fitter of this kind, for layers of `n` samples in `d` dimensions.
    /// `gaussian_threshold` is the Gaussian total correlation of a layer's covariance
    /// beyond which ICA defers to the principal axes; `seed` draws random rotations.
    pub(crate) fn fitter(self, n: usize, d: usize, gaussian_threshold: f64, seed: u64) -> Box<dyn FitRotation> {
        match self {
            RotationKind::Ica if ica::has_samples(n, d) => Box::new(ica::IcaFit { gaussian_threshold }),
            RotationKind::Pca | RotationKind::Ica => Box::new(pca::PcaFit),
            RotationKind::Random => Box::new(random::RandomFit { seed }),
        }
    }

    /// Whether fits of this kind start with the steps before the layers (a linear
    /// unmixing, its refinement, a radial Gaussianization) when `n` samples in `d`
    /// dimensions allow it (see [`RotationKind::Ica`]).
    pub(crate) fn has_pre_steps(self, n: usize, d: usize) -> bool {
        self == RotationKind::Ica && d > 1 && ica::has_samples(n, d)
    }

    /// Whether information estimates with this kind treat the linear unmixing as part of
    /// the model (mutual information as a difference of total correlations).
    pub(crate) fn unmixes(self) -> bool {
        self == RotationKind::Ica
    }

    /// Mean and variance of the variance part of a layer's reduction,
    /// `½ Σ ln var(before) − ½ Σ ln var(after)`, on independent Gaussian data of `n`
    /// samples in `d` dimensions: for PCA (and whitening) it is −½ ln det of a sample
    /// correlation matrix, ≈ ½ Σ_{i<j} r_ij² with r_ij² ~ χ²₁/n; for a random rotation
    /// only second-order terms survive.
    pub(crate) fn variance_null(self, n: usize, d: usize) -> (f64, f64) {
        let (nf, df) = (n as f64, d as f64);
        match self {
            RotationKind::Pca | RotationKind::Ica => (df * (df - 1.0) / (4.0 * nf), df * (df - 1.0) / (4.0 * nf * nf)),
            RotationKind::Random => ((df - 1.0) / (2.0 * nf), 0.5 * (df - 1.0).powi(2) / (df * nf * nf)),
        }
    }
}

/// The fit side of a rotation.
pub(crate) trait FitRotation {
    /// Fits layer `layer`'s rotation to the Gaussianized `d × n` block `x`.
    ///
    /// # Errors
    /// [`RbigError::Degenerate`] when `x` lies on a subspace (its covariance is
    /// singular): exactly collinear columns, where no density exists.
    fn fit(&self, x: ArrayView2<'_, f64>, layer: usize) -> Result<Rotation>;
}

/// Rejects a layer whose covariance eigenvalues (in decreasing order) are those of data
/// on a subspace.
fn check_rank(variances: &Array1<f64>, layer: usize) -> Result<()> {
    if full_rank(variances) {
        Ok(())
    } else {
        Err(RbigError::Degenerate { layer })
    }
}

/// A fitted rotation `y ↦ W (y − μ)` with orthogonal `W`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RotationParts", into = "RotationParts")]
pub(crate) struct Rotation {
    w: Array2<f64>,
    mean: Array1<f64>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct RotationParts {
    w: Array2<f64>,
    mean: Array1<f64>,
}

impl TryFrom<RotationParts> for Rotation {
    type Error = String;
    fn try_from(p: RotationParts) -> std::result::Result<Self, String> {
        Rotation::new(p.w, p.mean)
    }
}

impl From<Rotation> for RotationParts {
    fn from(r: Rotation) -> Self {
        RotationParts { w: r.w, mean: r.mean }
    }
}

impl Rotation {
    /// Checks that `w` is square, orthogonal to 1e-9, and matches `mean`.
    pub(crate) fn new(w: Array2<f64>, mean: Array1<f64>) -> std::result::Result<Self, String> {
        let d = mean.len();
        if w.dim() != (d, d) {
            return Err(format!("rotation matrix is {:?}, expected {d}x{d}", w.dim()));
        }
        if w.iter().chain(mean.iter()).any(|v| !v.is_finite()) {
            return Err("rotation has non-finite entries".into());
        }
        let gram = w.dot(&w.t());
        let off = gram.indexed_iter().map(|((i, j), g)| (g - if i == j { 1.0 } else { 0.0 }).abs()).fold(0.0, f64::max);
        if off > 1e-9 {
            return Err(format!("rotation matrix is not orthogonal (|WWᵀ − I| = {off:e})"));
        }
        Ok(Self { w, mean })
    }
}

impl Bijector for Rotation {
    fn dim(&self) -> usize {
        self.mean.len()
    }

    fn forward(&self, x: ArrayViewMut2<'_, f64>, _log_det: Option<ArrayViewMut1<'_, f64>>) {
        // Orthogonal: ln |det W| = 0, nothing to add.
        apply_affine(self.w.view(), x, Some(&self.mean), None);
    }

    fn inverse(&self, z: ArrayViewMut2<'_, f64>) {
        apply_affine(self.w.t(), z, None, Some(&self.mean));
    }
}
