//! Principal-axes rotation from the covariance of the Gaussianized data.

use ndarray::{Array1, Array2, ArrayView2};

use super::{check_rank, FitRotation, Rotation};
use crate::error::Result;
use crate::numeric::{descending_eigen, mean_and_covariance};

/// The rotation onto the principal axes of `x` (rows = dimensions), eigenvalues in
/// decreasing order, each axis signed so its largest component is positive.
///
/// Returns the rotation, the eigenvalues (the variances after rotating), and the
/// Gaussian total correlation of the covariance, `½ Σ ln C_ii − ½ Σ ln λ_i`: what the
/// rotation removes from the variance part of the marginal entropies.
pub(crate) fn fit_pca(x: ArrayView2<'_, f64>) -> (Rotation, Array1<f64>, f64) {
    let d = x.nrows();
    let (mean, cov) = mean_and_covariance(x, None);
    if cov.iter().any(|v| !v.is_finite()) {
        // Overflowed moments (values near the float limits): report zero spread, which
        // the fit turns into an error, rather than decompose garbage.
        return (Rotation::new(Array2::eye(d), Array1::zeros(d)).expect("identity"), Array1::zeros(d), 0.0);
    }
    let (values, mut w) = descending_eigen(cov.view());
    for mut axis in w.rows_mut() {
        let pivot = (0..d).max_by(|&a, &b| axis[a].abs().total_cmp(&axis[b].abs()).then(b.cmp(&a))).unwrap_or(0);
        if axis[pivot] < 0.0 {
            axis.mapv_inplace(|v| -v);
        }
    }
    let gaussian_tc = 0.5 * (cov.diag().mapv(f64::ln).sum() - values.mapv(f64::ln).sum());
    let rotation = Rotation::new(w, mean).expect("symmetric eigenvectors are orthonormal");
    (rotation, values, gaussian_tc)
}

/// Principal axes: the rotation that removes the most Gaussian total correlation.
pub(crate) struct PcaFit;

impl FitRotation for PcaFit {
    fn fit(&self, x: ArrayView2<'_, f64>, layer: usize) -> Result<Rotation> {
        let (rotation, variances, _) = fit_pca(x);
        check_rank(&variances, layer)?;
        Ok(rotation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::prelude::*;
    use ndarray::Array2;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn agrees_with_linfa_reduction() {
        // Distinct variances so every axis is well defined.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let scales = [3.0, 2.0, 1.2, 0.7, 0.3];
        let mix = Array2::from_shape_fn((5, 5), |(i, j)| ((i * 5 + j) as f64 * 0.7).sin());
        let x = Array2::from_shape_fn((4000, 5), |(_, j)| {
            let g: f64 = StandardNormal.sample(&mut rng);
            scales[j] * g
        })
        .dot(&mix);
        let (ours, variances, _) = fit_pca(x.t());
        let theirs = linfa_reduction::Pca::params(5).fit(&DatasetBase::from(x.clone())).unwrap();
        let n = x.nrows() as f64;
        // linfa-reduction 0.8.1's LOBPCG returns only the leading components it
        // converged on (2 of the 5 asked for here); compare those.
        let returned = theirs.components().nrows();
        assert!(returned >= 2, "linfa-reduction returned {returned} components");
        for k in 0..returned {
            let cos = ours.w.row(k).dot(&theirs.components().row(k)).abs();
            assert!((cos - 1.0).abs() < 1e-8, "axis {k}: |cos| = {cos}");
            let lambda = theirs.singular_values()[k].powi(2) / n;
            assert!((variances[k] - lambda).abs() < 1e-8 * lambda, "eigenvalue {k}: {} vs {lambda}", variances[k]);
        }
        for (a, b) in ours.mean.iter().zip(theirs.mean()) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn eigenvalues_sorted_and_signs_fixed() {
        let x = Array2::from_shape_fn((3, 500), |(i, j)| ((j * (i + 2)) as f64 * 0.37).sin() * (i + 1) as f64);
        let (rot, values, _) = fit_pca(x.view());
        assert!(values.windows(2).into_iter().all(|w| w[0] >= w[1]));
        for row in rot.w.rows() {
            let pivot = row.iter().fold(0.0f64, |m, &v| if v.abs() > m.abs() { v } else { m });
            assert!(pivot > 0.0);
        }
    }
}
