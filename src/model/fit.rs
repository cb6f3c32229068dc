//! The fitting loop: steps are fitted on the current data and appended while they
//! remove total correlation beyond noise (or, with [`crate::Validation`], while held-out
//! rows score better). The loop asks [`RotationKind::fitter`] for the rotations and
//! never names one.

use linfa::prelude::*;
use linfa::DatasetBase;
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Axis, Data, Ix2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::held_out::{hold_out, HeldOut};
use super::selection::side_by_side;
use super::stopping::StopRule;
use super::{Annotations, Layer, LayerDiagnostics, Rbig, Step};
use crate::bijector::par_forward;
use crate::error::{RbigError, Result};
use crate::marginal::{check_rows, row_entropies, MarginalGaussianizer, RowFit};
use crate::null::NullModel;
use crate::numeric::{linearly_dependent, spread_ties, spread_ties_keeping_relations};
use crate::params::{MixtureStart, RbigParams, RbigValidParams, Whitening};
use crate::prestep::{apply_start, fit_mixture, fit_pre_steps, Components, Mixture, PreSteps, Start, Unmixing};
use crate::rotation::RotationKind;

/// Rows on which [`Whitening::Auto`] chooses the start when there are more than twice
/// as many (below, fitting both starts on all rows costs no more than the pilot would).
const PILOT_ROWS: usize = 20_000;

/// The input problems any fit of `x` (rows = samples) reports first: no columns, too
/// few rows for a density, a value that is not finite (the first such cell).
pub(crate) fn check_input(x: ArrayView2<'_, f64>) -> Result<()> {
    let (n, d) = x.dim();
    if d == 0 {
        return Err(RbigError::NoColumns);
    }
    if n <= d {
        return Err(RbigError::TooFewRows { rows: n, columns: d, needed: d + 1 });
    }
    match x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((row, column), &value)) => Err(RbigError::NonFinite { row, column, value }),
        None => Ok(()),
    }
}

/// Bytes a fit of `n × d` data allocates beyond its input, at its peak: the working
/// copy; in ICA mode a trial copy while the unmixing step is judged; per thread, a
/// sorted copy of one column and its key buffer (measured: 2.05× the input in PCA mode
/// and 3.06× in ICA mode, input included, at n = 1e6, d = 100).
fn fit_memory(n: usize, d: usize, rotation: RotationKind) -> u64 {
    let data = (n as u64).saturating_mul(d as u64).saturating_mul(8);
    let copies = if rotation.unmixes() { 2 } else { 1 };
    let per_thread = 2 * 8 * n as u64 * rayon::current_num_threads() as u64;
    data.saturating_mul(copies).saturating_add(per_thread)
}

/// [`RbigError::MemoryLimit`] when `needed` bytes exceed the parameters' memory limit.
fn check_memory(params: &RbigValidParams, needed: u64) -> Result<()> {
    match params.memory_limit {
        Some(limit) if needed > limit => Err(RbigError::MemoryLimit { needed, limit }),
        _ => Ok(()),
    }
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

/// Spreads the ties of the dimension-major block `work` as a fit under `params` does.
fn spread_ties_as(params: &RbigValidParams, work: &mut Array2<f64>) {
    if params.whiten() || params.mixture != MixtureStart::Off {
        spread_ties_keeping_relations(work, params.seed);
    } else {
        spread_ties(work, params.seed);
    }
}

/// The rows `x` (rows = samples) as a fit under `params` sees them: tied values spread
/// over their lattice step. Nearest-neighbour measures on a fit's rows (what its layers
/// left, the KSG check) are made there: on the ties themselves, the distances would
/// take the lattice for dependence (independent count columns showed 0.2 to 0.8 nats).
pub(crate) fn as_fitted(params: &RbigValidParams, x: ArrayView2<'_, f64>) -> Array2<f64> {
    let mut work = to_dim_major(&x);
    spread_ties_as(params, &mut work);
    work.reversed_axes()
}

/// Copies rows-as-samples `x` into the dimension-major working layout.
fn to_dim_major<S: Data<Elem = f64>>(x: &ArrayBase<S, Ix2>) -> Array2<f64> {
    x.t().as_standard_layout().into_owned()
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
        Self::fit_chosen(&params, x.view(), &mut |_| {})?.with_reference_scores(x)
    }

    /// The fit a user asks for: under [`Whitening::Auto`], both starts, keeping the
    /// better (see [`crate::RbigParams::whitening`]). Elsewhere in the crate `Auto`
    /// means no whitening: the information estimators must not choose by their own
    /// estimate.
    pub(crate) fn fit_chosen(
        params: &RbigValidParams,
        x: ArrayView2<'_, f64>,
        observer: &mut dyn FnMut(&LayerDiagnostics),
    ) -> Result<Self> {
        Self::choose_start(params, x, |p, x, observe| Self::fit_from(p, x, None, observe), observer)
    }

    /// `fit(params, x, observer)` under `params`' whitening, or under `Auto` with the
    /// better of the two starts. Beyond twice [`PILOT_ROWS`] rows the two starts are
    /// compared on that many rows drawn at random (seeded), unobserved, and only the
    /// better is fitted on all: what decides is the data's shape (skewed columns, linear
    /// relations), which a sample shows as well, and the choice costs a fraction of a
    /// fit instead of a fit. A start that fails leaves the other: the raw start refuses
    /// near-exact linear relations between columns, which the whitening captures. When
    /// both fail, the raw start's error is reported.
    ///
    /// The two starts' fits run side by side (when [`side_by_side`]): each is
    /// deterministic, and each leaves a core idle in its serial parts. The observed raw
    /// start runs on this thread; the whitened start's layers reach `observer` after
    /// it, as when the two ran in turn.
    fn choose_start(
        params: &RbigValidParams,
        x: ArrayView2<'_, f64>,
        fit: impl Fn(&RbigValidParams, ArrayView2<'_, f64>, &mut dyn FnMut(&LayerDiagnostics)) -> Result<Self> + Sync,
        observer: &mut dyn FnMut(&LayerDiagnostics),
    ) -> Result<Self> {
        if params.whitening != Whitening::Auto {
            return fit(params, x, observer);
        }
        // A mixture does not change under affine maps: the whitening would add nothing.
        if params.mixture != MixtureStart::Off {
            return fit(&params.with_whitening(Whitening::Never), x, observer);
        }
        let (raw, whitened) = (params.with_whitening(Whitening::Never), params.with_whitening(Whitening::Always));
        let (n, d) = x.dim();
        if n > 2 * PILOT_ROWS {
            // The sample, its index and the two pilot fits side by side come on top of
            // what the fit itself needs.
            let pilot_bytes =
                (8 * (n + PILOT_ROWS * d) as u64).saturating_add(2 * fit_memory(PILOT_ROWS, d, params.rotation));
            check_memory(params, fit_memory(n, d, params.rotation).saturating_add(pilot_bytes))?;
            let sample = {
                let mut rows: Vec<usize> = (0..n).collect();
                rows.shuffle(&mut ChaCha8Rng::seed_from_u64(params.seed));
                rows.truncate(PILOT_ROWS);
                rows.sort_unstable();
                x.select(Axis(0), &rows)
            };
            let pilot = |p| fit(p, sample.view(), &mut |_| {});
            let (raw_fit, whitened_fit) = rayon::join(|| pilot(&raw), || pilot(&whitened));
            drop(sample);
            match Self::better_start(raw_fit, whitened_fit) {
                Ok(model) => return fit(&model.params, x, observer),
                Err(RbigError::Cancelled) => return Err(RbigError::Cancelled),
                // A sample can fail where all rows do not (ties, a column constant on
                // the sample): decide on all rows.
                Err(_) => {}
            }
        }
        if !side_by_side(x.len(), 2) {
            return Self::better_start(fit(&raw, x, observer), fit(&whitened, x, observer));
        }
        let (mut whitened_fit, mut whitened_layers) = (None, Vec::new());
        let raw_fit = rayon::in_place_scope(|s| {
            s.spawn(|_| whitened_fit = Some(fit(&whitened, x, &mut |layer| whitened_layers.push(*layer))));
            fit(&raw, x, observer)
        });
        // The cancel flag holds for the replayed layers too: the observer sees none after it.
        for layer in &whitened_layers {
            params.check_cancelled()?;
            observer(layer);
        }
        params.check_cancelled()?;
        Self::better_start(raw_fit, whitened_fit.expect("the scope waits for its tasks"))
    }

    /// The model of the better start, whichever [`Rbig::start_score`] prefers; the one
    /// that fitted if the other failed; the raw start's error if both failed.
    fn better_start(raw: Result<Self>, whitened: Result<Self>) -> Result<Self> {
        match (raw, whitened) {
            (Err(RbigError::Cancelled), _) | (_, Err(RbigError::Cancelled)) => Err(RbigError::Cancelled),
            (Ok(raw), Ok(whitened)) if whitened.start_score() > raw.start_score() => Ok(whitened),
            (Ok(raw), _) => Ok(raw),
            (Err(_), Ok(whitened)) => Ok(whitened),
            (Err(error), Err(_)) => Err(error),
        }
    }

    /// How well this model is expected to score on new rows, for choosing between
    /// starts: the held-out log-likelihood when rows were held out; otherwise the total
    /// correlation removed (bias-corrected, as an entropy estimate would be) less, for
    /// each fitted spline map, the likelihood such a map loses on new rows by following
    /// its sample's noise (its in-sample gain on Gaussian data of the same size).
    fn start_score(&self) -> f64 {
        if let Some(score) = self.held_out_log_likelihood {
            return score;
        }
        let null = NullModel::new(self.n_train, self.dim, self.params.rotation, self.params.knots);
        let maps: usize = self.marginal_steps().map(MarginalGaussianizer::spline_maps).sum();
        self.total_correlation() - maps as f64 * null.spline_overfit
    }

    pub(crate) fn fit_with(params: &RbigValidParams, x: ArrayView2<'_, f64>) -> Result<Self> {
        Self::fit_from(params, x, None, &mut |_| {})
    }

    /// Fits from the start `given`: its linear step applied first (in ICA mode, before
    /// the fitted unmixing), its reduction corrected by the start's null mean, and its
    /// credit given to the first step that removes every correlation. A joint model
    /// starts from its blocks' unmixings, or knows what correlation its Gaussianized
    /// blocks have left within them.
    pub(crate) fn fit_from(
        params: &RbigValidParams,
        x: ArrayView2<'_, f64>,
        given: Option<Start>,
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
        Self::choose_start(params, x, |p, x, _| Self::fit_layers(p, x, None, &mut |_| {}, None), &mut |_| {})
    }

    /// `held_out`'s configuration and depth fitted on all of `x` (after the linear step
    /// `given`, as in [`Rbig::fit_from`]).
    pub(crate) fn refit(held_out: &Self, x: ArrayView2<'_, f64>, given: Option<Start>) -> Result<Self> {
        let mut model = Self::fit_layers(&held_out.params, x, given, &mut |_| {}, Some(held_out))?;
        model.held_out_log_likelihood = held_out.held_out_log_likelihood;
        model.annotations.held_out_curve.clone_from(&held_out.annotations.held_out_curve);
        Ok(model)
    }

    /// The fit itself: with rows held out when `params` ask for validation and no
    /// `held_out` model is given; as a refit of `held_out` when it is: with exactly its
    /// number of rotating layers (fewer only if the layers start to cycle), and its
    /// mixture start (if any) as EM's starting point, so that the refit settles on the
    /// mixture the held-out rows scored, not on another local optimum.
    fn fit_layers(
        params: &RbigValidParams,
        x: ArrayView2<'_, f64>,
        given: Option<Start>,
        observer: &mut dyn FnMut(&LayerDiagnostics),
        held_out_fit: Option<&Self>,
    ) -> Result<Self> {
        let depth = held_out_fit.map(|m| m.diagnostics.len());
        let warm_start = held_out_fit.and_then(|m| match m.steps.first() {
            Some(Step::Mixture(mixture)) => Some(mixture),
            _ => None,
        });
        let d = x.ncols();
        check_input(x)?;
        check_memory(params, fit_memory(x.nrows(), d, params.rotation))?;
        params.check_cancelled()?;
        let (mut work, mut held_out) = match params.validation.filter(|_| depth.is_none()) {
            Some(v) => {
                let (fit, held) = hold_out(x, v.fraction, params.seed)?;
                (fit, Some(HeldOut::new(held, v.patience)))
            }
            None => (to_dim_major(&x), None),
        };
        let n = work.ncols();
        // Ties are spread first, whitening or not: the model is a density of the data
        // dequantized at their own resolution. Whitened first, tied columns mix into
        // combs of near-ties that no later step sees as ties, and the model puts spikes
        // on the lattice (two independent integer columns showed a total correlation of
        // 8.4 nats). Spread column by column, linear relations between tied columns
        // would hold only to the lattice's resolution: a start that captures such
        // relations (a whitening, a mixture) gets them kept as tight as they were.
        let mut untied = RowFit::of_untied(work.view(), params.knots);
        if untied.is_none() {
            spread_ties_as(params, &mut work);
        }
        let whitening = if params.whiten() {
            check_rows(work.view())?;
            let w = Unmixing::whitening(work.view()).map_err(|_| RbigError::Degenerate { layer: 0 })?;
            let raw_entropies = match untied.take() {
                Some(raw) => raw.entropies,
                None => row_entropies(work.view())?,
            };
            par_forward(&w, work.view_mut(), None);
            Some((w, raw_entropies))
        } else {
            None
        };
        // Constant and unscalable columns first (they would also make the dependence
        // check meaningless), then exact linear dependence.
        check_rows(work.view())?;
        // A mixture start floors its covariances (like the whitening, which comes first).
        if params.mixture == MixtureStart::Off && linearly_dependent(work.view()) {
            return Err(RbigError::Degenerate { layer: 0 });
        }
        let null = NullModel::new(n, d, params.rotation, params.knots);
        // `work` measured (each sort serves the next step), unless whitened since.
        let mut fit = untied;
        let raw = fit.as_ref().map(|f| f.entropies.clone());
        let (mixture, mixture_tc) =
            match fit_start_mixture(params, &mut work, warm_start, held_out.as_ref().map(|h| h.rows()), raw)? {
                Some(MixtureFit { mixture, raw, after, tc }) => {
                    fit = Some(after);
                    (Some((mixture, raw)), tc)
                }
                None => (None, 0.0),
            };
        let (mixture, mixture_raw) = mixture.unzip();
        let (whitening, whitened_raw) = whitening.unzip();
        // The whitening's reduction, as a linear step's: Σ H(xᵢ) − Σ H(wᵢ) + ln |det A|.
        let whitening_tc = match (&whitening, &whitened_raw) {
            (Some(w), Some(raw)) => {
                let after = RowFit::of(work.view(), params.knots)?;
                let tc =
                    raw.iter().sum::<f64>() - after.entropies.iter().sum::<f64>() + w.ln_abs_det() - null.linear_mean;
                fit = Some(after);
                tc
            }
            _ => 0.0,
        };
        let mut rule = StopRule::new(params.patience, params.significance, null);
        // A start's credit (`Start::linear_null`) goes to the first step that removes
        // every correlation: ICA mode's unmixing, or else the first layer when its
        // rotation is on principal axes (a random rotation removes only part of them,
        // and gets none).
        let has_pre_steps = params.rotation.has_pre_steps(n, d);
        let first_layer_credit = match &given {
            Some(start) if !has_pre_steps && params.rotation != RotationKind::Random => start.linear_null,
            _ => 0.0,
        };
        let PreSteps { unmixing, radial, raw_entropies, fit, tc: pre_tc, refinement_charge } = match given {
            _ if has_pre_steps => fit_pre_steps(params, &null, &mut work, given, fit)?,
            Some(start) => apply_start(start, &mut work, fit, params.knots)?,
            None => PreSteps { fit, ..PreSteps::default() },
        };
        let pre_tc = pre_tc + whitening_tc + mixture_tc;
        let mut steps: Vec<Step> = mixture
            .map(Step::Mixture)
            .into_iter()
            .chain(whitening.into_iter().chain(unmixing).map(Step::Unmixing))
            .chain(radial.map(Step::Radial))
            .collect();
        let first = match fit {
            Some(RowFit { entropies, step: Some(step) }) => Ok((step, entropies)),
            _ => MarginalGaussianizer::fit(work.view(), params.knots),
        };
        let (mut marginal, mut h_input) = first.map_err(|c| {
            if steps.is_empty() {
                return c.into();
            }
            // The steps before the layers changed the values: name the problem by the
            // input's own column and values when it is already there.
            match MarginalGaussianizer::fit(to_dim_major(&x).view(), params.knots) {
                Err(input) => input.into(),
                Ok(_) => RbigError::Degenerate { layer: 0 },
            }
        })?;
        // After a whitening the model starts where one Gaussian ends: a column that is
        // not non-Gaussian beyond the noise gets an affine map. A spline fitted to a
        // Gaussian column follows its sample's noise, which costs held-out likelihood
        // (up to 0.8 nats on a 30-D Gaussian at n = 500) and buys nothing.
        if params.whiten() {
            let non_gaussian = |dim: usize| null.non_gaussian(work.row(dim), h_input[dim], params.significance);
            marginal = marginal.linearized(work.view(), non_gaussian);
        }
        if let Some(h) = &mut held_out {
            for step in &steps {
                h.advance(step.bijector());
            }
            h.observe(0, &marginal);
        }
        let raw_entropies = mixture_raw.or(whitened_raw).or(raw_entropies).unwrap_or_else(|| h_input.clone());
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
        let rotation_fit = params.rotation.fitter(n, d, null.gaussian_threshold(params.significance), params.seed);
        for index in 0..depth.unwrap_or(params.max_layers) {
            params.check_cancelled()?;
            let log_derivs = marginal.forward_mean_log_deriv(work.view_mut());
            let h_before: f64 = h_input.iter().zip(&log_derivs).map(|(h, l)| h + l).sum();
            let rotation = rotation_fit.fit(work.view(), index)?;
            par_forward(&rotation, work.view_mut(), None);
            let (mut next, h_next) = MarginalGaussianizer::fit(work.view(), params.knots)
                .map_err(|_| RbigError::Degenerate { layer: index })?;
            if params.shrinkage < 1.0 {
                let shrunk = next.clone().shrunk(params.shrinkage).ok_or(RbigError::Degenerate { layer: index })?;
                full_steps.push(std::mem::replace(&mut next, shrunk));
            }
            let raw = h_before - h_next.iter().sum::<f64>();
            let credited = if index == 0 { raw + first_layer_credit } else { raw };
            let significant = rule.observe(credited);
            let layer = LayerDiagnostics { tc_reduction: credited - null.mean, raw_reduction: raw, significant };
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
        steps.extend(
            marginals.into_iter().zip(rotations).map(|(marginal, rotation)| Step::Layer(Layer { marginal, rotation })),
        );
        let annotations = Annotations {
            held_out_curve: held_out.as_ref().map(|h| h.curve.clone()),
            whitened: params.whiten(),
            ..Default::default()
        };
        let mut params = params.clone();
        if let Some(Step::Mixture(m)) = steps.first() {
            // What BIC chose, so that a refit on all rows fits the same size.
            params.mixture = MixtureStart::Components(m.components());
        }
        let model = Self {
            dim: d,
            n_train: n,
            params,
            steps,
            output: last,
            pre_tc,
            refinement_charge,
            diagnostics,
            marginal_entropies,
            held_out_log_likelihood: held_out.map(|h| h.best.1),
            dequantization: None,
            annotations,
        };
        // The checks a model file gets on loading: a fit never returns (or saves) a
        // model it could not load. What fails them here is arithmetic that overflowed.
        model.validate().map_err(|reason| RbigError::NumericOverflow { reason })?;
        Ok(model)
    }
}

/// A mixture start fitted and applied.
struct MixtureFit {
    mixture: Mixture,
    /// The rows' spacing entropies before it.
    raw: Vec<f64>,
    /// The rows after it, measured.
    after: RowFit,
    /// The total correlation it removed, `Σ H(xᵢ) − Σ H(zᵢ) + mean ln |det J|`
    /// (in-sample: no null corrects it).
    tc: f64,
}

/// The mixture start `params` ask for, fitted to `work` (by EM from `warm_start` if
/// given) and applied to it in place; `raw` are `work`'s row entropies, if measured.
fn fit_start_mixture<'a>(
    params: &RbigValidParams,
    work: &mut Array2<f64>,
    warm_start: Option<&'a Mixture>,
    held_out: Option<ArrayView2<'a, f64>>,
    raw: Option<Vec<f64>>,
) -> Result<Option<MixtureFit>> {
    let components = match (params.mixture, warm_start) {
        (MixtureStart::Off, _) => return Ok(None),
        (_, Some(m)) => Components::From(m),
        (MixtureStart::Bic, None) => held_out.map_or(Components::Bic, Components::HeldOut),
        (MixtureStart::Components(k), None) => Components::Fixed(k),
    };
    let raw = match raw {
        Some(raw) => raw,
        None => row_entropies(work.view())?,
    };
    let mixture = fit_mixture(work.view(), components, params.seed).ok_or(RbigError::Degenerate { layer: 0 })?;
    params.check_cancelled()?;
    let mut log_det = Array1::zeros(work.ncols());
    par_forward(&mixture, work.view_mut(), Some(log_det.view_mut()));
    let after = RowFit::of(work.view(), params.knots).map_err(|_| RbigError::Degenerate { layer: 0 })?;
    let tc = raw.iter().sum::<f64>() - after.entropies.iter().sum::<f64>() + log_det.mean().unwrap_or(0.0);
    Ok(Some(MixtureFit { mixture, raw, after, tc }))
}

impl RbigValidParams {
    /// Fits like linfa's `Fit`, calling `observer` after every layer with what it
    /// measured (for progress reporting: layers are fitted until the stop rule fires,
    /// so their number is not known in advance).
    ///
    /// ```
    /// use rbig::{ParamGuard, Rbig};
    /// let x = ndarray::Array2::from_shape_fn((500, 2), |(i, j)| ((i * (j + 2)) as f64 * 0.37).sin() + (i % 11) as f64 * 0.1);
    /// let mut seen = 0;
    /// let model = Rbig::params().check()?.fit_observed(&x, |_layer| seen += 1)?;
    /// assert!(seen >= model.diagnostics().len());
    /// # Ok::<(), rbig::RbigError>(())
    /// ```
    pub fn fit_observed<S: Data<Elem = f64>>(
        &self,
        x: &ArrayBase<S, Ix2>,
        mut observer: impl FnMut(&LayerDiagnostics),
    ) -> std::result::Result<Rbig, RbigError> {
        Rbig::fit_chosen(self, x.view(), &mut observer)?.with_reference_scores(x)
    }
}

impl<S: Data<Elem = f64>, T> Fit<ArrayBase<S, Ix2>, T, RbigError> for RbigValidParams {
    type Object = Rbig;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<S, Ix2>, T>) -> std::result::Result<Rbig, RbigError> {
        let x = dataset.records();
        Rbig::fit_chosen(self, x.view(), &mut |_| {})?.with_reference_scores(x)
    }
}
