//! Rotations toward non-Gaussian directions: orthogonal independent component analysis.
//!
//! After a marginal step every coordinate is Gaussian, so a rotation removes total
//! correlation exactly to the extent that it makes the rotated marginals non-Gaussian
//! (the joint entropy is fixed; marginal entropies fall below the Gaussian bound by
//! their negentropy). PCA only sees second moments; once the data are decorrelated it
//! finds nothing, although rotated uniforms, mixed heavy-tailed sources or the banana
//! still hide dependence. This rotation first takes the principal axes and whitens,
//! then runs symmetric FastICA (log-cosh contrast, Hyvärinen 1999), which seeks the
//! orthogonal matrix maximizing the summed negentropy of the components.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::bijector::par_forward;

use super::pca::fit_pca;
use super::{check_rank, FitRotation, Rotation};
use crate::error::Result;
use crate::numeric::{from_nalgebra, to_nalgebra, CHUNK};

/// Iteration cap of the unmixing's FastICA, run once per fit: FastICA converges in
/// under ten steps when there is structure to find, and this one run is where most of
/// the linear structure is found.
pub(crate) const UNMIXING_MAX_ITER: usize = 30;
/// Iteration cap of a layer's FastICA. On nearly Gaussian data FastICA wanders, and more
/// steps would only fit noise; most layers' runs do (on the Beyond-Normal suite, 1,768
/// of 2,614 ran to a cap of 30). Capping them at 15 roughly halved the time of the
/// larger suite tasks, moved the suite's mean |error| from 0.075 to 0.072 (n = 5000,
/// 3 seeds) and no information-suite task beyond its seed-to-seed noise; MAGIC's
/// held-out density fell by 0.014 nats while its `fit_density` time fell from 36 s
/// to 23 s. (Capping the unmixing's run too cost MAGIC 0.04 nats and the Student-t
/// density task 0.02: keep that one.)
const ICA_MAX_ITER: usize = 15;
/// The cap for a layer's rotation of two-dimensional data, a single angle. On the 2-D
/// density tasks nearly every layer's FastICA wandered to the cap of 30 (nine in ten
/// on the checkerboard): near-Gaussian data leave the angle undetermined. Stopping at
/// 12 moved no held-out score of the density bench by more than 0.001 nats and took a
/// third off `fit_density`'s time there; in more dimensions the same cap cost the
/// larger tasks 0.01–0.02 nats.
const PLANE_MAX_ITER: usize = 12;
/// FastICA sees at most this many samples (an evenly strided subset): a d × d rotation
/// is well determined by them, and larger data would only slow every step.
const MAX_SAMPLES: usize = 16_384;
const TOL: f64 = 1e-5;

/// `(W Wᵀ)^(-1/2) W`, the orthogonal matrix closest to `W`, as the polar factor `U Vᵀ`
/// of the SVD `W = U Σ Vᵀ`: accurate to rounding even when `W` is ill-conditioned.
fn symmetric_orthogonalize(w: &Array2<f64>) -> Array2<f64> {
    let svd = to_nalgebra(w.view()).svd(true, true);
    from_nalgebra(&(svd.u.expect("requested") * svd.v_t.expect("requested")))
}

/// The samples (columns) of `z` FastICA looks at: at most [`MAX_SAMPLES`], evenly
/// strided. Taking it twice changes nothing.
pub(crate) fn fastica_subsample(z: ArrayView2<'_, f64>) -> ArrayView2<'_, f64> {
    let stride = z.ncols().div_ceil(MAX_SAMPLES).max(1);
    z.slice_move(ndarray::s![.., ..;stride])
}

/// `tanh` through one `exp`: `sign(x)(1 − 2/(e^{2|x|} + 1))`, within 2e-16 absolute of
/// `f64::tanh` (which goes through `expm1` and cost half of an ICA fit). FastICA only
/// needs the contrast's derivative to absolute precision.
#[inline]
fn tanh(x: f64) -> f64 {
    let t = 1.0 - 2.0 / ((2.0 * x.abs()).exp() + 1.0);
    t.copysign(x)
}

/// One FastICA fixed-point step on whitened `z` (d × n): `E[g(Wz) zᵀ] − diag(E[g'(Wz)]) W`.
fn fastica_step(w: &Array2<f64>, z: ArrayView2<'_, f64>) -> Array2<f64> {
    let (d, n) = z.dim();
    let partials: Vec<(Array2<f64>, Array1<f64>)> = z
        .axis_chunks_iter(Axis(1), CHUNK)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|c| {
            let mut g = w.dot(&c);
            g.mapv_inplace(tanh);
            let gp = g.map_axis(Axis(1), |row| row.iter().map(|t| 1.0 - t * t).sum::<f64>());
            (g.dot(&c.t()), gp)
        })
        .collect();
    let mut gz = Array2::<f64>::zeros((d, d));
    let mut gp = Array1::<f64>::zeros(d);
    for (a, b) in &partials {
        gz += a;
        gp += b;
    }
    let nf = n as f64;
    let mut out = gz / nf;
    for (mut row, (&g, wrow)) in out.axis_iter_mut(Axis(0)).zip(gp.iter().zip(w.rows())) {
        row.scaled_add(-g / nf, &wrow);
    }
    out
}

/// Symmetric FastICA on whitened `z` (d × n): the orthogonal `W` whose rows make `W z`
/// as non-Gaussian as the log-cosh contrast can tell. Starts from the identity, so the
/// result is deterministic.
pub(crate) fn fastica(z: ArrayView2<'_, f64>, max_iter: usize) -> Array2<f64> {
    let z = fastica_subsample(z);
    let mut w = Array2::<f64>::eye(z.nrows());
    for _ in 0..max_iter {
        let step = fastica_step(&w, z);
        if step.iter().any(|v| !v.is_finite()) {
            break; // overflowed moments: keep the last good rotation
        }
        let next = symmetric_orthogonalize(&step);
        // Converged when every new row is parallel to the old one.
        let change = next.rows().into_iter().zip(w.rows()).map(|(a, b)| 1.0 - a.dot(&b).abs()).fold(0.0, f64::max);
        w = next;
        if change < TOL {
            break;
        }
    }
    w
}

/// PCA, then, if the data are already decorrelated, orthogonal FastICA in the whitened
/// principal coordinates.
///
/// While the covariance still carries dependence (its Gaussian total correlation
/// `½ Σ ln C_ii − ½ ln det C` exceeds `gaussian_threshold`), the principal axes remove
/// it best, and an ICA rotation on top would mix axes of unequal variance and undo part
/// of that; the PCA rotation is returned. Otherwise the rotation is `U Vᵀ`: `V` the
/// principal axes, `U` the ICA rotation found on whitened data. It is orthogonal, so
/// the layer's log-determinant stays 0. Deterministic: FastICA starts from the identity.
///
/// Also returns the covariance eigenvalues, in decreasing order.
pub(crate) fn fit_ica(x: ArrayView2<'_, f64>, gaussian_threshold: f64) -> (Rotation, Array1<f64>) {
    let (pca, variances, gaussian_tc) = fit_pca(x);
    let d = x.nrows();
    if d < 2 || gaussian_tc > gaussian_threshold {
        return (pca, variances);
    }
    // z = Λ^(-1/2) Vᵀ (x − μ): principal coordinates scaled to unit variance.
    let mut z = fastica_subsample(x).to_owned();
    par_forward(&pca, z.view_mut(), None);
    for (mut row, &lambda) in z.axis_iter_mut(Axis(0)).zip(&variances) {
        row /= lambda.sqrt();
    }
    let w = fastica(z.view(), if d == 2 { PLANE_MAX_ITER } else { ICA_MAX_ITER });
    let combined = w.dot(&pca.w);
    let rotation = Rotation::new(combined, pca.mean.clone()).expect("product of orthogonal matrices");
    (rotation, variances)
}

/// Whether `n` samples in `d` dimensions are enough for ICA: FastICA estimates `d(d−1)/2`
/// angles from higher moments, and with few samples per dimension it finds spurious
/// non-Gaussian directions in noise faster than the null model can discount them. With
/// fewer, ICA mode behaves as PCA mode.
pub(crate) fn has_samples(n: usize, d: usize) -> bool {
    n >= 20 * d
}

/// Principal axes, then ICA when the covariance carries no dependence beyond
/// `gaussian_threshold` (see [`fit_ica`]).
pub(crate) struct IcaFit {
    pub(crate) gaussian_threshold: f64,
}

impl FitRotation for IcaFit {
    fn fit(&self, x: ArrayView2<'_, f64>, layer: usize) -> Result<Rotation> {
        let (rotation, variances) = fit_ica(x, self.gaussian_threshold);
        check_rank(&variances, layer)?;
        Ok(rotation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_within_rounding_of_std() {
        for i in -4000..=4000 {
            let x = i as f64 * 0.01 + 1e-3;
            assert!((tanh(x) - x.tanh()).abs() <= 4e-16, "{x}: {} vs {}", tanh(x), x.tanh());
        }
        assert_eq!((tanh(800.0), tanh(-800.0), tanh(0.0)), (1.0, -1.0, 0.0));
    }
}
