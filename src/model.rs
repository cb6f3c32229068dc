//! The fitted stack of layers and the fitting loop.

use std::path::Path;

use ndarray::{
    Array1, Array2, ArrayBase, ArrayView2, ArrayViewMut, ArrayViewMut1, ArrayViewMut2, Axis, Data, Dimension, Ix2,
};
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::bijector::{par_forward, par_inverse, Bijector};
use crate::dequantize::lattice_step;
use crate::error::{RbigError, Result};
use crate::io::model_file;
use crate::marginal::normal::std_normal_ln_pdf;
use crate::marginal::{check_rows, row_entropies, MarginalGaussianizer, CHUNK};
use crate::numeric::sort_floats;
use crate::params::{RbigParams, RbigValidParams};
use crate::rotation::{
    fit_ica, fit_pca, full_rank, haar_random, linearly_dependent, refine, refine_null, Radial, Rotation, RotationKind,
    Unmixing,
};
use crate::stopping::{linear_null_mean, NullModel, StopRule};

use rayon::prelude::*;

/// One layer: a marginal Gaussianization followed (except in the final layer) by a
/// rotation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Layer {
    pub(crate) marginal: MarginalGaussianizer,
    pub(crate) rotation: Option<Rotation>,
}

impl Bijector for Layer {
    fn dim(&self) -> usize {
        self.marginal.dim()
    }
    fn forward(&self, mut x: ArrayViewMut2<'_, f64>, log_det: Option<ArrayViewMut1<'_, f64>>) {
        self.marginal.forward(x.view_mut(), log_det);
        if let Some(r) = &self.rotation {
            r.forward(x, None);
        }
    }
    fn inverse(&self, mut z: ArrayViewMut2<'_, f64>) {
        if let Some(r) = &self.rotation {
            r.inverse(z.view_mut());
        }
        self.marginal.inverse(z);
    }
}

/// What the fit measured in one layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LayerDiagnostics {
    /// Estimated total correlation removed by this layer's rotation (nats), with the
    /// estimator's bias on Gaussian data of the same size subtracted.
    pub tc_reduction: f64,
    /// The same before subtracting the bias: the sum of marginal entropies before the
    /// rotation minus the sum after it.
    pub raw_reduction: f64,
    /// Whether the reduction stood out of the estimator's noise.
    pub significant: bool,
}

/// What ICA mode fitted before the layers (nothing in the other modes); see
/// [`Rbig::pre_steps`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PreStepSummary {
    /// Linear unmixing steps: 0, 1, or 2 when a joint model (mutual information) starts
    /// from its blocks' unmixings.
    pub unmixing_steps: usize,
    /// Whether an unmixing ends in the non-orthogonal maximum-likelihood refinement.
    pub refined: bool,
    /// Whether a radial Gaussianization was kept.
    pub radial: bool,
    /// Total correlation these steps removed (nats), bias-corrected: the part of
    /// [`Rbig::total_correlation`] that is not in [`Rbig::diagnostics`].
    pub tc_reduction: f64,
}

/// A fitted RBIG model: a stack of invertible layers mapping data to a standard normal.
///
/// ```
/// use ndarray::Array2;
/// use rand::SeedableRng;
/// use rbig::Rbig;
///
/// // A correlated 2-D sample.
/// let x = Array2::from_shape_fn((2000, 2), |(i, j)| {
///     let t = i as f64 * 0.618_034 % 1.0;
///     let u = (i as f64 * 0.414_214) % 1.0;
///     if j == 0 { t } else { t + 0.5 * u }
/// });
/// let model = Rbig::fit(&x).unwrap();
/// let z = model.transform(&x).unwrap();
/// let back = model.inverse_transform(&z).unwrap();
/// assert!((&back - &x).iter().all(|e| e.abs() < 1e-9));
/// let log_p = model.log_density(&x).unwrap();
/// assert!(log_p.iter().all(|v| v.is_finite()));
/// let draws = model.sample(10, &mut rand::rngs::StdRng::seed_from_u64(1));
/// assert_eq!(draws.dim(), (10, 2));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rbig {
    pub(crate) dim: usize,
    pub(crate) n_train: usize,
    pub(crate) params: RbigValidParams,
    /// Linear unmixing steps before the layers (ICA rotations only): one, or two when a
    /// joint model starts from its blocks' unmixings.
    pub(crate) unmixing: Vec<Unmixing>,
    /// Radial Gaussianization after the unmixing, when it helped.
    pub(crate) radial: Option<Radial>,
    /// Total correlation removed by the steps before the layers, bias-corrected.
    pub(crate) pre_tc: f64,
    pub(crate) layers: Vec<Layer>,
    pub(crate) diagnostics: Vec<LayerDiagnostics>,
    pub(crate) marginal_entropies: Vec<f64>,
    /// Mean log-likelihood of the held-out rows that chose the depth, when they did.
    pub(crate) held_out_log_likelihood: Option<f64>,
}

/// Checks that `x` (rows = samples) is finite, returning the first bad cell.
pub(crate) fn check_finite<S: Data<Elem = f64>>(x: &ArrayBase<S, Ix2>) -> Result<()> {
    for ((row, column), &value) in x.indexed_iter() {
        if !value.is_finite() {
            return Err(RbigError::NonFinite { row, column, value });
        }
    }
    Ok(())
}

/// Spreads tied values of each row of the `d × n` block `x` evenly over the row's
/// resolution (the median gap between neighbouring distinct values), centred on the tied
/// value; the samples of a tie block take the spread positions in an order drawn from
/// `seed`.
///
/// Rounded or integer data put many samples on one value. A density has no atoms, and
/// the entropy estimates behind the stopping rule break on them (zero spacings look like
/// entropy −∞, so every layer looks harmful and the fit stops at once). Fitting the data
/// dequantized at their own resolution keeps everything finite and consistent. A random
/// order within each block, rather than the row order, adds no dependence between
/// columns; a fixed seed keeps fits reproducible.
fn spread_ties(x: &mut Array2<f64>, seed: u64) {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    x.axis_iter_mut(Axis(0)).into_par_iter().enumerate().for_each(|(dim, mut row)| {
        // Most continuous data have no ties: find out with a plain sort before paying
        // for an index sort. A constant row is left to the column checks.
        let Some(resolution) = lattice_step(&sort_floats(row.to_vec())) else {
            return;
        };
        let mut order: Vec<usize> = (0..row.len()).collect();
        order.sort_by(|&a, &b| row[a].total_cmp(&row[b]));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(dim as u64);
        let mut start = 0;
        while start < order.len() {
            let value = row[order[start]];
            let end = start + order[start..].iter().take_while(|&&i| row[i] == value).count();
            if end - start > 1 {
                let block = &mut order[start..end];
                block.shuffle(&mut rng);
                let count = block.len() as f64;
                for (k, &i) in block.iter().enumerate() {
                    row[i] = value + resolution * ((k as f64 + 0.5) / count - 0.5);
                }
            }
            start = end;
        }
    });
}

/// Whether `n` samples in `d` dimensions are enough for ICA: FastICA estimates `d(d−1)/2`
/// angles from higher moments, and with few samples per dimension it finds spurious
/// non-Gaussian directions in noise faster than the null model can discount them. With
/// fewer, ICA mode behaves as PCA mode.
fn ica_has_samples(n: usize, d: usize) -> bool {
    n >= 20 * d
}

/// What ICA mode fits before the layers.
#[derive(Default)]
struct PreSteps {
    unmixing: Vec<Unmixing>,
    radial: Option<Radial>,
    /// Spacing entropies of the raw columns (computed here because the first marginal
    /// fit no longer sees the raw data).
    raw_entropies: Option<Vec<f64>>,
    /// Total correlation the steps removed, bias-corrected.
    tc: f64,
}

/// ICA mode's steps before the layers, applied to `work` in place: the `given` linear
/// step, then a fitted linear unmixing and a radial Gaussianization, each kept only if it
/// removes significant total correlation. A step's reduction follows from the change of
/// variables: `Σ H(xᵢ) − Σ H(f(x)ᵢ) + E ln |det J|`.
fn fit_pre_steps(
    params: &RbigValidParams,
    null: &NullModel,
    work: &mut Array2<f64>,
    given: Option<(Unmixing, f64)>,
) -> Result<PreSteps> {
    let n = work.ncols();
    let raw = row_entropies(work.view())?;
    let mut tc = 0.0;
    let mut steps = Vec::new();
    let mut before = raw.clone();
    let entropy_change = |step: &Unmixing, work: &mut Array2<f64>, before: &[f64]| {
        par_forward(step, work.view_mut(), None);
        let after = row_entropies(work.view()).map_err(|_| RbigError::Degenerate { layer: 0 })?;
        let change = before.iter().sum::<f64>() - after.iter().sum::<f64>() + step.ln_abs_det();
        Ok::<_, RbigError>((after, change))
    };
    if let Some((step, null_mean)) = given {
        // Corrected by the blocks' own null means, so that it cancels exactly against the
        // blocks' unmixings.
        let (after, change) = entropy_change(&step, work, &before)?;
        tc += change - null_mean;
        before = after;
        steps.push(step);
    }
    let step = Unmixing::fit(work.view()).map_err(|_| RbigError::Degenerate { layer: 0 })?;
    let mut trial = work.clone();
    let (after, change) = entropy_change(&step, &mut trial, &before)?;
    let gain = change - null.linear_mean;
    // A fitted unmixing is kept only when it removes significant total correlation. On
    // data that are already unmixed it can only hurt: after a given start, FastICA turns
    // noise, and the Gaussian directions it cannot pin down drag the others along; on
    // independent heavy-tailed columns, the small mixing left by noisy covariance
    // estimates leaks one column's outliers into the others.
    if gain > params.significance * null.sd {
        tc += gain;
        before = after;
        *work = trial;
        // The refinement works on the unmixed data and joins the unmixing as one step.
        // Components that all look Gaussian leave it nothing to find.
        let worth_trying = null.any_non_gaussian(work.view(), &before, params.significance);
        let refined = worth_trying.then(|| refine(work.view())).flatten().and_then(|r| {
            let joined = step.then(&r).ok()?;
            let alone = Unmixing::identity(work.nrows()).then(&r).ok()?;
            let mut trial = work.clone();
            let (after, change) = entropy_change(&alone, &mut trial, &before).ok()?;
            let (null_mean, null_sd) = refine_null(n, work.nrows());
            let gain = change - null_mean;
            (gain > params.significance * null_sd).then_some((trial, after, joined, gain))
        });
        match refined {
            Some((trial, after, joined, gain)) => {
                *work = trial;
                before = after;
                tc += gain;
                steps.push(joined);
            }
            None => steps.push(step),
        }
    }
    let mut radial = None;
    if let Some(r) = Radial::fit(work.view(), params.knots) {
        let mut trial = work.clone();
        let mut log_det = Array1::<f64>::zeros(n);
        par_forward(&r, trial.view_mut(), Some(log_det.view_mut()));
        if let Ok(after) = row_entropies(trial.view()) {
            let gain = before.iter().sum::<f64>() - after.iter().sum::<f64>() + log_det.mean().unwrap_or(0.0)
                - null.spline_overfit;
            if gain > params.significance * null.sd {
                tc += gain;
                *work = trial;
                radial = Some(r);
            }
        }
    }
    Ok(PreSteps { unmixing: steps, radial, raw_entropies: Some(raw), tc })
}

/// Bytes a fit of `n × d` data allocates beyond its input, at its peak: the working
/// copy; in ICA mode a trial copy while the unmixing step is judged; per thread, a
/// sorted copy of one column and its key buffer (measured: 2.05× the input in PCA mode
/// and 3.06× in ICA mode, input included, at n = 1e6, d = 100).
fn fit_memory(n: usize, d: usize, rotation: RotationKind) -> u64 {
    let data = (n as u64).saturating_mul(d as u64).saturating_mul(8);
    let copies = if rotation == RotationKind::Ica { 2 } else { 1 };
    let per_thread = 2 * 8 * n as u64 * rayon::current_num_threads() as u64;
    data.saturating_mul(copies).saturating_add(per_thread)
}

/// Rows held out to choose the depth ([`crate::Validation`]): dimension-major, pushed
/// through the steps as they are fitted, with the log-determinants so far.
struct HeldOut {
    x: Array2<f64>,
    log_det: Array1<f64>,
    patience: usize,
    /// Rotating layers of the best stack so far and its mean held-out log-likelihood.
    best: (usize, f64),
    /// The same for the last stack that beat its predecessor by [`HELD_OUT_GAIN`].
    progress: (usize, f64),
}

/// Gain in mean held-out log-likelihood (nats) that counts as progress for the patience
/// of [`crate::Validation`].
const HELD_OUT_GAIN: f64 = 1e-3;

impl HeldOut {
    fn new(x: Array2<f64>, patience: usize) -> Self {
        let n = x.ncols();
        let start = (0, f64::NEG_INFINITY);
        Self { x, log_det: Array1::zeros(n), patience, best: start, progress: start }
    }

    /// Applies a fitted step.
    fn advance(&mut self, step: &dyn Bijector) {
        par_forward(step, self.x.view_mut(), Some(self.log_det.view_mut()));
    }

    /// Scores the stack of `layers` rotating layers closed by the marginal step `last`,
    /// and returns whether the score has not improved for `patience` layers.
    fn observe(&mut self, layers: usize, last: &MarginalGaussianizer) -> bool {
        let mut x = self.x.clone();
        let mut log_p = self.log_det.clone();
        par_forward(last, x.view_mut(), Some(log_p.view_mut()));
        for row in x.axis_iter(Axis(0)) {
            for (acc, &v) in log_p.iter_mut().zip(row) {
                *acc += std_normal_ln_pdf(v);
            }
        }
        // A held-out row beyond what floating point can map scores −∞ (see
        // `Rbig::log_density`), and so does a stack that produced one.
        let mean = log_p.mean().filter(|m| !m.is_nan()).unwrap_or(f64::NEG_INFINITY);
        if mean > self.best.1 {
            self.best = (layers, mean);
        }
        // Patience restarts only on a gain that matters: half steps can creep upwards by
        // a few millionths per layer for hundreds of layers.
        if mean > self.progress.1 + HELD_OUT_GAIN {
            self.progress = (layers, mean);
        }
        layers - self.progress.0 >= self.patience
    }
}

/// Splits the rows of `x` into a fitting part and a held-out part of `fraction` of the
/// rows, drawn with `seed`; both dimension-major.
fn hold_out(x: ArrayView2<'_, f64>, fraction: f64, seed: u64) -> Result<(Array2<f64>, Array2<f64>)> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let (n, d) = x.dim();
    let held = (fraction * n as f64).round() as usize;
    if held == 0 || n - held <= d {
        let needed = ((d + 2) as f64 / (1.0 - fraction)).max(1.0 / fraction).ceil() as usize;
        return Err(RbigError::TooFewRows { rows: n, columns: d, needed });
    }
    let mut order: Vec<usize> = (0..n).collect();
    // A stream of its own, so the split does not share draws with other uses of the seed.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(u64::MAX);
    order.shuffle(&mut rng);
    let (held_rows, fit_rows) = order.split_at(held);
    let pick = |rows: &[usize]| Array2::from_shape_fn((d, rows.len()), |(j, i)| x[(rows[i], j)]);
    Ok((pick(fit_rows), pick(held_rows)))
}

/// Where the fit entered a cycle, if the last layers repeat exactly (period 1 or 2).
///
/// With a handful of samples the marginal step maps the data onto the same few normal
/// quantiles every time, so the data can only take finitely many configurations and the
/// layers may cycle between two of them forever, each cycle "removing" the same total
/// correlation again. Continuous data never repeat a reduction to the last bit.
fn cycle_start(layers: &[LayerDiagnostics]) -> Option<usize> {
    let raw: Vec<u64> = layers.iter().rev().take(4).map(|l| l.raw_reduction.to_bits()).collect();
    let repeats = raw.len() == 4 && (raw[0] == raw[1] && raw[1] == raw[2] || raw[0] == raw[2] && raw[1] == raw[3]);
    repeats.then(|| layers.len() - 4)
}

/// The index of the first row of `x` with a non-finite value.
fn first_non_finite_row(x: ArrayView2<'_, f64>) -> std::result::Result<(), usize> {
    match x.axis_iter(Axis(0)).position(|row| row.iter().any(|v| !v.is_finite())) {
        Some(i) => Err(i),
        None => Ok(()),
    }
}

/// Rejects Gaussianized data whose covariance is singular: the data lie on a subspace
/// (exactly collinear columns), where no density exists.
fn check_rank(variances: &Array1<f64>, layer: usize) -> Result<()> {
    if full_rank(variances) {
        Ok(())
    } else {
        Err(RbigError::Degenerate { layer })
    }
}

/// Copies rows-as-samples `x` into the dimension-major working layout.
fn to_dim_major<S: Data<Elem = f64>>(x: &ArrayBase<S, Ix2>) -> Array2<f64> {
    x.t().as_standard_layout().into_owned()
}

fn to_sample_major(x: Array2<f64>) -> Array2<f64> {
    x.reversed_axes().as_standard_layout().into_owned()
}

impl Rbig {
    /// Hyperparameter builder; see [`RbigParams`].
    pub fn params() -> RbigParams {
        RbigParams::new()
    }

    /// Fits a model with the default parameters to `x` (rows = samples).
    ///
    /// # Errors
    /// No columns, no more rows than columns, a NaN or infinite value, a constant
    /// column (a point mass has no density: drop it or dequantize it first), or exactly
    /// collinear columns.
    pub fn fit<S: Data<Elem = f64>>(x: &ArrayBase<S, Ix2>) -> Result<Self> {
        let params = RbigParams::default().0;
        Self::fit_with(&params, x.view())
    }

    pub(crate) fn fit_with(params: &RbigValidParams, x: ArrayView2<'_, f64>) -> Result<Self> {
        Self::fit_from(params, x, None, &mut |_| {})
    }

    /// Fits, in ICA mode, with the linear step `given` applied before the fitted
    /// unmixing, its reduction corrected by the given null mean (used to start a joint
    /// model from its blocks' unmixings).
    pub(crate) fn fit_from(
        params: &RbigValidParams,
        x: ArrayView2<'_, f64>,
        given: Option<(Unmixing, f64)>,
        observer: &mut dyn FnMut(&LayerDiagnostics),
    ) -> Result<Self> {
        if params.validation.is_none() {
            return Self::fit_layers(params, x, given, observer, None);
        }
        // Choose the depth with rows held out, then fit that many layers on all rows:
        // the final model loses no data to the choice.
        let chosen = Self::fit_layers(params, x, given.clone(), observer, None)?;
        Self::refit(&chosen, x, given)
    }

    /// The fit on the rows not held out, whose depth is the one chosen on the held-out
    /// rows (`params` must ask for validation).
    pub(crate) fn fit_held_out(params: &RbigValidParams, x: ArrayView2<'_, f64>) -> Result<Self> {
        Self::fit_layers(params, x, None, &mut |_| {}, None)
    }

    /// `held_out`'s configuration and depth fitted on all of `x` (after the linear step
    /// `given`, as in [`Rbig::fit_from`]).
    pub(crate) fn refit(held_out: &Self, x: ArrayView2<'_, f64>, given: Option<(Unmixing, f64)>) -> Result<Self> {
        let depth = Some(held_out.diagnostics.len());
        let mut model = Self::fit_layers(&held_out.params, x, given, &mut |_| {}, depth)?;
        model.held_out_log_likelihood = held_out.held_out_log_likelihood;
        Ok(model)
    }

    /// The fit itself: with rows held out when `params` ask for validation and no
    /// `depth` is given; with exactly `depth` rotating layers (fewer only if the layers
    /// start to cycle) when it is.
    fn fit_layers(
        params: &RbigValidParams,
        x: ArrayView2<'_, f64>,
        given: Option<(Unmixing, f64)>,
        observer: &mut dyn FnMut(&LayerDiagnostics),
        depth: Option<usize>,
    ) -> Result<Self> {
        let (n, d) = x.dim();
        if d == 0 {
            return Err(RbigError::NoColumns);
        }
        if n <= d {
            return Err(RbigError::TooFewRows { rows: n, columns: d, needed: d + 1 });
        }
        if let Some(limit) = params.memory_limit {
            let needed = fit_memory(n, d, params.rotation);
            if needed > limit {
                return Err(RbigError::MemoryLimit { needed, limit });
            }
        }
        check_finite(&x)?;
        let (mut work, mut held_out) = match params.validation.filter(|_| depth.is_none()) {
            Some(v) => {
                let (fit, held) = hold_out(x, v.fraction, params.seed)?;
                (fit, Some(HeldOut::new(held, v.patience)))
            }
            None => (to_dim_major(&x), None),
        };
        let n = work.ncols();
        spread_ties(&mut work, params.seed);
        // Constant and unscalable columns first (they would also make the dependence
        // check meaningless), then exact linear dependence.
        check_rows(work.view())?;
        if linearly_dependent(work.view()) {
            return Err(RbigError::Degenerate { layer: 0 });
        }
        let null = NullModel::new(n, d, params.rotation, params.knots);
        let mut rule = StopRule::new(params.patience, params.significance, null);
        let PreSteps { unmixing, radial, raw_entropies, tc: pre_tc } = match params.rotation {
            RotationKind::Ica if d > 1 && ica_has_samples(n, d) => fit_pre_steps(params, &null, &mut work, given)?,
            _ => PreSteps::default(),
        };
        let (mut marginal, mut h_input) = MarginalGaussianizer::fit(work.view(), params.knots).map_err(|c| {
            if !unmixing.is_empty() {
                RbigError::Degenerate { layer: 0 }
            } else {
                c.into()
            }
        })?;
        if let Some(h) = &mut held_out {
            for step in &unmixing {
                h.advance(step);
            }
            if let Some(r) = &radial {
                h.advance(r);
            }
            h.observe(0, &marginal);
        }
        let raw_entropies = raw_entropies.unwrap_or_else(|| h_input.clone());
        let marginal_entropies: Vec<f64> = raw_entropies.iter().map(|h| h - null.entropy_bias).collect();
        // Layer k's reduction is Σ H(after its marginal step) − Σ H(after its rotation).
        // The first term is Ĥ(input) + mean ln g'(input) (change of variables), the second
        // is the entropy of the next layer's input, estimated when that layer sorts it.
        let mut marginals = Vec::new();
        let mut rotations = Vec::new();
        let mut diagnostics = Vec::new();
        let mut cycle = None;
        // With shrinkage, the full version of each shrunk marginal step: the model's last
        // step is taken in full, since no later layer can finish its work.
        let mut full_steps = Vec::new();
        for index in 0..depth.unwrap_or(params.max_layers) {
            let log_derivs = marginal.forward_mean_log_deriv(work.view_mut());
            let h_before: f64 = h_input.iter().zip(&log_derivs).map(|(h, l)| h + l).sum();
            let rotation = match params.rotation {
                RotationKind::Ica if ica_has_samples(n, d) => {
                    let (rotation, variances) = fit_ica(work.view(), null.gaussian_threshold(params.significance));
                    check_rank(&variances, index)?;
                    rotation
                }
                RotationKind::Pca | RotationKind::Ica => {
                    let (rotation, variances, _) = fit_pca(work.view());
                    check_rank(&variances, index)?;
                    rotation
                }
                RotationKind::Random => {
                    if index == 0 {
                        check_rank(&fit_pca(work.view()).1, index)?;
                    }
                    haar_random(work.view(), params.seed, index)
                }
            };
            par_forward(&rotation, work.view_mut(), None);
            let (mut next, h_next) = MarginalGaussianizer::fit(work.view(), params.knots)
                .map_err(|_| RbigError::Degenerate { layer: index })?;
            if params.shrinkage < 1.0 {
                let shrunk = next.clone().shrunk(params.shrinkage).ok_or(RbigError::Degenerate { layer: index })?;
                full_steps.push(std::mem::replace(&mut next, shrunk));
            }
            let raw = h_before - h_next.iter().sum::<f64>();
            let significant = rule.observe(raw);
            let layer = LayerDiagnostics { tc_reduction: raw - null.mean, raw_reduction: raw, significant };
            let held_out_stalled = held_out.as_mut().map(|h| {
                h.advance(&marginal);
                h.advance(&rotation);
                // A stack ends with a full marginal step (see below).
                h.observe(index + 1, full_steps.last().unwrap_or(&next))
            });
            observer(&layer);
            diagnostics.push(layer);
            marginals.push(std::mem::replace(&mut marginal, next));
            rotations.push(rotation);
            h_input = h_next;
            if let Some(start) = cycle_start(&diagnostics) {
                cycle = Some(start);
                break;
            }
            if depth.is_none() && held_out_stalled.unwrap_or_else(|| rule.should_stop()) {
                break;
            }
        }
        marginals.push(marginal);
        // Keep the layers up to the last useful one, or the best-scoring depth on held-out
        // rows, or the depth asked for (and before any cycle), then the marginal step
        // fitted on their output so the model's output marginals are Gaussian.
        let keep = match (&held_out, depth) {
            (_, Some(depth)) => depth,
            (Some(h), None) => h.best.0,
            (None, None) => rule.useful_layers(),
        }
        .min(diagnostics.len())
        .min(cycle.unwrap_or(usize::MAX));
        diagnostics.truncate(keep);
        marginals.truncate(keep + 1);
        let mut last = marginals.pop().expect("keep + 1 >= 1 marginals");
        if keep > 0 && full_steps.len() >= keep {
            last = full_steps.swap_remove(keep - 1);
        }
        let mut layers: Vec<Layer> =
            marginals.into_iter().zip(rotations).map(|(marginal, r)| Layer { marginal, rotation: Some(r) }).collect();
        layers.push(Layer { marginal: last, rotation: None });
        Ok(Self {
            dim: d,
            n_train: n,
            params: params.clone(),
            unmixing,
            radial,
            pre_tc,
            layers,
            diagnostics,
            marginal_entropies,
            held_out_log_likelihood: held_out.map(|h| h.best.1),
        })
    }

    /// Mean log-likelihood (nats) of the rows held out to choose the depth, when the
    /// fit used [`crate::Validation`]; `None` otherwise.
    pub fn held_out_log_likelihood(&self) -> Option<f64> {
        self.held_out_log_likelihood
    }

    /// Number of columns the model was fitted on.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of training rows.
    pub fn n_train(&self) -> usize {
        self.n_train
    }

    /// The parameters the model was fitted with.
    pub fn hyperparameters(&self) -> &RbigValidParams {
        &self.params
    }

    /// Number of layers in the model (each a marginal step; all but the last also rotate).
    pub fn n_layers(&self) -> usize {
        self.layers.len()
    }

    /// Per-layer diagnostics of the fit, one entry per rotating layer.
    pub fn diagnostics(&self) -> &[LayerDiagnostics] {
        &self.diagnostics
    }

    /// Estimated total correlation (multi-information) of the training data, in nats:
    /// the sum of the per-layer reductions and of what ICA mode's steps before the layers
    /// removed ([`Rbig::pre_steps`]).
    pub fn total_correlation(&self) -> f64 {
        self.pre_tc + self.diagnostics.iter().map(|l| l.tc_reduction).sum::<f64>()
    }

    /// What ICA mode fitted before the layers, and the total correlation it removed.
    ///
    /// ```
    /// use linfa::prelude::*;
    /// use rbig::{Rbig, RotationKind};
    /// // Linearly mixed heavy-tailed sources: the unmixing does most of the work.
    /// let x = rbig::tasks::power_mixed(3, 3).sample(4000, 0);
    /// let model = Rbig::params().rotation(RotationKind::Ica).check()?.fit(&DatasetBase::from(x))?;
    /// let pre = model.pre_steps();
    /// assert_eq!(pre.unmixing_steps, 1);
    /// assert!(pre.refined); // heavy tails: the orthogonal unmixing was not enough
    /// let layers: f64 = model.diagnostics().iter().map(|l| l.tc_reduction).sum();
    /// assert!((pre.tc_reduction + layers - model.total_correlation()).abs() < 1e-12);
    /// assert!(pre.tc_reduction > layers);
    /// # Ok::<(), rbig::RbigError>(())
    /// ```
    pub fn pre_steps(&self) -> PreStepSummary {
        PreStepSummary {
            unmixing_steps: self.unmixing.len(),
            refined: self.unmixing.iter().any(Unmixing::is_refined),
            radial: self.radial.is_some(),
            tc_reduction: self.pre_tc,
        }
    }

    /// The model's first linear unmixing step with the null mean its reduction was
    /// corrected by, or the identity and 0 when it has none.
    pub(crate) fn unmixing_or_identity(&self) -> (Unmixing, f64) {
        match self.unmixing.first() {
            Some(u) => {
                let refinement = if u.is_refined() { refine_null(self.n_train, self.dim).0 } else { 0.0 };
                (u.clone(), linear_null_mean(self.n_train, self.dim, self.params.rotation) + refinement)
            }
            None => (Unmixing::identity(self.dim), 0.0),
        }
    }

    /// Estimated differential entropy of each training column, in nats (Ebrahimi's
    /// m-spacing estimator, corrected by its bias on Gaussian samples of the same size).
    pub fn marginal_entropies(&self) -> &[f64] {
        &self.marginal_entropies
    }

    /// Estimated joint differential entropy of the training data, in nats: the sum of
    /// the marginal entropies minus the total correlation.
    pub fn entropy(&self) -> f64 {
        self.marginal_entropies.iter().sum::<f64>() - self.total_correlation()
    }

    /// The steps of the stack, in forward order.
    fn steps(&self) -> impl DoubleEndedIterator<Item = &dyn Bijector> {
        let unmixing = self.unmixing.iter().map(|u| u as &dyn Bijector);
        let radial = self.radial.iter().map(|r| r as &dyn Bijector);
        unmixing.chain(radial).chain(self.layers.iter().map(|l| l as &dyn Bijector))
    }

    /// Runs `f` on the rows of `x` (rows = samples) in blocks of [`CHUNK`], in parallel:
    /// each block is copied into the dimension-major layout the steps work on, checked
    /// for non-finite values, and handed to `f` with the matching block of `out`; `f`
    /// reports a row whose result overflowed by its index in the block. A
    /// block then goes through the whole stack while it is in cache, instead of every
    /// step sweeping the whole data set.
    ///
    /// # Errors
    /// A column count different from the model's, or a NaN or infinite value (the first
    /// in row order).
    fn per_block<S, O>(
        &self,
        x: &ArrayBase<S, Ix2>,
        mut out: ArrayViewMut<'_, f64, O>,
        f: impl Fn(ArrayViewMut2<'_, f64>, ArrayViewMut<'_, f64, O>) -> std::result::Result<(), usize> + Sync,
    ) -> Result<()>
    where
        S: Data<Elem = f64>,
        O: Dimension,
    {
        if x.ncols() != self.dim {
            return Err(RbigError::DimensionMismatch { expected: self.dim, found: x.ncols() });
        }
        let blocks: Vec<_> = x.axis_chunks_iter(Axis(0), CHUNK).zip(out.axis_chunks_iter_mut(Axis(0), CHUNK)).collect();
        let checked: Vec<Result<()>> = blocks
            .into_par_iter()
            .enumerate()
            .map(|(b, (rows, out))| {
                let mut work = Array2::<f64>::zeros((self.dim, rows.nrows()));
                for (i, row) in rows.axis_iter(Axis(0)).enumerate() {
                    for (column, &value) in row.iter().enumerate() {
                        if !value.is_finite() {
                            return Err(RbigError::NonFinite { row: b * CHUNK + i, column, value });
                        }
                        work[(column, i)] = value;
                    }
                }
                f(work.view_mut(), out).map_err(|i| RbigError::OutOfRange { row: b * CHUNK + i })
            })
            .collect();
        checked.into_iter().collect()
    }

    /// Maps data (rows = samples) to the Gaussianized space.
    ///
    /// # Errors
    /// A column count different from the model's, or a NaN or infinite value.
    pub fn transform<S: Data<Elem = f64>>(&self, x: &ArrayBase<S, Ix2>) -> Result<Array2<f64>> {
        let mut z = Array2::<f64>::zeros(x.dim());
        self.per_block(x, z.view_mut(), |mut work, mut out| {
            for step in self.steps() {
                step.forward(work.view_mut(), None);
            }
            out.assign(&work.t());
            first_non_finite_row(out.view())
        })?;
        Ok(z)
    }

    /// Maps Gaussianized points back to data space: the exact inverse of [`Rbig::transform`].
    ///
    /// # Errors
    /// A column count different from the model's, or a NaN or infinite value.
    pub fn inverse_transform<S: Data<Elem = f64>>(&self, z: &ArrayBase<S, Ix2>) -> Result<Array2<f64>> {
        let mut x = Array2::<f64>::zeros(z.dim());
        self.per_block(z, x.view_mut(), |mut work, mut out| {
            for step in self.steps().rev() {
                step.inverse(work.view_mut());
            }
            out.assign(&work.t());
            first_non_finite_row(out.view())
        })?;
        Ok(x)
    }

    /// Log-density of each row under the model, in nats:
    /// `ln p(x) = ln N(f(x); 0, I) + ln |det J_f(x)|`.
    ///
    /// # Errors
    /// A column count different from the model's, or a NaN or infinite value.
    pub fn log_density<S: Data<Elem = f64>>(&self, x: &ArrayBase<S, Ix2>) -> Result<Array1<f64>> {
        let mut log_p = Array1::<f64>::zeros(x.nrows());
        self.per_block(x, log_p.view_mut(), |mut work, mut out| {
            for step in self.steps() {
                step.forward(work.view_mut(), Some(out.view_mut()));
            }
            for row in work.axis_iter(Axis(0)) {
                for (acc, &v) in out.iter_mut().zip(row) {
                    *acc += std_normal_ln_pdf(v);
                }
            }
            // A point so far out that its image overflows has a density below the
            // smallest float: −∞ is its correctly rounded logarithm (and the arithmetic
            // on infinities would otherwise leave a NaN).
            for (acc, z) in out.iter_mut().zip(work.axis_iter(Axis(1))) {
                if acc.is_nan() || z.iter().any(|v| !v.is_finite()) {
                    *acc = f64::NEG_INFINITY;
                }
            }
            Ok(())
        })?;
        Ok(log_p)
    }

    /// Draws `n` samples (rows) from the model.
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Array2<f64> {
        let mut work = Array2::from_shape_simple_fn((self.dim, n), || rng.sample::<f64, _>(StandardNormal));
        for step in self.steps().rev() {
            par_inverse(step, work.view_mut());
        }
        to_sample_major(work)
    }

    /// Saves the model to `path`, refusing to replace an existing file
    /// ([`RbigError::FileExists`]). The file is written to a temporary name and moved
    /// into place, so an interrupted save never leaves a partial model behind.
    ///
    /// ```
    /// # let x = ndarray::Array2::from_shape_fn((200, 2), |(i, j)| ((i * (j + 3)) as f64 * 0.37).sin());
    /// let model = rbig::Rbig::fit(&x)?;
    /// let dir = std::env::temp_dir().join(format!("rbig-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("model.rbig");
    /// model.save(&path)?;
    /// assert!(model.save(&path).is_err()); // never overwritten without asking
    /// let loaded = rbig::Rbig::load(&path)?;
    /// assert_eq!(loaded.log_density(&x)?, model.log_density(&x)?);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::write_atomic(path.as_ref(), &self.to_bytes(), false)
    }

    /// Saves the model to `path`, atomically replacing any existing file.
    pub fn save_overwrite(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::io::write_atomic(path.as_ref(), &self.to_bytes(), true)
    }

    /// Loads a model saved by [`Rbig::save`].
    ///
    /// # Errors
    /// [`RbigError::NotAModel`] for a file from another program,
    /// [`RbigError::UnsupportedVersion`] for a newer format, [`RbigError::CorruptModel`]
    /// for a truncated or damaged file, [`RbigError::Io`] if it cannot be read.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        model_file::read(path.as_ref())
    }

    /// The model as the bytes of a model file (see [`Rbig::save`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        model_file::to_bytes(self)
    }

    /// Reads a model from the bytes of a model file, with the checks of [`Rbig::load`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        model_file::from_bytes(bytes)
    }

    /// Checks the invariants a fitted model satisfies (used on loading).
    pub(crate) fn validate(&self) -> std::result::Result<(), String> {
        use linfa::ParamGuard;
        RbigParams(self.params.clone()).check().map_err(|e| e.to_string())?;
        if self.dim == 0 || self.n_train < 2 {
            return Err(format!("impossible shape: {} columns, {} training rows", self.dim, self.n_train));
        }
        let Some((last, rotating)) = self.layers.split_last() else {
            return Err("the model has no layers".into());
        };
        if last.rotation.is_some() || rotating.iter().any(|l| l.rotation.is_none()) {
            return Err("only the last layer may lack a rotation".into());
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let rot_dim = layer.rotation.as_ref().map_or(self.dim, |r| r.dim());
            if layer.marginal.dim() != self.dim || rot_dim != self.dim {
                return Err(format!("layer {i} does not have {} dimensions", self.dim));
            }
        }
        if self.unmixing.iter().any(|u| u.dim() != self.dim)
            || self.radial.as_ref().is_some_and(|r| r.dim() != self.dim)
            || !self.pre_tc.is_finite()
        {
            return Err("the steps before the layers do not match the model".into());
        }
        if self.diagnostics.len() != rotating.len() {
            return Err("diagnostics do not match the layers".into());
        }
        if self.diagnostics.iter().any(|l| !(l.tc_reduction.is_finite() && l.raw_reduction.is_finite())) {
            return Err("non-finite diagnostics".into());
        }
        if self.held_out_log_likelihood.is_some_and(f64::is_nan) {
            return Err("the held-out score is NaN".into());
        }
        if self.marginal_entropies.len() != self.dim || self.marginal_entropies.iter().any(|h| !h.is_finite()) {
            return Err("marginal entropies do not match the dimension".into());
        }
        Ok(())
    }

    /// Largest number of knots of any marginal map (a measure of model size).
    pub fn max_knots(&self) -> usize {
        self.layers.iter().map(|l| l.marginal.max_knots()).max().unwrap_or(0)
    }
}

/// linfa integration: a fitted model transforms records into the Gaussianized space.
///
/// ```
/// use linfa::prelude::*;
/// use ndarray::Array2;
/// use rbig::Rbig;
///
/// let x = Array2::from_shape_fn((500, 3), |(i, j)| ((i * (j + 2)) as f64 * 0.37).sin() + j as f64 * (i as f64 * 0.01));
/// let model = Rbig::params().check()?.fit(&DatasetBase::from(x.clone()))?;
/// let z = model.transform(&x)?; // the linfa Transformer and the inherent method agree
/// assert_eq!(z.dim(), (500, 3));
/// # Ok::<(), rbig::RbigError>(())
/// ```
impl<S: Data<Elem = f64>> linfa::traits::Transformer<&ArrayBase<S, Ix2>, Result<Array2<f64>>> for Rbig {
    fn transform(&self, x: &ArrayBase<S, Ix2>) -> Result<Array2<f64>> {
        Rbig::transform(self, x)
    }
}
