//! Rotations: orthogonal maps `y ↦ W (y − μ)` between the marginal steps.
//!
//! Orthogonal maps leave the joint entropy unchanged (`ln |det W| = 0`), so all the
//! change in total correlation a layer makes is visible in the marginal entropies.

mod ica;
mod pca;
mod radial;
mod random;
mod refine;
mod unmixing;

pub(crate) use ica::fit_ica;
pub(crate) use pca::{fit_pca, linearly_dependent};
pub(crate) use radial::Radial;
pub(crate) use random::haar_random;
#[cfg(test)]
pub(crate) use refine::amari;
pub(crate) use refine::{clear_refine_null_cache, refine, refine_null};
pub(crate) use unmixing::Unmixing;

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};
use serde::{Deserialize, Serialize};

use crate::bijector::Bijector;

/// Which rotation each layer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RotationKind {
    /// Principal axes of the Gaussianized data (centred, not whitened). Deterministic.
    Pca,
    /// A Haar-distributed random orthogonal matrix, drawn from the seed and layer index.
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
    Ica,
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
    fn try_from(p: RotationParts) -> Result<Self, String> {
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
    pub(crate) fn new(w: Array2<f64>, mean: Array1<f64>) -> Result<Self, String> {
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

/// Whether covariance eigenvalues (in decreasing order) describe data that fill their
/// space. Rounding leaves ~1e-16 relative in an exactly zero eigenvalue; genuine but
/// tight relations (noise 1e-5 of the signal) sit around 1e-10.
pub(crate) fn full_rank(eigenvalues: &Array1<f64>) -> bool {
    let (largest, smallest) = (eigenvalues[0], eigenvalues[eigenvalues.len() - 1]);
    smallest > 1e-12 * largest
}

/// Applies `x ← m · (x − shift) + post` in place to the `d × n` block `x`.
pub(crate) fn apply_affine(
    m: ArrayView2<'_, f64>,
    mut x: ArrayViewMut2<'_, f64>,
    shift: Option<&Array1<f64>>,
    post: Option<&Array1<f64>>,
) {
    if let Some(mu) = shift {
        for (mut row, &m) in x.axis_iter_mut(Axis(0)).zip(mu) {
            row -= m;
        }
    }
    let mut out = m.dot(&x);
    if let Some(mu) = post {
        for (mut row, &m) in out.axis_iter_mut(Axis(0)).zip(mu) {
            row += m;
        }
    }
    x.assign(&out);
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
