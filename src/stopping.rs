//! When to stop adding layers, and how much of a layer's measured reduction is noise.
//!
//! A layer's raw reduction (see `model.rs`) is a difference of marginal entropy
//! estimates. On data with no dependence left (standard Gaussian of the same `n` and
//! `d`) it is not zero: the rotation's sample covariance has spurious correlations and
//! each histogram estimate fluctuates. [`NullModel`] gives the mean and spread of that
//! null distribution; a layer is useful when its reduction clears `mean + k·sd`, and
//! every kept layer's reduction has the null mean subtracted, so useless layers add no
//! bias to the total correlation.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use ndarray::{ArrayView1, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::information::marginal_entropy::spacing_entropy;
use crate::marginal::normal::{std_normal_quantile, HALF_LN_2PI_E};
use crate::marginal::spline::MonotoneSpline;
use crate::marginal::Knots;
use crate::numeric::{sort_floats, LnSum};
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
    /// Mean reduction a linear step (whitening) shows on Gaussian data: the variance
    /// part alone, no spline being fitted.
    pub(crate) linear_mean: f64,
    /// Standard deviation of a Gaussian column's estimated negentropy (`Ĥ` of its
    /// standardized values).
    pub(crate) negentropy_sd: f64,
    n: usize,
    d: usize,
}

/// Mean and variance of a statistic over replicates.
fn mean_var(v: &[f64]) -> (f64, f64) {
    let k = v.len() as f64;
    let mean = v.iter().sum::<f64>() / k;
    (mean, v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0))
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
/// `½ ln(2πe)` is the estimator's bias at this `n`.
///
/// The simulation costs about as much as two layers of a fit; its results are kept for
/// the life of the process, so the several fits of one estimate (mutual information fits
/// three models on the same rows) and repeated fits pay for it once.
fn per_dimension_null(n: usize, knots: Knots) -> PerDimensionNull {
    let plan = knots.plan(n);
    let key = (n, plan.count, plan.tail_samples.map(f64::to_bits), plan.smoothed);
    let cache = NULL_CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
        return *hit;
    }
    let null = simulate_per_dimension_null(n, knots);
    let mut map = cache.lock().unwrap_or_else(PoisonError::into_inner);
    // Entries are a few numbers; the bound only guards against unbounded growth in a
    // long-lived process fitting many sizes.
    if map.len() >= 4096 {
        map.clear();
    }
    map.insert(key, null);
    null
}

type NullCache = Mutex<HashMap<(usize, usize, Option<u64>, bool), PerDimensionNull>>;
static NULL_CACHE: OnceLock<NullCache> = OnceLock::new();

/// Empties the cache of [`per_dimension_null`] (for benchmarks of a first fit).
pub(crate) fn clear_null_cache() {
    if let Some(cache) = NULL_CACHE.get() {
        cache.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

/// Mean and variance of the before- and after-rotation shape parts, and the mean raw
/// spacing entropy (see [`per_dimension_null`]).
type PerDimensionNull = ((f64, f64), (f64, f64), f64);

fn simulate_per_dimension_null(n: usize, knots: Knots) -> PerDimensionNull {
    // Enough replicates for the means to be known to a small fraction of their spread,
    // without costing much more than a million normal draws.
    let reps = (1_000_000 / n.max(1)).clamp(16, 256);
    let plan = knots.plan(n);
    let stats: Vec<(f64, f64, f64)> = (0..reps)
        .into_par_iter()
        .map(|rep| {
            let mut rng = ChaCha8Rng::seed_from_u64(NULL_SEED);
            rng.set_stream(rep as u64);
            let mut v = sort_floats((0..n).map(|_| StandardNormal.sample(&mut rng)).collect());
            let h = spacing_entropy(&v);
            let after = h - ln_sd(ArrayView1::from(&v));
            let map = MonotoneSpline::fit_sorted(&v, plan, std_normal_quantile).expect("distinct normal draws");
            let mut ln_deriv = LnSum::default();
            map.forward_slice(&mut v, |_, dz_du| ln_deriv.push(dz_du));
            let mean_ld = ln_deriv.total() / n as f64 - map.ln_scale();
            (h + mean_ld - ln_sd(ArrayView1::from(&v)), after, h)
        })
        .collect();
    let before: Vec<f64> = stats.iter().map(|s| s.0).collect();
    let after: Vec<f64> = stats.iter().map(|s| s.1).collect();
    let raw_mean = stats.iter().map(|s| s.2).sum::<f64>() / reps as f64;
    (mean_var(&before), mean_var(&after), raw_mean)
}

/// ln of the standard deviation (divided by `n`) of a sample.
fn ln_sd(v: ArrayView1<'_, f64>) -> f64 {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    0.5 * var.ln()
}

/// Mean of the variance part of a reduction, `½ Σ ln var(before) − ½ Σ ln var(after)`,
/// on independent Gaussian data: for PCA (and whitening) it is −½ ln det of a sample
/// correlation matrix, ≈ ½ Σ_{i<j} r_ij² with r_ij² ~ χ²₁/n; for a random rotation only
/// second-order terms survive.
pub(crate) fn linear_null_mean(n: usize, d: usize, kind: RotationKind) -> f64 {
    let (nf, df) = (n as f64, d as f64);
    match kind {
        RotationKind::Pca | RotationKind::Ica => df * (df - 1.0) / (4.0 * nf),
        RotationKind::Random => (df - 1.0) / (2.0 * nf),
    }
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
    /// exceeds `sigmas` of its null spread.
    pub(crate) fn any_non_gaussian(&self, x: ArrayView2<'_, f64>, entropies: &[f64], sigmas: f64) -> bool {
        x.rows()
            .into_iter()
            .zip(entropies)
            .any(|(row, h)| HALF_LN_2PI_E + self.entropy_bias - (h - ln_sd(row)) > sigmas * self.negentropy_sd)
    }

    pub(crate) fn new(n: usize, d: usize, kind: RotationKind, knots: Knots) -> Self {
        let ((before_mean, before_var), (after_mean, after_var), raw_mean) = per_dimension_null(n, knots);
        let (nf, df) = (n as f64, d as f64);
        // The variance part's spread: Var(½ Σ r_ij²) for PCA; second order for random.
        let var_mean = linear_null_mean(n, d, kind);
        let var_var = match kind {
            RotationKind::Pca | RotationKind::Ica => df * (df - 1.0) / (4.0 * nf * nf),
            RotationKind::Random => 0.5 * (df - 1.0).powi(2) / (df * nf * nf),
        };
        Self {
            mean: var_mean + df * (before_mean - after_mean),
            sd: (var_var + df * (before_var + after_var)).sqrt(),
            entropy_bias: raw_mean - HALF_LN_2PI_E,
            spline_overfit: before_mean - after_mean,
            linear_mean: var_mean,
            negentropy_sd: after_var.sqrt(),
            n,
            d,
        }
    }
}

/// Decides when to stop adding layers and how many to keep.
///
/// Each layer's *excess* is its raw reduction minus the null mean. Small excesses that
/// are individually within the noise still count when they add up: the fit stops only
/// once the last `patience` layers together gained no more than `k·sd·√patience`, the
/// noise of that many layers. The model keeps the layers up to the maximum of the
/// cumulative excess: layers after it removed, in total, nothing beyond noise, and each
/// one would only add estimation noise to the density.
#[derive(Debug, Clone)]
pub(crate) struct StopRule {
    patience: usize,
    sigmas: f64,
    null: NullModel,
    cumulative: Vec<f64>,
    best: (usize, f64),
    stopped: bool,
}

impl StopRule {
    pub(crate) fn new(patience: usize, sigmas: f64, null: NullModel) -> Self {
        Self { patience, sigmas, null, cumulative: vec![0.0], best: (0, 0.0), stopped: false }
    }

    /// Records one layer's raw reduction; returns whether it was significant on its own.
    pub(crate) fn observe(&mut self, raw: f64) -> bool {
        let excess = raw - self.null.mean;
        let cum = self.cumulative.last().copied().unwrap_or(0.0) + excess;
        self.cumulative.push(cum);
        let layers = self.cumulative.len() - 1;
        if cum > self.best.1 {
            self.best = (layers, cum);
        }
        let p = self.patience;
        if layers >= p {
            let gained = cum - self.cumulative[layers - p];
            self.stopped = gained <= self.sigmas * self.null.sd * (p as f64).sqrt();
        }
        excess > self.sigmas * self.null.sd
    }

    pub(crate) fn should_stop(&self) -> bool {
        self.stopped
    }

    /// Number of leading layers to keep.
    pub(crate) fn useful_layers(&self) -> usize {
        self.best.0
    }
}
