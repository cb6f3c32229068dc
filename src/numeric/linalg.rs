//! Glue between ndarray (the data) and nalgebra (the decompositions), and the affine
//! maps the linear steps apply.

use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis};

use super::{correlation, mean_and_covariance, row_magnitudes};

/// The nalgebra copy of a matrix.
pub(crate) fn to_nalgebra(m: ArrayView2<'_, f64>) -> DMatrix<f64> {
    DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)])
}

/// The ndarray copy of a matrix.
pub(crate) fn from_nalgebra(m: &DMatrix<f64>) -> Array2<f64> {
    Array2::from_shape_fn(m.shape(), |(i, j)| m[(i, j)])
}

/// Eigenvalues of the symmetric matrix `m` in decreasing order (ties by index), and
/// the matching eigenvectors as the rows of a matrix. nalgebra returns them unsorted,
/// each vector with an arbitrary sign.
pub(crate) fn descending_eigen(m: ArrayView2<'_, f64>) -> (Array1<f64>, Array2<f64>) {
    let d = m.nrows();
    let eig = SymmetricEigen::new(to_nalgebra(m));
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]).then(a.cmp(&b)));
    let values = Array1::from_iter(order.iter().map(|&k| eig.eigenvalues[k]));
    let vectors = Array2::from_shape_fn((d, d), |(r, c)| eig.eigenvectors[(c, order[r])]);
    (values, vectors)
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

/// Whether the rows of `x` (dimensions) are linearly dependent: the smallest
/// eigenvalue of their correlation matrix vanishes next to the largest. Such data lie on
/// a hyperplane, where no density exists; after the first (nonlinear) marginal step the
/// dependence would no longer be linear, and the fit would not see it.
pub(crate) fn linearly_dependent(x: ArrayView2<'_, f64>) -> bool {
    let d = x.nrows();
    if d < 2 {
        return false;
    }
    let (_, cov) = mean_and_covariance(x, Some(&row_magnitudes(x)));
    let corr = correlation(&cov);
    if corr.iter().any(|v| !v.is_finite()) {
        return false; // left to the per-column checks (constant or subnormal columns)
    }
    !full_rank(&descending_eigen(corr.view()).0)
}
