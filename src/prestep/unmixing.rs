//! A linear unmixing layer placed before the first marginal step: standardize, whiten,
//! then rotate by ICA.
//!
//! RBIG Gaussianizes marginals before it rotates, so data that are a linear mixture of
//! independent non-Gaussian sources (the ICA model) have their linear structure bent by
//! the first marginal maps, and later layers recover it only slowly. Unmixing first
//! removes that dependence in one exact, invertible linear step.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};
use serde::{Deserialize, Serialize};

use crate::bijector::{par_forward, Bijector};
use crate::numeric::{
    apply_affine, correlation, descending_eigen, from_nalgebra, full_rank, mean_and_covariance, row_magnitudes,
    to_nalgebra,
};
use crate::rotation::{fastica, fastica_subsample, UNMIXING_MAX_ITER};

/// Floor added to the correlation matrix's diagonal by [`Unmixing::whitening`].
pub(crate) const WHITENING_FLOOR: f64 = 1e-6;

/// `y = A (x − μ)` with `A = U Λ^(-1/2) V D^(-1)`: `D` the column standard deviations, `V`
/// and `Λ` the eigenvectors (rows) and eigenvalues of the correlation matrix, `U` an
/// orthogonal matrix (the ICA rotation of the whitened data, in principal coordinates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "UnmixingParts", into = "UnmixingParts")]
pub(crate) struct Unmixing {
    parts: UnmixingParts,
    forward: Array2<f64>,
    inverse: Array2<f64>,
    ln_abs_det: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct UnmixingParts {
    mean: Array1<f64>,
    sd: Array1<f64>,
    v: Array2<f64>,
    eigenvalues: Array1<f64>,
    u: Array2<f64>,
}

fn is_orthogonal(m: &Array2<f64>) -> bool {
    let d = m.nrows();
    m.dim() == (d, d) && (&m.dot(&m.t()) - &Array2::<f64>::eye(d)).iter().all(|e| e.abs() <= 1e-9)
}

impl TryFrom<UnmixingParts> for Unmixing {
    type Error = String;
    fn try_from(p: UnmixingParts) -> Result<Self, String> {
        let d = p.mean.len();
        let positive = |a: &Array1<f64>| a.len() == d && a.iter().all(|v| v.is_finite() && *v > 0.0);
        if !p.mean.iter().all(|v| v.is_finite()) || !positive(&p.sd) || !positive(&p.eigenvalues) {
            return Err("unmixing layer has invalid scales".into());
        }
        if !is_orthogonal(&p.v) || p.v.nrows() != d || p.u.dim() != (d, d) || p.u.iter().any(|v| !v.is_finite()) {
            return Err("unmixing layer has invalid factors".into());
        }
        // U is orthogonal unless a refinement was applied. An orthogonal U is inverted by
        // its transpose, as before refinements existed, so older models compute exactly
        // what they did; a refined one must be safely invertible.
        let (u_inv, ln_det_u) = if is_orthogonal(&p.u) {
            (p.u.t().to_owned(), 0.0)
        } else {
            let u = to_nalgebra(p.u.view());
            let singular = u.singular_values();
            if singular.min().is_nan() || singular.min() <= 1e-6 * singular.max() {
                return Err("unmixing layer is singular".into());
            }
            let inv = u.clone().try_inverse().ok_or("unmixing layer is singular")?;
            (from_nalgebra(&inv), u.determinant().abs().ln())
        };
        let inv_sd = p.sd.mapv(|s| 1.0 / s);
        let inv_sqrt = p.eigenvalues.mapv(|l| 1.0 / l.sqrt());
        // A = U diag(inv_sqrt) V diag(inv_sd); A⁻¹ = diag(sd) Vᵀ diag(√λ) U⁻¹.
        let forward = p.u.dot(&(&p.v * &inv_sqrt.view().insert_axis(Axis(1)))) * inv_sd.view().insert_axis(Axis(0));
        let sqrt = p.eigenvalues.mapv(f64::sqrt);
        let inverse = (&p.v.t() * &sqrt.view().insert_axis(Axis(0))).dot(&u_inv) * p.sd.view().insert_axis(Axis(1));
        let ln_abs_det = -p.sd.mapv(f64::ln).sum() - 0.5 * p.eigenvalues.mapv(f64::ln).sum() + ln_det_u;
        Ok(Self { parts: p, forward, inverse, ln_abs_det })
    }
}

impl From<Unmixing> for UnmixingParts {
    fn from(u: Unmixing) -> Self {
        u.parts
    }
}

/// Why an unmixing layer could not be fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnmixingError {
    /// The correlation matrix is singular: some columns are exactly collinear.
    Singular,
}

/// The mean and standard deviation of each row of the `d × n` block `x`, and the
/// eigenvalues (descending) and eigenvectors (rows) of its correlation matrix with
/// `floor` added to the diagonal.
fn standardized_eigen(x: ArrayView2<'_, f64>, floor: f64) -> (Array1<f64>, Array1<f64>, Array1<f64>, Array2<f64>) {
    let magnitude = row_magnitudes(x);
    let (mean, cov) = mean_and_covariance(x, Some(&magnitude));
    let mut corr = correlation(&cov);
    corr.diag_mut().map_inplace(|c| *c += floor);
    let (eigenvalues, v) = descending_eigen(corr.view());
    (mean * &magnitude, cov.diag().mapv(f64::sqrt) * &magnitude, eigenvalues, v)
}

impl Unmixing {
    /// Fits the layer to the `d × n` block `x` (rows = dimensions, none constant).
    pub(crate) fn fit(x: ArrayView2<'_, f64>) -> Result<Self, UnmixingError> {
        let (mean, sd, eigenvalues, v) = standardized_eigen(x, 0.0);
        if !full_rank(&eigenvalues) {
            return Err(UnmixingError::Singular);
        }
        // FastICA runs on the symmetrically whitened data z = Vᵀ Λ^(-1/2) V D^(-1) (x − μ)
        // and starts from the identity: "no rotation" then means staying closest to the
        // input coordinates, so data that are already unmixed (or white) stay as they
        // are instead of being turned by the arbitrary eigenvectors of a near-identity
        // correlation matrix.
        let zca = Self::try_from(UnmixingParts {
            mean: mean.clone(),
            sd: sd.clone(),
            v: v.clone(),
            eigenvalues: eigenvalues.clone(),
            u: v.t().to_owned(),
        })
        .map_err(|_| UnmixingError::Singular)?;
        // FastICA sees a subsample: whiten only that, not a copy of all of `x`.
        let mut z = fastica_subsample(x).to_owned();
        par_forward(&zca, z.view_mut(), None);
        let u = fastica(z.view(), UNMIXING_MAX_ITER).dot(&v.t());
        Self::try_from(UnmixingParts { mean, sd, v, eigenvalues, u }).map_err(|_| UnmixingError::Singular)
    }

    /// The affine whitening of the `d × n` block `x` (rows = dimensions, none constant):
    /// its mean, column scales and correlation matrix, that matrix's diagonal raised by
    /// [`WHITENING_FLOOR`] (the covariance's diagonal raised by that fraction of each
    /// variance, the floor scikit-learn's mixtures and SINF put under theirs), so that
    /// columns with exact linear relations between them still give a finite density.
    /// Symmetric (ZCA): uncorrelated columns stay where they are.
    pub(crate) fn whitening(x: ArrayView2<'_, f64>) -> Result<Self, UnmixingError> {
        let (mean, sd, eigenvalues, v) = standardized_eigen(x, WHITENING_FLOOR);
        let u = v.t().to_owned();
        Self::try_from(UnmixingParts { mean, sd, v, eigenvalues, u }).map_err(|_| UnmixingError::Singular)
    }

    /// This unmixing followed by the linear map `r` (invertible).
    pub(crate) fn then(&self, r: &Array2<f64>) -> Result<Unmixing, UnmixingError> {
        let mut parts = self.parts.clone();
        parts.u = r.dot(&parts.u);
        Self::try_from(parts).map_err(|_| UnmixingError::Singular)
    }

    /// The matrix `A` of `y = A (x − μ)`.
    #[cfg(test)]
    pub(crate) fn matrix(&self) -> &Array2<f64> {
        &self.forward
    }

    /// Whether a refinement made the map non-orthogonal after whitening.
    pub(crate) fn is_refined(&self) -> bool {
        !is_orthogonal(&self.parts.u)
    }

    /// The identity map of `d` dimensions.
    pub(crate) fn identity(d: usize) -> Unmixing {
        Self::try_from(UnmixingParts {
            mean: Array1::zeros(d),
            sd: Array1::ones(d),
            v: Array2::eye(d),
            eigenvalues: Array1::ones(d),
            u: Array2::eye(d),
        })
        .expect("the identity is valid")
    }

    /// The block-diagonal unmixing that applies `self` to the first columns and `other`
    /// to the rest.
    pub(crate) fn block_diagonal(&self, other: &Unmixing) -> Unmixing {
        let (a, b) = (&self.parts, &other.parts);
        let (da, db) = (a.mean.len(), b.mean.len());
        let cat = |x: &Array1<f64>, y: &Array1<f64>| ndarray::concatenate(Axis(0), &[x.view(), y.view()]).expect("1-D");
        let diag = |x: &Array2<f64>, y: &Array2<f64>| {
            let mut m = Array2::<f64>::zeros((da + db, da + db));
            m.slice_mut(ndarray::s![..da, ..da]).assign(x);
            m.slice_mut(ndarray::s![da.., da..]).assign(y);
            m
        };
        Self::try_from(UnmixingParts {
            mean: cat(&a.mean, &b.mean),
            sd: cat(&a.sd, &b.sd),
            v: diag(&a.v, &b.v),
            eigenvalues: cat(&a.eigenvalues, &b.eigenvalues),
            u: diag(&a.u, &b.u),
        })
        .expect("blocks of valid unmixings are valid")
    }

    /// `ln |det A|`, the same for every sample.
    pub(crate) fn ln_abs_det(&self) -> f64 {
        self.ln_abs_det
    }
}

impl Bijector for Unmixing {
    fn dim(&self) -> usize {
        self.parts.mean.len()
    }

    fn forward(&self, x: ArrayViewMut2<'_, f64>, log_det: Option<ArrayViewMut1<'_, f64>>) {
        apply_affine(self.forward.view(), x, Some(&self.parts.mean), None);
        if let Some(mut ld) = log_det {
            ld += self.ln_abs_det;
        }
    }

    fn inverse(&self, z: ArrayViewMut2<'_, f64>) {
        apply_affine(self.inverse.view(), z, None, Some(&self.parts.mean));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_refined_unmixing_inverts_and_knows_its_determinant() {
        let x =
            array![[1.0, 2.0, 0.5, -1.0, 3.0, 0.0], [0.3, -0.7, 1.1, 0.2, 0.9, -1.4], [2.0, 0.1, -0.5, 1.5, 0.4, 0.8]];
        let plain = Unmixing::fit(x.view()).unwrap();
        assert!(!plain.is_refined());
        let r = array![[1.0, 0.2, 0.0], [-0.1, 1.0, 0.05], [0.0, 0.3, 0.9]];
        let refined = plain.then(&r).unwrap();
        assert!(refined.is_refined());
        // ln |det| of the whole map, from its matrix, against the stored constant.
        let d = to_nalgebra(refined.forward.view());
        assert!((d.determinant().abs().ln() - refined.ln_abs_det()).abs() < 1e-12);
        let mut y = x.clone();
        refined.forward(y.view_mut(), None);
        // The refinement is applied after the whitening and rotation.
        let mut expected = x.clone();
        plain.forward(expected.view_mut(), None);
        assert!((&r.dot(&expected) - &y).iter().all(|e| e.abs() < 1e-12));
        refined.inverse(y.view_mut());
        assert!((&y - &x).iter().all(|e| e.abs() < 1e-12));
    }

    #[test]
    fn singular_refinements_are_refused() {
        let x = array![[1.0, 2.0, 0.5, -1.0], [0.3, -0.7, 1.1, 0.2]];
        let plain = Unmixing::fit(x.view()).unwrap();
        assert!(plain.then(&array![[1.0, 2.0], [0.5, 1.0]]).is_err());
        assert!(plain.then(&array![[f64::NAN, 0.0], [0.0, 1.0]]).is_err());
    }
}
