//! The fitted model: one ordered list of steps, closed by a marginal step.
//!
//! Fitting (`fit.rs`) appends steps while they remove total correlation (or, with
//! [`crate::Validation`], while held-out rows score better, `held_out.rs`); applying
//! (`apply.rs`) runs the list forwards for transforms and densities and backwards for
//! inverses and samples; `file.rs` is the model file; `selection.rs` compares
//! configurations on held-out rows.

mod annotations;
mod apply;
mod file;
mod fit;
pub(crate) use fit::{as_fitted, check_input};
pub(crate) use selection::side_by_side;
mod held_out;
mod selection;
mod stopping;

pub use file::FORMAT_VERSION;
pub use selection::{density_candidates, select, Selection};

use ndarray::{ArrayViewMut1, ArrayViewMut2};
use serde::{Deserialize, Serialize};

use self::annotations::Annotations;
use crate::bijector::Bijector;
use crate::error::{RbigError, Result};
use crate::marginal::MarginalGaussianizer;
use crate::null::NullModel;
use crate::params::{RbigParams, RbigValidParams};
use crate::prestep::{refine_null, Mixture, Radial, Start, Unmixing};
use crate::rotation::Rotation;

/// Most training rows a model file may claim: 2⁴⁰, 8 TB per column, beyond any fit.
const MAX_TRAIN_ROWS: usize = 1 << 40;

/// One fitted step of the model, in the order the data go through them.
///
/// A new kind of step is a new variant here (so that it is saved with the model) and an
/// implementation of [`Bijector`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// A Gaussian mixture's Rosenblatt transform, first when there is one.
    Mixture(Mixture),
    /// A linear unmixing before the layers (ICA mode).
    Unmixing(Unmixing),
    /// A radial Gaussianization before the layers (ICA mode).
    Radial(Radial),
    /// A marginal Gaussianization, then a rotation.
    Layer(Layer),
}

impl Step {
    fn bijector(&self) -> &dyn Bijector {
        match self {
            Step::Mixture(m) => m,
            Step::Unmixing(u) => u,
            Step::Radial(r) => r,
            Step::Layer(l) => l,
        }
    }
}

/// A rotating layer: a marginal Gaussianization, then a rotation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layer {
    pub(crate) marginal: MarginalGaussianizer,
    pub(crate) rotation: Rotation,
}

impl Bijector for Layer {
    fn dim(&self) -> usize {
        self.marginal.dim()
    }
    fn forward(&self, mut x: ArrayViewMut2<'_, f64>, log_det: Option<ArrayViewMut1<'_, f64>>) {
        self.marginal.forward(x.view_mut(), log_det);
        self.rotation.forward(x, None);
    }
    fn inverse(&self, mut z: ArrayViewMut2<'_, f64>) {
        self.rotation.inverse(z.view_mut());
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

/// What was fitted before the layers: ICA mode's steps, a mixture start; see
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
    /// Components of the Gaussian-mixture start ([`crate::RbigParams::mixture`]); 0
    /// without one.
    pub mixture_components: usize,
    /// Total correlation these steps removed (nats), bias-corrected: the part of
    /// [`Rbig::total_correlation`] that is not in [`Rbig::diagnostics`]. A mixture
    /// start's part is its in-sample reduction, with no bias correction (no null is
    /// simulated for it).
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
/// let draws = model.sample(10, &mut rand::rngs::StdRng::seed_from_u64(1)).unwrap();
/// assert_eq!(draws.dim(), (10, 2));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Rbig {
    pub(crate) dim: usize,
    pub(crate) n_train: usize,
    pub(crate) params: RbigValidParams,
    /// The steps, in forward order: ICA mode's steps before the layers (linear
    /// unmixings, a radial Gaussianization), then the rotating layers.
    pub(crate) steps: Vec<Step>,
    /// The closing marginal step, which makes the output's marginals Gaussian.
    pub(crate) output: MarginalGaussianizer,
    /// Total correlation removed by the steps before the layers, bias-corrected.
    pub(crate) pre_tc: f64,
    /// What the unmixing's refinement (if one was kept) was charged for overfitting, in
    /// `pre_tc`: a joint model started from this model's unmixing charges it again, so
    /// that the two cancel. `None` in files older than format 7, whose refinements were
    /// charged the Gaussian null ([`refine_null`]).
    pub(crate) refinement_charge: Option<f64>,
    /// One entry per rotating layer.
    pub(crate) diagnostics: Vec<LayerDiagnostics>,
    pub(crate) marginal_entropies: Vec<f64>,
    /// Mean log-likelihood of the held-out rows that chose the depth, when they did.
    pub(crate) held_out_log_likelihood: Option<f64>,
    /// Bin widths the training data were dequantized with, when they were.
    pub(crate) dequantization: Option<Vec<f64>>,
    /// Column names, training-score quantiles, held-out curve.
    pub(crate) annotations: Annotations,
}

impl Rbig {
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

    /// Number of layers: each a marginal Gaussianization followed by a rotation, at most
    /// the `max_layers` asked for. The closing marginal step, which makes the output's
    /// marginals Gaussian, is not counted: a model of independent columns has 0 layers.
    pub fn n_layers(&self) -> usize {
        self.layers().count()
    }

    /// The rotating layers, in forward order.
    fn layers(&self) -> impl Iterator<Item = &Layer> {
        self.steps.iter().filter_map(|s| match s {
            Step::Layer(l) => Some(l),
            _ => None,
        })
    }

    /// The marginal steps: each layer's, then the closing one.
    pub(crate) fn marginal_steps(&self) -> impl Iterator<Item = &MarginalGaussianizer> {
        self.layers().map(|l| &l.marginal).chain(std::iter::once(&self.output))
    }

    /// The log-likelihood per row that the closing marginal step's fitted spline maps
    /// lose on rows the model was not fitted to, on average (each map's loss on Gaussian
    /// data of the training size, [`NullModel::spline_loss`]): how far from standard
    /// normal the output's marginals are on new rows from the training distribution.
    pub(crate) fn output_loss(&self) -> f64 {
        let null = NullModel::new(self.n_train, self.dim, self.params.rotation, self.params.knots);
        self.output.spline_maps() as f64 * null.spline_loss
    }

    /// The linear unmixing steps, in forward order.
    fn unmixings(&self) -> impl Iterator<Item = &Unmixing> {
        self.steps.iter().filter_map(|s| match s {
            Step::Unmixing(u) => Some(u),
            _ => None,
        })
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

    /// What was fitted before the layers (ICA mode's steps, a mixture start), and the total
    /// correlation it removed.
    ///
    /// ```
    /// use linfa::prelude::*;
    /// use rbig::{Rbig, RotationKind};
    /// // Linearly mixed heavy-tailed sources: the unmixing does most of the work.
    /// let x = rbig_tasks::power_mixed(3, 3).sample(4000, 0);
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
            unmixing_steps: self.unmixings().count(),
            refined: self.unmixings().any(Unmixing::is_refined),
            radial: self.steps.iter().any(|s| matches!(s, Step::Radial(_))),
            mixture_components: match self.steps.first() {
                Some(Step::Mixture(m)) => m.components(),
                _ => 0,
            },
            tc_reduction: self.pre_tc,
        }
    }

    /// The model's first linear unmixing step as the start of a joint model (none, with
    /// null means 0, when it has none).
    pub(crate) fn unmixing_start(&self) -> Start {
        match self.unmixings().next() {
            Some(u) => {
                let refinement = match self.refinement_charge {
                    _ if !u.is_refined() => 0.0,
                    Some(charge) => charge,
                    None => refine_null(self.n_train, self.dim).0,
                };
                let linear_null = self.params.rotation.variance_null(self.n_train, self.dim).0;
                Start { step: Some(u.clone()), null_mean: linear_null + refinement, linear_null }
            }
            None => Start { step: None, null_mean: 0.0, linear_null: 0.0 },
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

    /// Variance of the fit's own noise in [`Rbig::total_correlation`]: each kept step's
    /// reduction carries the spread it shows on Gaussian data of the same size (the null
    /// standard deviation of a layer; of the refinement's search for a refined
    /// unmixing). The estimate's standard errors add it to their sampling variance.
    /// A model of two or more columns that kept no step still has one: its total
    /// correlation of 0 is the decision that the first layer's reduction did not stand
    /// out of that noise (without it, an estimate of 0 reported a standard error of 0).
    /// One column has no dependence to estimate.
    pub(crate) fn noise_variance(&self) -> f64 {
        let null = NullModel::new(self.n_train, self.dim, self.params.rotation, self.params.knots);
        let refinement = if self.pre_steps().refined { refine_null(self.n_train, self.dim).1.powi(2) } else { 0.0 };
        let steps = if self.dim > 1 { self.steps.len().max(1) } else { self.steps.len() };
        steps as f64 * null.sd * null.sd + refinement
    }

    /// The noise-corrected reduction above which a layer counts as significant
    /// ([`LayerDiagnostics::significant`]): the fit's significance times the standard
    /// deviation of one layer's reduction on Gaussian data of the training size. The
    /// band within ± this of zero is the noise the stopping rule sees.
    pub fn significance_threshold(&self) -> f64 {
        let null = NullModel::new(self.n_train, self.dim, self.params.rotation, self.params.knots);
        self.params.significance * null.sd
    }

    /// Every step as a bijection, in forward order, the closing marginal step last.
    fn bijectors(&self) -> impl DoubleEndedIterator<Item = &dyn Bijector> {
        self.steps.iter().map(Step::bijector).chain([&self.output as &dyn Bijector])
    }

    /// Bin widths the training data were dequantized with (`rbig fit --dequantize`), if
    /// they were: what [`Rbig::dequantized_log_likelihood`] needs to score such data.
    pub fn dequantization_widths(&self) -> Option<&[f64]> {
        self.dequantization.as_deref()
    }

    /// The model, recording that its training data were dequantized with bin `widths`
    /// (one per column; saved with it, see [`Rbig::dequantization_widths`]).
    ///
    /// ```
    /// use rbig::dequantize::{jitter, resolution};
    /// let counts = ndarray::Array2::from_shape_fn((500, 2), |(i, j)| ((i * (j + 2)) % 7) as f64);
    /// let widths = resolution(&counts);
    /// let model = rbig::Rbig::fit(&jitter(&counts, &widths, 0)?)?.with_dequantization_widths(widths.clone())?;
    /// assert_eq!(model.dequantization_widths(), Some(&widths[..]));
    /// # Ok::<(), rbig::RbigError>(())
    /// ```
    ///
    /// # Errors
    /// [`RbigError::InvalidParameter`] if there is not one finite, non-negative width
    /// per column.
    pub fn with_dequantization_widths(mut self, widths: Vec<f64>) -> Result<Self> {
        check_widths(&widths, self.dim)?;
        self.dequantization = Some(widths);
        Ok(self)
    }

    /// Checks the invariants a fitted model satisfies (used on loading).
    pub(crate) fn validate(&self) -> std::result::Result<(), String> {
        use linfa::ParamGuard;
        RbigParams(self.params.clone()).check().map_err(|e| e.to_string())?;
        if let Some(widths) = &self.dequantization {
            check_widths(widths, self.dim).map_err(|e| e.to_string())?;
        }
        // A fit needs more rows than columns; and the training size sets the noise
        // simulations a loaded model runs, so an absurd one would run without end.
        if self.dim == 0 || self.n_train <= self.dim || self.n_train > MAX_TRAIN_ROWS {
            return Err(format!("impossible shape: {} columns, {} training rows", self.dim, self.n_train));
        }
        if self.bijectors().any(|b| b.dim() != self.dim) {
            return Err(format!("a step does not have the model's {} dimensions", self.dim));
        }
        // The file stores the steps before the layers apart from the layers (see `file.rs`).
        let first_layer = self.steps.iter().position(|s| matches!(s, Step::Layer(_))).unwrap_or(self.steps.len());
        if self.steps[first_layer..].iter().any(|s| !matches!(s, Step::Layer(_))) {
            return Err("a step before the layers comes after one".into());
        }
        let mixture_elsewhere = self.steps.iter().skip(1).any(|s| matches!(s, Step::Mixture(_)));
        let mixture_params = match (self.steps.first(), self.params.mixture) {
            (Some(Step::Mixture(m)), crate::MixtureStart::Components(k)) => m.components() == k,
            (Some(Step::Mixture(_)), _) => false,
            (_, mixture) => mixture == crate::MixtureStart::Off,
        };
        if mixture_elsewhere || !mixture_params {
            return Err("the mixture start does not match the model".into());
        }
        if self.steps.iter().filter(|s| matches!(s, Step::Radial(_))).count() > 1 || !self.pre_tc.is_finite() {
            return Err("the steps before the layers do not match the model".into());
        }
        match self.refinement_charge {
            Some(charge) if !charge.is_finite() => return Err("the refinement's charge is not finite".into()),
            Some(_) if !self.unmixings().any(Unmixing::is_refined) => {
                return Err("a refinement's charge without a refined unmixing".into())
            }
            _ => {}
        }
        if self.diagnostics.len() != self.layers().count() {
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
        self.annotations.validate(self.dim)
    }

    /// Largest number of knots of any marginal map (a measure of model size).
    pub fn max_knots(&self) -> usize {
        self.layers().map(|l| &l.marginal).chain([&self.output]).map(MarginalGaussianizer::max_knots).max().unwrap_or(0)
    }
}

/// The dequantization bin widths of a `d`-column model: one per column, finite and
/// non-negative (0 for a continuous column).
pub(crate) fn check_widths(widths: &[f64], d: usize) -> Result<()> {
    if widths.len() != d {
        let plural = if widths.len() == 1 { "" } else { "s" };
        return Err(RbigError::InvalidParameter {
            name: "widths",
            reason: format!("{} width{plural} for {d} columns: give one bin width per column", widths.len()),
        });
    }
    if let Some(c) = widths.iter().position(|w| w.is_infinite()) {
        return Err(beyond_range(c));
    }
    if let Some(w) = widths.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
        return Err(RbigError::InvalidParameter {
            name: "widths",
            reason: format!("bin widths must be finite and non-negative, got {w}"),
        });
    }
    Ok(())
}

/// Column `c`'s values, spread over their bins, leave the floating-point range.
pub(crate) fn beyond_range(c: usize) -> RbigError {
    RbigError::NumericOverflow {
        reason: format!(
            "column {}: its values spread over their bins leave the floating-point range (about ±1.8e308)",
            c + 1
        ),
    }
}
