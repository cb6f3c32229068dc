//! A Gaussian-mixture start: the Rosenblatt transform of a fitted mixture of
//! full-covariance Gaussians, `z_k = Φ⁻¹(F(x_k | x_1, …, x_{k−1}))`.
//!
//! Data made of clusters (kinds of pixels, classes of cells) are what a mixture
//! describes and what rotations with marginal maps approach only layer by layer, each
//! layer paying its maps' noise. Starting from the mixture's own Gaussianization, the
//! layers refine a near-normal sample instead, and the model's density is the mixture's
//! corrected: never a worse fit than the mixture on the rows held out to choose it.
//!
//! Every conditional of a Gaussian mixture is a Gaussian mixture. With each component's
//! covariance `Σ_j = L_j L_jᵀ` (Cholesky) and `w_j = L_j⁻¹(x − μ_j)`, component `j`'s
//! conditional of `x_k` has mean `x_k − L_j[k,k] w_jk` and standard deviation
//! `L_j[k,k]`, and its weight is `π_j N(x_<k; μ_j, Σ_j)`, all from one forward
//! substitution. The Jacobian is triangular with diagonal `p(x_k | x_<k) / φ(z_k)`, so
//! `ln |det J| = ln p_mix(x) − Σ_k ln φ(z_k)`, exactly.

mod em;

pub(crate) use em::{fit_mixture, Components};

use ndarray::{Array1, Array2, Array3, ArrayViewMut1, ArrayViewMut2, Axis};
use serde::{Deserialize, Serialize};

use crate::bijector::Bijector;
use crate::numeric::normal::{ln_normal_cdf_pair, ln_sum_exp, std_normal_quantile_ln, HALF_LN_2PI};

/// The Rosenblatt transform of a Gaussian mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MixtureParts", into = "MixtureParts")]
pub(crate) struct Mixture {
    parts: MixtureParts,
    /// `ln L_j[k,k]`, component by component.
    ln_diag: Array2<f64>,
}

/// What the model file stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MixtureParts {
    /// `ln π_j`.
    ln_weights: Array1<f64>,
    /// `μ_j`, one row per component.
    means: Array2<f64>,
    /// `L_j`, lower triangular with a positive diagonal.
    chol: Array3<f64>,
}

impl From<Mixture> for MixtureParts {
    fn from(m: Mixture) -> Self {
        m.parts
    }
}

impl TryFrom<MixtureParts> for Mixture {
    type Error = String;
    fn try_from(p: MixtureParts) -> Result<Self, String> {
        let (k, d) = p.means.dim();
        if k == 0 || d == 0 || p.ln_weights.len() != k || p.chol.dim() != (k, d, d) {
            return Err("the mixture's parts do not match in shape".into());
        }
        let finite = p.ln_weights.iter().chain(&p.means).chain(&p.chol).all(|v| v.is_finite());
        if !finite {
            return Err("the mixture has non-finite parameters".into());
        }
        if ln_sum_exp(&p.ln_weights.to_vec()).abs() > 1e-9 {
            return Err("the mixture's weights do not sum to 1".into());
        }
        for l in p.chol.outer_iter() {
            let upper_zero = l.indexed_iter().all(|((r, c), v)| c <= r || *v == 0.0);
            // Columns may differ in scale by hundreds of orders of magnitude: only the
            // sign of each conditional standard deviation is checked.
            if !upper_zero || l.diag().iter().any(|v| v.is_nan() || *v <= 0.0) {
                return Err("a mixture component's Cholesky factor is not lower triangular and positive".into());
            }
        }
        let ln_diag = Array2::from_shape_fn((k, d), |(j, i)| p.chol[[j, i, i]].ln());
        Ok(Self { parts: p, ln_diag })
    }
}

/// One sample's pass through the components, coordinate by coordinate: the
/// standardized residuals `w_j` so far and the components' log-weights given the
/// coordinates seen.
struct Walk {
    w: Array2<f64>,
    ln_w: Vec<f64>,
    /// The components' conditional means of the current coordinate, and `ln Σ exp ln_w`
    /// (set with the weights: at a sample's start, and as they move past a coordinate).
    mean: Vec<f64>,
    total: f64,
    /// `ln Σ π_j`, the total at a sample's start.
    prior_total: f64,
    terms: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
}

impl Mixture {
    pub(crate) fn new(ln_weights: Array1<f64>, means: Array2<f64>, chol: Array3<f64>) -> Result<Self, String> {
        Self::try_from(MixtureParts { ln_weights, means, chol })
    }

    /// Number of components.
    pub(crate) fn components(&self) -> usize {
        self.parts.means.nrows()
    }

    fn walk(&self) -> Walk {
        let (k, d) = self.parts.means.dim();
        let ln_w = self.parts.ln_weights.to_vec();
        let prior_total = ln_sum_exp(&ln_w);
        Walk {
            w: Array2::zeros((k, d)),
            ln_w,
            mean: vec![0.0; k],
            total: prior_total,
            prior_total,
            terms: vec![0.0; k],
            lower: vec![0.0; k],
            upper: vec![0.0; k],
        }
    }

    /// Puts `walk` back at a sample's start: the prior weights.
    fn restart(&self, walk: &mut Walk) {
        walk.ln_w.copy_from_slice(self.parts.ln_weights.as_slice().expect("contiguous"));
        walk.total = walk.prior_total;
    }

    /// Prepares coordinate `i`: each component's conditional mean given the earlier
    /// coordinates, whose residuals `walk` holds.
    fn enter(&self, walk: &mut Walk, i: usize) {
        for j in 0..self.components() {
            let row = self.parts.chol.slice(ndarray::s![j, i, ..i]);
            let shift: f64 = row.iter().zip(walk.w.row(j)).map(|(l, w)| l * w).sum();
            walk.mean[j] = self.parts.means[[j, i]] + shift;
        }
    }

    /// `(ln F, ln (1 − F))` of the conditional mixture of coordinate `i` (entered) at
    /// `x`, and the residuals there (stored in `walk.w[.., i]`).
    fn conditional_cdf(&self, walk: &mut Walk, i: usize, x: f64) -> (f64, f64) {
        for j in 0..self.components() {
            let t = (x - walk.mean[j]) / self.parts.chol[[j, i, i]];
            walk.w[[j, i]] = t;
            let (lo, up) = ln_normal_cdf_pair(t);
            walk.lower[j] = walk.ln_w[j] + lo;
            walk.upper[j] = walk.ln_w[j] + up;
        }
        (ln_sum_exp(&walk.lower) - walk.total, ln_sum_exp(&walk.upper) - walk.total)
    }

    /// Moves the components' log-weights past coordinate `i`, whose residuals are set.
    /// A point beyond the reach of every component (weights all 0 in floating point; its
    /// density is already 0) goes on with the prior weights, so that its later
    /// coordinates still map to numbers.
    fn advance(&self, walk: &mut Walk, i: usize) {
        for j in 0..self.components() {
            let t = walk.w[[j, i]];
            walk.ln_w[j] += -0.5 * t * t - HALF_LN_2PI - self.ln_diag[[j, i]];
        }
        walk.total = ln_sum_exp(&walk.ln_w);
        if walk.total.is_nan() || walk.ln_w.iter().all(|&w| w == f64::NEG_INFINITY) {
            self.restart(walk);
        }
    }

    /// The conditional density's logarithm at the residuals set for coordinate `i`.
    fn ln_conditional_density(&self, walk: &mut Walk, i: usize) -> f64 {
        for j in 0..self.components() {
            let t = walk.w[[j, i]];
            walk.terms[j] = walk.ln_w[j] - 0.5 * t * t - HALF_LN_2PI - self.ln_diag[[j, i]];
        }
        ln_sum_exp(&walk.terms) - walk.total
    }
}

/// `Φ⁻¹(F)` from `(ln F, ln (1 − F))`, from whichever tail is smaller.
fn gaussianize((ln_lower, ln_upper): (f64, f64)) -> f64 {
    if ln_lower <= ln_upper {
        std_normal_quantile_ln(ln_lower)
    } else {
        -std_normal_quantile_ln(ln_upper)
    }
}

impl Bijector for Mixture {
    fn dim(&self) -> usize {
        self.parts.means.ncols()
    }

    fn forward(&self, mut x: ArrayViewMut2<'_, f64>, mut log_det: Option<ArrayViewMut1<'_, f64>>) {
        let mut walk = self.walk();
        for (s, mut col) in x.axis_iter_mut(Axis(1)).enumerate() {
            self.restart(&mut walk);
            let mut ln_det = 0.0;
            for i in 0..col.len() {
                // Beyond an infinite image the conditionals are undefined; the point's
                // density is 0 and its image not finite whatever its other coordinates.
                if ln_det == f64::NEG_INFINITY {
                    break;
                }
                self.enter(&mut walk, i);
                let z = gaussianize(self.conditional_cdf(&mut walk, i, col[i]));
                // At an infinite image the density is 0 (both terms are infinite).
                ln_det += if z.is_finite() {
                    self.ln_conditional_density(&mut walk, i) + 0.5 * z * z + HALF_LN_2PI
                } else {
                    f64::NEG_INFINITY
                };
                self.advance(&mut walk, i);
                col[i] = z;
            }
            if let Some(ld) = log_det.as_mut() {
                ld[s] += ln_det;
            }
        }
    }

    fn inverse(&self, mut z: ArrayViewMut2<'_, f64>) {
        let mut walk = self.walk();
        for mut col in z.axis_iter_mut(Axis(1)) {
            self.restart(&mut walk);
            for i in 0..col.len() {
                col[i] = self.solve(&mut walk, i, col[i]);
                if col[i].is_infinite() {
                    // As in the forward map: nothing beyond an infinite coordinate.
                    break;
                }
                self.advance(&mut walk, i);
            }
        }
    }
}

impl Mixture {
    /// The `x` whose conditional CDF is `Φ(target)`, leaving its residuals in `walk`.
    ///
    /// Every component's quantile `m_j + s_j · target` has CDF `Φ(target)` under that
    /// component, so the mixture's root lies between the smallest and the largest of
    /// them; Newton's method on `Φ⁻¹(F(x))`, whose slope is `p(x) / φ(Φ⁻¹(F(x)))`,
    /// kept inside that bracket by bisection.
    fn solve(&self, walk: &mut Walk, i: usize, target: f64) -> f64 {
        if target.is_infinite() {
            for j in 0..self.components() {
                walk.w[[j, i]] = target;
            }
            return target;
        }
        // The bracket, and the start: the components' quantiles averaged with their
        // conditional weights (the root itself when one component dominates).
        self.enter(walk, i);
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let top = walk.ln_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (mut weighted, mut total) = (0.0, 0.0);
        for j in 0..self.components() {
            let q = walk.mean[j] + self.parts.chol[[j, i, i]] * target;
            lo = lo.min(q);
            hi = hi.max(q);
            let w = (walk.ln_w[j] - top).exp();
            weighted += w * q;
            total += w;
        }
        let start = weighted / total;
        // Halves first: the sum of two huge bounds overflows.
        let mut x = if start > lo && start < hi { start } else { 0.5 * lo + 0.5 * hi };
        let tolerance = 4.0 * f64::EPSILON * (1.0 + target.abs());
        let mut last_residual = f64::INFINITY;
        for _ in 0..400 {
            let g = gaussianize(self.conditional_cdf(walk, i, x)) - target;
            if g.abs() <= tolerance {
                return x;
            }
            if g > 0.0 {
                hi = x;
            } else {
                lo = x;
            }
            let width = hi - lo;
            if width <= 4.0 * f64::EPSILON * lo.abs().max(hi.abs()) {
                break;
            }
            let current = g + target;
            let slope = (self.ln_conditional_density(walk, i) + 0.5 * current * current + HALF_LN_2PI).exp();
            let newton = x - g / slope;
            // A narrow component makes the slope huge and Newton's steps vanish while the
            // residual does not: a bisection whenever a step failed to halve the residual.
            let slow = g.abs() > 0.5 * last_residual;
            last_residual = g.abs();
            x = if newton > lo && newton < hi && !slow { newton } else { 0.5 * lo + 0.5 * hi };
        }
        // Leave the residuals of the returned point.
        self.conditional_cdf(walk, i, x);
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::normal::add_std_normal_ln_pdf;
    use crate::numeric::{from_nalgebra, to_nalgebra};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    /// Three overlapping components in 3-D with different shapes.
    fn mixture() -> Mixture {
        let weights = Array1::from(vec![0.5f64, 0.3, 0.2]).mapv(f64::ln);
        let means = ndarray::array![[0.0, 0.0, 0.0], [3.0, -1.0, 2.0], [-2.0, 4.0, 1.0]];
        let covs = [
            ndarray::array![[1.0, 0.6, 0.2], [0.6, 2.0, -0.3], [0.2, -0.3, 0.5]],
            ndarray::array![[0.3, 0.0, 0.1], [0.0, 0.8, 0.4], [0.1, 0.4, 1.5]],
            ndarray::array![[2.0, -1.2, 0.0], [-1.2, 1.0, 0.0], [0.0, 0.0, 0.05]],
        ];
        let chol = Array3::from_shape_fn((3, 3, 3), |(j, a, b)| {
            let l = to_nalgebra(covs[j].view()).cholesky().expect("positive definite").unpack();
            l[(a, b)]
        });
        Mixture::new(weights, means, chol).expect("valid")
    }

    /// `ln p(x)` of the mixture from each covariance's inverse and determinant.
    fn ln_density(m: &Mixture, x: &[f64]) -> f64 {
        let terms: Vec<f64> = (0..m.components())
            .map(|j| {
                let l = to_nalgebra(m.parts.chol.index_axis(Axis(0), j));
                let cov = &l * l.transpose();
                let diff = nalgebra::DVector::from_fn(x.len(), |a, _| x[a] - m.parts.means[[j, a]]);
                let q = (diff.transpose() * cov.clone().try_inverse().expect("invertible") * &diff)[(0, 0)];
                m.parts.ln_weights[j] - 0.5 * q - 0.5 * cov.determinant().ln() - x.len() as f64 * HALF_LN_2PI
            })
            .collect();
        ln_sum_exp(&terms)
    }

    fn sample(m: &Mixture, n: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Array2::zeros((3, n));
        for mut col in x.axis_iter_mut(Axis(1)) {
            let u: f64 = rng.gen();
            let weights = m.parts.ln_weights.mapv(f64::exp);
            let j = (0..3).find(|&j| weights.iter().take(j + 1).sum::<f64>() > u).unwrap_or(2);
            let e: Vec<f64> = (0..3).map(|_| rng.sample(StandardNormal)).collect();
            let l = from_nalgebra(&to_nalgebra(m.parts.chol.index_axis(Axis(0), j)));
            for a in 0..3 {
                col[a] = m.parts.means[[j, a]] + (0..3).map(|b| l[[a, b]] * e[b]).sum::<f64>();
            }
        }
        x
    }

    #[test]
    fn the_density_is_the_mixtures_and_the_inverse_undoes_the_transform() {
        let m = mixture();
        let mut x = sample(&m, 400, 1);
        // Far outside every component, where one tail probability underflows a double.
        for (c, point) in
            [[40.0, -35.0, 60.0], [-300.0, 2.0, 0.5], [0.0, 0.0, 1e3], [9.0, -7.0, 12.0], [-6.0, 9.0, -4.0]]
                .iter()
                .enumerate()
        {
            x.column_mut(c).assign(&Array1::from(point.to_vec()));
        }
        let mut z = x.clone();
        let mut log_det = Array1::zeros(x.ncols());
        m.forward(z.view_mut(), Some(log_det.view_mut()));
        assert!(z.iter().all(|v| v.is_finite()));
        add_std_normal_ln_pdf(z.view(), log_det.view_mut());
        for (s, col) in x.axis_iter(Axis(1)).enumerate() {
            let truth = ln_density(&m, col.as_slice().unwrap_or(&col.to_vec()));
            assert!((log_det[s] - truth).abs() <= 1e-9 * truth.abs().max(1.0), "sample {s}: {} vs {truth}", log_det[s]);
        }
        // Those three are left out of the round trip: there the conditional CDF is flat
        // to within rounding over hundreds of units (one component's far tail against
        // another's), and no inverse can tell the points apart.
        let mut back = z.slice(ndarray::s![.., 3..]).to_owned();
        m.inverse(back.view_mut());
        for (a, b) in back.iter().zip(x.slice(ndarray::s![.., 3..])) {
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}");
        }
    }

    #[test]
    fn points_beyond_every_scale_map_to_infinities_not_nans() {
        let m = mixture();
        let mut z = ndarray::array![[1e300, -1e200, 0.0], [0.0, 1e300, f64::MAX], [0.0, 0.0, -f64::MAX]];
        let mut log_det = Array1::zeros(3);
        m.forward(z.view_mut(), Some(log_det.view_mut()));
        assert!(z.iter().all(|v| !v.is_nan()), "{z}");
        assert!(log_det.iter().all(|v| !v.is_nan()), "{log_det}");
        let mut back = ndarray::array![[1e300, -1e300], [f64::INFINITY, 0.0], [0.0, f64::NEG_INFINITY]];
        m.inverse(back.view_mut());
        assert!(back.iter().all(|v| !v.is_nan()), "{back}");
    }

    #[test]
    fn the_mixtures_own_samples_come_out_standard_normal() {
        let m = mixture();
        let mut z = sample(&m, 40_000, 2);
        m.forward(z.view_mut(), None);
        let n = z.ncols() as f64;
        for a in 0..3 {
            let mean = z.row(a).sum() / n;
            let var = z.row(a).mapv(|v| v * v).sum() / n - mean * mean;
            // Standard errors: 0.005 for the mean, 0.007 for the variance.
            assert!(mean.abs() < 0.025 && (var - 1.0).abs() < 0.035, "coordinate {a}: {mean}, {var}");
            for b in 0..a {
                let c = z.row(a).dot(&z.row(b)) / n;
                assert!(c.abs() < 0.025, "coordinates {a}, {b}: {c}");
            }
        }
    }

    #[test]
    fn em_finds_the_components_and_the_density() {
        let m = mixture();
        let train = sample(&m, 6000, 3);
        let test = sample(&m, 6000, 4);
        let fitted = fit_mixture(train.view(), Components::Bic, 7).expect("fits");
        assert_eq!(fitted.components(), 3);
        let mut z = test.clone();
        let mut log_p = Array1::zeros(test.ncols());
        fitted.forward(z.view_mut(), Some(log_p.view_mut()));
        add_std_normal_ln_pdf(z.view(), log_p.view_mut());
        let truth = test.axis_iter(Axis(1)).map(|c| ln_density(&m, &c.to_vec())).sum::<f64>() / test.ncols() as f64;
        let fit = log_p.mean().expect("rows");
        // The fitted mixture's held-out loss against the true density: about the number
        // of free parameters (29) over 2n, 0.0024 nats.
        assert!(fit < truth && truth - fit < 0.02, "fitted {fit} vs truth {truth}");
    }

    #[test]
    fn a_corrupt_mixture_is_refused() {
        let good: MixtureParts = mixture().into();
        let mut upper = good.clone();
        upper.chol[[0, 0, 1]] = 0.5;
        let mut weights = good.clone();
        weights.ln_weights[0] = 0.0;
        let mut nan = good.clone();
        nan.means[[1, 1]] = f64::NAN;
        let mut shape = good;
        shape.ln_weights = Array1::zeros(2);
        for bad in [upper, weights, nan, shape] {
            assert!(Mixture::try_from(bad).is_err());
        }
    }
}
