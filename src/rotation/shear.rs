//! A non-orthogonal refinement of the linear unmixing: a product of shears, each adding
//! a multiple of one coordinate to another, chosen to lower the sum of the marginal
//! entropies.
//!
//! The unmixing whitens with the sample covariance and then rotates. Under heavy tails
//! the sample covariance is noisy, so the true unmixing is no longer orthogonal in the
//! estimated white space and no rotation reaches it: a little of each heavy source stays
//! mixed into the others. A shear `yᵢ ← yᵢ + t·yⱼ` has determinant 1, so it lowers the
//! joint entropy estimate by exactly what it lowers `Σ Ĥ(yᵢ)`; minimizing that sum over
//! shears is maximum-likelihood ICA without the orthogonality constraint. On white
//! Gaussian data every shear raises a variance, so only non-Gaussian structure pays.
//! (Power-mixed sources, d = 10: the entropy error of ICA mode fell from +0.48 to about
//! +0.05 nats.)

use ndarray::{Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2};
use serde::{Deserialize, Serialize};

use super::apply_affine;
use super::ica::fastica_subsample;
use crate::bijector::Bijector;
use crate::information::marginal_entropy::spacing_entropy;
use crate::numeric::sort_floats;

/// `y = S x` with `det S = 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ShearParts", into = "ShearParts")]
pub(crate) struct Shear {
    matrix: Array2<f64>,
    inverse: Array2<f64>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct ShearParts {
    matrix: Array2<f64>,
}

impl TryFrom<ShearParts> for Shear {
    type Error = String;
    fn try_from(p: ShearParts) -> Result<Self, String> {
        let d = p.matrix.nrows();
        if p.matrix.dim() != (d, d) || p.matrix.iter().any(|v| !v.is_finite()) {
            return Err("shear step is not a finite square matrix".into());
        }
        let m = nalgebra::DMatrix::from_fn(d, d, |i, j| p.matrix[(i, j)]);
        // A product of shears has determinant 1; anything else would make the stored
        // (zero) log-determinant wrong.
        if (m.determinant() - 1.0).abs() > 1e-6 {
            return Err("shear step does not have determinant 1".into());
        }
        let inv = m.try_inverse().ok_or("shear step is singular")?;
        let inverse = Array2::from_shape_fn((d, d), |(i, j)| inv[(i, j)]);
        Ok(Self { matrix: p.matrix, inverse })
    }
}

impl From<Shear> for ShearParts {
    fn from(s: Shear) -> Self {
        ShearParts { matrix: s.matrix }
    }
}

/// Most sweeps over all ordered pairs of coordinates.
const MAX_SWEEPS: usize = 12;
/// A sweep that lowers the entropy sum by less than this (nats) ends the search.
const SWEEP_TOLERANCE: f64 = 2e-4;
/// A single shear is kept only when it gains more than this (nats): smaller gains are
/// within the estimator's rounding and would only add steps.
const SHEAR_TOLERANCE: f64 = 1e-4;
/// Shear coefficients are searched in `[−LIMIT, LIMIT]`; the data are white, so a
/// larger shear would mean the unmixing had failed outright.
const LIMIT: f64 = 0.3;
/// Golden-section steps per search: the bracket shrinks to 0.6·0.618²⁰ ≈ 4e-5 (16
/// steps, a bracket of 2e-4, left +0.06 nats of the d = 10 power-mixed error that 20
/// remove: the entropy sum is sensitive to small residual mixing).
const STEPS: usize = 20;

impl Shear {
    /// Largest dimension searched: the search costs `d(d − 1)` line searches per sweep,
    /// each sorting the subsample 22 times (about 0.3 s per sweep at d = 10, n = 10⁴).
    pub(crate) const MAX_DIM: usize = 16;

    /// Fits shears to the white `d × n` block `y` (on the subsample FastICA uses), or
    /// `None` if no shear helped or `d` exceeds [`Shear::MAX_DIM`].
    pub(crate) fn fit(y: ArrayView2<'_, f64>) -> Option<Shear> {
        let d = y.nrows();
        if d > Self::MAX_DIM {
            return None;
        }
        let mut y = fastica_subsample(y).to_owned();
        let mut matrix = Array2::<f64>::eye(d);
        let mut total = 0.0;
        for _ in 0..MAX_SWEEPS {
            let mut sweep = 0.0;
            for i in 0..d {
                for j in (0..d).filter(|&j| j != i) {
                    let (yi, yj) = (y.row(i), y.row(j));
                    let sheared =
                        |t: f64| spacing_entropy(&sort_floats(yi.iter().zip(yj).map(|(a, b)| a + t * b).collect()));
                    let before = sheared(0.0);
                    let (t, after) = golden_minimum(sheared, -LIMIT, LIMIT);
                    if before - after > SHEAR_TOLERANCE {
                        sweep += before - after;
                        let add = &y.row(j) * t;
                        let mut row = y.row_mut(i);
                        row += &add;
                        let add = &matrix.row(j) * t;
                        let mut row = matrix.row_mut(i);
                        row += &add;
                    }
                }
            }
            total += sweep;
            if sweep < SWEEP_TOLERANCE {
                break;
            }
        }
        if total <= 0.0 {
            return None;
        }
        Shear::try_from(ShearParts { matrix }).ok()
    }
}

/// The minimum of `f` on `[a, b]` by golden-section search: its argument and value.
fn golden_minimum(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64) -> (f64, f64) {
    const G: f64 = 0.618_033_988_749_894_9;
    let (mut c, mut e) = (b - G * (b - a), a + G * (b - a));
    let (mut fc, mut fe) = (f(c), f(e));
    for _ in 0..STEPS {
        if fc < fe {
            (b, e, fe) = (e, c, fc);
            c = b - G * (b - a);
            fc = f(c);
        } else {
            (a, c, fc) = (c, e, fe);
            e = a + G * (b - a);
            fe = f(e);
        }
    }
    if fc < fe {
        (c, fc)
    } else {
        (e, fe)
    }
}

impl Bijector for Shear {
    fn dim(&self) -> usize {
        self.matrix.nrows()
    }

    fn forward(&self, x: ArrayViewMut2<'_, f64>, _log_det: Option<ArrayViewMut1<'_, f64>>) {
        // det S = 1: ln |det| = 0, nothing to add.
        apply_affine(self.matrix.view(), x, None, None);
    }

    fn inverse(&self, z: ArrayViewMut2<'_, f64>) {
        apply_affine(self.inverse.view(), z, None, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn golden_section_finds_a_parabola_minimum() {
        let (t, v) = golden_minimum(|t| (t - 0.1).powi(2) + 2.0, -0.3, 0.3);
        assert!((t - 0.1).abs() < 1e-3 && (v - 2.0).abs() < 1e-6, "{t} {v}");
    }

    #[test]
    fn undoes_a_shear_of_independent_heavy_tailed_sources() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let n = 20_000;
        let mut y = Array2::from_shape_simple_fn((2, n), || {
            let z: f64 = StandardNormal.sample(&mut rng);
            z.signum() * z.abs().powf(2.0)
        });
        // Mix: y₀ += 0.15·y₁ (a shear, as noisy whitening leaves).
        let mixed = &y.row(0) + &(&y.row(1) * 0.15);
        y.row_mut(0).assign(&mixed);
        let shear = Shear::fit(y.view()).expect("the mixing is visible");
        assert!((shear.matrix[(0, 1)] + 0.15).abs() < 0.02, "{:?}", shear.matrix);
        let back = {
            let mut z = y.clone();
            shear.inverse(z.view_mut());
            shear.forward(z.view_mut(), None);
            z
        };
        assert!((&back - &y).iter().all(|e| e.abs() < 1e-9));
    }

    #[test]
    fn finds_nothing_in_white_gaussian_data() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
        let y: Array2<f64> = Array2::from_shape_simple_fn((3, 10_000), || StandardNormal.sample(&mut rng));
        let entropies =
            |y: &Array2<f64>| -> f64 { y.rows().into_iter().map(|r| spacing_entropy(&sort_floats(r.to_vec()))).sum() };
        let gain = Shear::fit(y.view()).map_or(0.0, |s| {
            let mut z = y.clone();
            s.forward(z.view_mut(), None);
            entropies(&y) - entropies(&z)
        });
        assert!(gain < 0.01, "spurious gain {gain}");
    }

    #[test]
    fn rejects_matrices_that_are_not_unit_determinant() {
        let parts = ShearParts { matrix: ndarray::array![[2.0, 0.0], [0.0, 1.0]] };
        assert!(Shear::try_from(parts).is_err());
    }
}
