//! How much of a measured reduction is noise.
//!
//! A layer's raw reduction (see `model/fit.rs`) is a difference of marginal entropy
//! estimates. On data with no dependence left (standard Gaussian of the same `n` and
//! `d`) it is not zero: the rotation's sample covariance has spurious correlations and
//! each histogram estimate fluctuates. [`NullModel`] gives the mean and spread of that
//! null distribution; a layer is useful when its reduction clears `mean + k·sd`, and
//! every kept layer's reduction has the null mean subtracted, so useless layers add no
//! bias to the total correlation.

use ndarray::{ArrayView1, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::marginal::spline::MonotoneSpline;
use crate::marginal::Knots;
use crate::numeric::normal::{std_normal_quantile, HALF_LN_2PI_E};
use crate::numeric::{ln_sd, mean_var, sort_floats, spacing_entropy, LnSum, NullCache};
use crate::rotation::RotationKind;

/// Seed of the null simulations: fixed, so fits are reproducible.
const NULL_SEED: u64 = 0x5eed_0f4b;

/// Null distribution of a layer's raw reduction for `n` samples in `d` dimensions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NullModel {
    /// Mean of the raw reduction on independent Gaussian data.
    pub(crate) mean: f64,
    /// Its standard deviation.
    pub(crate) sd: f64,
    /// Bias of the spacing entropy estimator on Gaussian samples of size `n`; subtracted
    /// from marginal entropy estimates.
    pub(crate) entropy_bias: f64,
    /// Mean gain one fitted spline map shows on Gaussian data of this size by fitting
    /// its own sample (`E[Ĥ(x) + mean ln g'(x)] − E[Ĥ(x')]`, shape parts).
    pub(crate) spline_overfit: f64,
    /// Mean log-likelihood per row one fitted spline map loses on new rows from the
    /// distribution its Gaussian sample of this size came from: `D(φ ‖ q)`, where
    /// `q(x) = φ(g(x)) g'(x)` is the density the map `g` gives its input. Not the same as
    /// [`NullModel::spline_overfit`], the in-sample gain as the spacing estimate sees
    /// it: a map's loss on new rows is 1.7 times that gain at n = 2000, and 1.5 times
    /// at n = 10⁴.
    pub(crate) spline_loss: f64,
    /// Mean reduction a linear step (whitening) shows on Gaussian data: the variance
    /// part alone, no spline being fitted.
    pub(crate) linear_mean: f64,
    /// Standard deviation of a Gaussian column's estimated negentropy (`Ĥ` of its
    /// standardized values).
    pub(crate) negentropy_sd: f64,
    /// Standard error of [`NullModel::entropy_bias`], a mean over simulated replicates.
    entropy_bias_sd: f64,
    n: usize,
    d: usize,
}

/// Per-dimension null statistics, by simulation on standard Gaussian samples of size
/// `n` with fixed seeds (reproducible, independent of the thread count).
///
/// Returns mean and variance of the shape part (entropy minus log standard deviation) of
/// the before-rotation estimate `Ĥ(x) + mean ln g'(x)` and of the after-rotation
/// estimate `Ĥ(x')`. The variance part is handled analytically by the caller: across
/// dimensions it is tied by the rotation (the trace of the covariance is invariant), so
/// simulating it per dimension would overstate the noise.
/// Also returns the mean spacing entropy itself, whose excess over the true entropy
/// `½ ln(2πe)` is the estimator's bias at this `n`, the variance of that mean, and the
/// mean [`held_out_loss`] of the fitted maps.
///
/// The simulation costs about as much as two layers of a fit; its results are kept for
/// the life of the process, so the several fits of one estimate (mutual information fits
/// three models on the same rows) and repeated fits pay for it once.
fn per_dimension_null(n: usize, knots: Knots) -> PerDimensionNull {
    let plan = knots.plan(n);
    let key = (n, plan.count, plan.tail_samples.map(f64::to_bits), plan.smoothed);
    LAYER_NULLS.get_or_simulate(key, || simulate_per_dimension_null(n, knots))
}

static LAYER_NULLS: NullCache<(usize, usize, Option<u64>, bool), PerDimensionNull> = NullCache::new("layer");

/// Mean and variance of the before- and after-rotation shape parts, the mean raw
/// spacing entropy, the variance of that mean, and the maps' mean held-out loss (see
/// [`per_dimension_null`]).
type PerDimensionNull = ((f64, f64), (f64, f64), f64, f64, f64);

fn simulate_per_dimension_null(n: usize, knots: Knots) -> PerDimensionNull {
    // Enough replicates for the means to be known to a small fraction of their spread,
    // without costing much more than a million normal draws.
    let reps = (1_000_000 / n.max(1)).clamp(16, 256);
    let plan = knots.plan(n);
    let stats: Vec<(f64, f64, f64, f64)> = (0..reps)
        .into_par_iter()
        .map(|rep| {
            let mut rng = ChaCha8Rng::seed_from_u64(NULL_SEED);
            rng.set_stream(rep as u64);
            let mut v = sort_floats((0..n).map(|_| StandardNormal.sample(&mut rng)).collect());
            let h = spacing_entropy(&v);
            let after = h - ln_sd(ArrayView1::from(&v));
            let map = MonotoneSpline::fit_sorted(&v, plan, std_normal_quantile).expect("distinct normal draws");
            let loss = held_out_loss(&map);
            let mut ln_deriv = LnSum::default();
            map.forward_slice(&mut v, |_, dz_du| ln_deriv.push(dz_du));
            let mean_ld = ln_deriv.total() / n as f64 - map.ln_scale();
            (h + mean_ld - ln_sd(ArrayView1::from(&v)), after, h, loss)
        })
        .collect();
    let before: Vec<f64> = stats.iter().map(|s| s.0).collect();
    let after: Vec<f64> = stats.iter().map(|s| s.1).collect();
    let raw_mean = stats.iter().map(|s| s.2).sum::<f64>() / reps as f64;
    let raw: Vec<f64> = stats.iter().map(|s| s.2).collect();
    let loss = stats.iter().map(|s| s.3).sum::<f64>() / reps as f64;
    (mean_var(&before), mean_var(&after), raw_mean, mean_var(&raw).1 / reps as f64, loss)
}

/// `D(φ ‖ q) = ∫ φ(x) [½ (g(x)² − x²) − ln g'(x)] dx` for the density
/// `q(x) = φ(g(x)) g'(x)` that the map `g` gives a standard normal input: the
/// log-likelihood per row it loses on rows it was not fitted to. Midpoint rule over
/// ±8 standard deviations (beyond, the normal mass is 10⁻¹⁵).
fn held_out_loss(map: &MonotoneSpline) -> f64 {
    const POINTS: usize = 4000;
    const HALF_WIDTH: f64 = 8.0;
    let h = 2.0 * HALF_WIDTH / POINTS as f64;
    let integrand = |k: usize| {
        let x = -HALF_WIDTH + (k as f64 + 0.5) * h;
        let (z, ln_derivative) = map.forward(x);
        (-0.5 * x * x).exp() * (0.5 * (z * z - x * x) - ln_derivative)
    };
    (0..POINTS).map(integrand).sum::<f64>() * h / (2.0 * std::f64::consts::PI).sqrt()
}

impl NullModel {
    /// Threshold on the Gaussian total correlation of a layer's covariance above which
    /// it carries dependence beyond noise: the null of `½ Σ_{i<j} r_ij²`, mean
    /// `d(d−1)/(4n)` and standard deviation `√(d(d−1)) / (2n)`, plus `sigmas` of it.
    pub(crate) fn gaussian_threshold(&self, sigmas: f64) -> f64 {
        let (n, d) = (self.n as f64, self.d as f64);
        d * (d - 1.0) / (4.0 * n) + sigmas * (d * (d - 1.0)).sqrt() / (2.0 * n)
    }

    /// Whether any row of `x`, with spacing entropies `entropies`, is non-Gaussian
    /// beyond the estimator's noise: its negentropy `½ ln(2πe) + bias − (Ĥ − ln sd)`
    /// exceeds `sigmas` of its null spread, widened by the uncertainty of the simulated
    /// bias it is measured against. At large `n` that uncertainty is the larger: at
    /// n = 10⁵ (16 replicates) every column of a Gaussian sample showed a negentropy of
    /// about 0.001 against a threshold of 0.0007 without it.
    pub(crate) fn any_non_gaussian(&self, x: ArrayView2<'_, f64>, entropies: &[f64], sigmas: f64) -> bool {
        x.rows().into_iter().zip(entropies).any(|(row, &h)| self.non_gaussian(row, h, sigmas))
    }

    /// Whether `row`, with spacing entropy `entropy`, is non-Gaussian beyond the noise
    /// (see [`NullModel::any_non_gaussian`]).
    pub(crate) fn non_gaussian(&self, row: ArrayView1<'_, f64>, entropy: f64, sigmas: f64) -> bool {
        let threshold = sigmas * (self.negentropy_sd.powi(2) + self.entropy_bias_sd.powi(2)).sqrt();
        HALF_LN_2PI_E + self.entropy_bias - (entropy - ln_sd(row)) > threshold
    }

    pub(crate) fn new(n: usize, d: usize, kind: RotationKind, knots: Knots) -> Self {
        let ((before_mean, before_var), (after_mean, after_var), raw_mean, raw_mean_var, spline_loss) =
            per_dimension_null(n, knots);
        let df = d as f64;
        let (var_mean, var_var) = kind.variance_null(n, d);
        Self {
            mean: var_mean + df * (before_mean - after_mean),
            sd: (var_var + df * (before_var + after_var)).sqrt(),
            entropy_bias: raw_mean - HALF_LN_2PI_E,
            spline_overfit: before_mean - after_mean,
            spline_loss,
            linear_mean: var_mean,
            negentropy_sd: after_var.sqrt(),
            entropy_bias_sd: raw_mean_var.sqrt(),
            n,
            d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marginal::row_entropies;
    use ndarray::Array2;

    #[test]
    fn held_out_loss_of_an_affine_map_is_the_normal_divergence() {
        // An affine map standardizing by mean m and sd s gives its input the density
        // N(m, s²): D(N(0, 1) ‖ N(m, s²)) = ln s + (1 + m²)/(2s²) − ½.
        for (m, s) in [(0.0, 1.0), (0.3, 1.0), (-0.2, 0.8), (0.1, 1.5)] {
            let map = MonotoneSpline::affine(m, s).expect("positive scale");
            let exact = f64::ln(s) + (1.0 + m * m) / (2.0 * s * s) - 0.5;
            assert!((held_out_loss(&map) - exact).abs() < 1e-9, "m {m}, s {s}: {} vs {exact}", held_out_loss(&map));
        }
    }

    #[test]
    fn large_gaussian_samples_are_not_called_non_gaussian() {
        // At n = 1e5 the simulated entropy bias is known less precisely than one
        // column's negentropy varies: a check that ignores that calls every Gaussian
        // column non-Gaussian, and ICA mode then searches for structure that is not there.
        let (n, d) = (100_000, 10);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let x = Array2::from_shape_simple_fn((d, n), || StandardNormal.sample(&mut rng));
        let entropies = row_entropies(x.view()).expect("Gaussian rows vary");
        let null = NullModel::new(n, d, RotationKind::Ica, Knots::Auto);
        assert!(!null.any_non_gaussian(x.view(), &entropies, 3.0));
    }
}
