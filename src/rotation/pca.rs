//! Principal-axes rotation from the covariance of the Gaussianized data.

use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use super::Rotation;
use crate::marginal::CHUNK;

/// Mean and covariance (divided by `n`) of the rows of the `d × n` block `x`.
///
/// Column chunks of fixed size are reduced in a fixed order, so the result is the same
/// bit for bit whatever the number of threads.
pub(crate) fn mean_and_covariance(x: ArrayView2<'_, f64>) -> (Array1<f64>, Array2<f64>) {
    let (d, n) = x.dim();
    let mean = x.mean_axis(Axis(1)).expect("n >= 1");
    let partials: Vec<Array2<f64>> = x
        .axis_chunks_iter(Axis(1), CHUNK)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|c| {
            let mut centred = c.to_owned();
            for (mut row, &m) in centred.axis_iter_mut(Axis(0)).zip(&mean) {
                row -= m;
            }
            centred.dot(&centred.t())
        })
        .collect();
    let mut cov = Array2::<f64>::zeros((d, d));
    for p in &partials {
        cov += p;
    }
    cov /= n as f64;
    (mean, cov)
}

/// The rotation onto the principal axes of `x` (rows = dimensions), eigenvalues in
/// decreasing order, each axis signed so its largest component is positive.
///
/// Returns the rotation and the eigenvalues (the variances after rotating).
pub(crate) fn fit_pca(x: ArrayView2<'_, f64>) -> (Rotation, Array1<f64>) {
    let d = x.nrows();
    let (mean, cov) = mean_and_covariance(x);
    let eig = SymmetricEigen::new(DMatrix::from_fn(d, d, |i, j| cov[(i, j)]));
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]).then(a.cmp(&b)));
    let mut w = Array2::<f64>::zeros((d, d));
    let mut values = Array1::<f64>::zeros(d);
    for (r, &k) in order.iter().enumerate() {
        let v = eig.eigenvectors.column(k);
        let pivot = (0..d).max_by(|&a, &b| v[a].abs().total_cmp(&v[b].abs()).then(b.cmp(&a))).unwrap_or(0);
        let sign = if v[pivot] < 0.0 { -1.0 } else { 1.0 };
        for c in 0..d {
            w[(r, c)] = sign * v[c];
        }
        values[r] = eig.eigenvalues[k];
    }
    let rotation = Rotation::new(w, mean).expect("symmetric eigenvectors are orthonormal");
    (rotation, values)
}
