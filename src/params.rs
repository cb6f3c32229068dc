//! Hyperparameters: a builder in linfa's style, validated once by [`ParamGuard`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use linfa::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::RbigError;
use crate::marginal::Knots;
use crate::rotation::RotationKind;

/// Validated RBIG hyperparameters (what a fitted model records).
///
/// Obtain through [`RbigParams`] and [`ParamGuard::check`]; every field is then known to
/// be in range, so the fitting code never re-checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RbigValidParams {
    pub(crate) rotation: RotationKind,
    pub(crate) max_layers: usize,
    pub(crate) patience: usize,
    pub(crate) significance: f64,
    pub(crate) knots: Knots,
    pub(crate) seed: u64,
    /// Choose the number of layers on held-out rows instead of the significance rule.
    pub(crate) validation: Option<Validation>,
    /// Fraction of each layer's marginal step kept (after the first layer); the rest
    /// stays the identity.
    pub(crate) shrinkage: f64,
    /// Bytes the fit may allocate beyond the input. A property of the machine the fit
    /// runs on, not of the model: not saved with it.
    #[serde(skip)]
    pub(crate) memory_limit: Option<u64>,
    /// Whether to start with an affine whitening step (see [`RbigParams::whitening`]).
    /// A fitted model records `Always` or `Never`, in its annotations (format 5), not
    /// here: this struct's encoding is shared with older formats.
    #[serde(skip)]
    pub(crate) whitening: Whitening,
    /// Whether to start with a Gaussian mixture's Rosenblatt transform (see
    /// [`RbigParams::mixture`]). A fitted model records it by its first step, for the
    /// same reason as the whitening.
    #[serde(skip)]
    pub(crate) mixture: MixtureStart,
    /// Set from another thread to stop a fit between layers. Like the memory limit, a
    /// property of the run, not of the model.
    #[serde(skip)]
    pub(crate) cancel: Option<CancelFlag>,
}

/// A shared flag that stops a fit at its next layer boundary once set.
#[derive(Debug, Clone)]
pub(crate) struct CancelFlag(Arc<AtomicBool>);

impl PartialEq for CancelFlag {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl RbigValidParams {
    /// [`RbigError::Cancelled`] once the cancel flag (if any) is set.
    pub(crate) fn check_cancelled(&self) -> Result<(), RbigError> {
        match &self.cancel {
            Some(flag) if flag.0.load(Ordering::Relaxed) => Err(RbigError::Cancelled),
            _ => Ok(()),
        }
    }
}

impl RbigValidParams {
    /// Rotation used by each layer.
    pub fn rotation(&self) -> RotationKind {
        self.rotation
    }
    /// Upper bound on the number of layers fitted.
    pub fn max_layers(&self) -> usize {
        self.max_layers
    }
    /// Consecutive layers without a significant reduction before fitting stops.
    pub fn patience(&self) -> usize {
        self.patience
    }
    /// Threshold, in standard deviations of the null noise, for a significant layer.
    pub fn significance(&self) -> f64 {
        self.significance
    }
    /// Knot rule of the marginal maps.
    pub fn knots(&self) -> Knots {
        self.knots
    }
    /// Bytes the fit may allocate beyond its input, if limited.
    pub fn memory_limit(&self) -> Option<u64> {
        self.memory_limit
    }
    /// Seed of the random rotations.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Fraction of each marginal step kept after the first layer (1 = full steps).
    pub fn shrinkage(&self) -> f64 {
        self.shrinkage
    }
    /// How the number of layers is chosen on held-out rows, if it is.
    pub fn validation(&self) -> Option<Validation> {
        self.validation
    }
    /// Whether the fit starts with an affine whitening step; a fitted model's
    /// parameters say `Always` or `Never`, whichever [`Whitening::Auto`] chose.
    pub fn whitening(&self) -> Whitening {
        self.whitening
    }
    /// Whether the model starts with an affine whitening step (`Always`).
    pub fn whiten(&self) -> bool {
        self.whitening == Whitening::Always
    }

    /// Whether and how the fit starts with a Gaussian mixture; a fitted model's
    /// parameters give the number of components chosen.
    pub fn mixture(&self) -> MixtureStart {
        self.mixture
    }

    /// These parameters with `whitening` set.
    pub(crate) fn with_whitening(&self, whitening: Whitening) -> Self {
        Self { whitening, ..self.clone() }
    }
}

/// Whether a fit starts with an exact affine whitening (see [`RbigParams::whitening`]).
///
/// ```
/// use rbig::{ParamGuard, Rbig, Whitening};
/// let params = Rbig::params().check()?;
/// assert_eq!(params.whitening(), Whitening::Auto);
/// assert!(Rbig::params().whiten(true).check()?.whiten());
/// # Ok::<(), rbig::RbigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Whitening {
    /// The layers start on the columns as given.
    Never,
    /// The layers start on the whitened columns.
    Always,
    /// Both starts are fitted and the one expected to score new rows better is kept
    /// (the default).
    #[default]
    Auto,
}

/// Whether a fit starts with a Gaussian mixture (see [`RbigParams::mixture`]).
///
/// ```
/// use rbig::{MixtureStart, ParamGuard, Rbig};
/// assert_eq!(Rbig::params().check()?.mixture(), MixtureStart::Off);
/// assert!(Rbig::params().mixture(MixtureStart::Components(0)).check().is_err());
/// # Ok::<(), rbig::RbigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MixtureStart {
    /// The layers start on the data (the default).
    #[default]
    Off,
    /// A mixture whose number of components is chosen among 1, 2, 3, 4, 6, 8, 12, 16,
    /// 24 and 32 (beyond 1, sizes that leave fewer than `2(d + 1)` rows per component
    /// are not tried): by the held-out rows' likelihood under the mixture when rows are
    /// held out ([`RbigParams::validation`]), by BIC otherwise. The search stops after
    /// two sizes that do not improve on the best.
    Bic,
    /// A mixture of this many components (at least 1; fewer if components empty during
    /// the fit).
    Components(usize),
}

/// Layer selection on held-out data, for density estimation.
///
/// The significance rule (the default) keeps layers while they remove total correlation
/// that stands out of the estimator's noise: the right rule for information measures.
/// For density estimation the question is different: does one more layer make the model
/// score unseen data better? Every layer fits its marginal maps to the training rows, so
/// past some depth layers fit the sample's noise; the held-out likelihood finds that
/// depth. The layers are fitted to the other rows while the held-out rows score each
/// depth; the model is then refitted on all rows with the best depth, so no data are
/// lost to the choice (the fit costs about two ordinary fits).
///
/// ```
/// use rbig::{ParamGuard, Rbig, RotationKind, Validation};
/// let x = ndarray::Array2::from_shape_fn((2000, 2), |(i, j)| {
///     let t = (i as f64 * 0.618_034) % 1.0 * 4.0 - 2.0;
///     if j == 0 { t } else { t * t + ((i as f64 * 0.414_214) % 1.0 - 0.5) }
/// });
/// let model = Rbig::params()
///     .rotation(RotationKind::Random)
///     .validation(Validation::default())
///     .check()?
///     .fit_observed(&x, |_| {})?;
/// assert!(model.held_out_log_likelihood().unwrap().is_finite());
/// # Ok::<(), rbig::RbigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    /// Fraction of the rows held out (default 0.2; strictly between 0 and 1).
    pub fraction: f64,
    /// Stop after this many layers without raising the held-out score by 0.001 nats
    /// (default 30: random rotations improve the score in jumps, with flat stretches
    /// between). The best depth seen is kept either way.
    pub patience: usize,
}

impl Default for Validation {
    fn default() -> Self {
        Self { fraction: 0.2, patience: 30 }
    }
}

/// Builder for RBIG hyperparameters.
///
/// ```
/// use rbig::{Rbig, RotationKind, Knots};
/// use linfa::prelude::*;
///
/// let params = Rbig::params()
///     .rotation(RotationKind::Random)
///     .max_layers(200)
///     .knots(Knots::Fixed(64))
///     .seed(7)
///     .check()
///     .unwrap();
/// assert_eq!(params.max_layers(), 200);
/// assert!(Rbig::params().patience(0).check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RbigParams(pub(crate) RbigValidParams);

impl Default for RbigParams {
    fn default() -> Self {
        Self(RbigValidParams {
            rotation: RotationKind::Pca,
            max_layers: 1000,
            patience: 5,
            significance: 3.0,
            knots: Knots::Auto,
            seed: 0,
            validation: None,
            shrinkage: 1.0,
            memory_limit: None,
            whitening: Whitening::Auto,
            mixture: MixtureStart::Off,
            cancel: None,
        })
    }
}

impl RbigParams {
    /// The defaults: PCA rotations, up to 1000 layers, stop after 5 insignificant
    /// layers in a row, 3-sigma significance, automatic knots, seed 0.
    pub fn new() -> Self {
        Self::default()
    }
    /// Rotation used by every layer (default [`RotationKind::Pca`]).
    pub fn rotation(mut self, rotation: RotationKind) -> Self {
        self.0.rotation = rotation;
        self
    }
    /// Upper bound on the number of layers (default 1000; at least 1).
    pub fn max_layers(mut self, max_layers: usize) -> Self {
        self.0.max_layers = max_layers;
        self
    }
    /// Stop after this many consecutive layers whose reduction of total correlation is
    /// indistinguishable from noise (default 5; at least 1).
    pub fn patience(mut self, patience: usize) -> Self {
        self.0.patience = patience;
        self
    }
    /// A layer counts as useful when its total-correlation reduction exceeds the mean of
    /// the estimator's null distribution (Gaussian data of the same size) by this many
    /// null standard deviations (default 3; finite and non-negative).
    pub fn significance(mut self, sigmas: f64) -> Self {
        self.0.significance = sigmas;
        self
    }
    /// Knots of the marginal maps (default [`Knots::Auto`]).
    pub fn knots(mut self, knots: Knots) -> Self {
        self.0.knots = knots;
        self
    }
    /// Seed for random rotations (default 0). The same seed and data give the same model
    /// bit for bit, whatever the number of threads.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }
    /// Choose the number of layers for density estimation: hold out a fraction of the
    /// rows (drawn with the seed), fit layers on the rest, find the depth that scores
    /// the held-out rows best, and refit that many layers on all rows (default: off,
    /// layers are kept while they remove significant total correlation; see
    /// [`Validation`]).
    pub fn validation(mut self, validation: Validation) -> Self {
        self.0.validation = Some(validation);
        self
    }
    /// Take partial marginal steps, for density estimation: every layer after the first
    /// moves its maps a fraction `1 − lambda` of the way back to the identity (knot
    /// values `(1 − λ)·x + λ·z`), so each layer follows the sample's noise by only `λ`
    /// and more, smaller layers share the work, as a learning rate does in boosting
    /// (default 1: full steps; in (0, 1]). Below 1 it needs [`RbigParams::validation`]:
    /// the significance rule's noise model assumes full steps, and the depth must be
    /// chosen on held-out rows instead.
    ///
    /// ```
    /// use rbig::{ParamGuard, Rbig, Validation};
    /// assert!(Rbig::params().shrinkage(0.5).check().is_err()); // needs validation
    /// let p = Rbig::params().shrinkage(0.5).validation(Validation::default()).check()?;
    /// assert_eq!(p.shrinkage(), 0.5);
    /// # Ok::<(), rbig::RbigError>(())
    /// ```
    pub fn shrinkage(mut self, lambda: f64) -> Self {
        self.0.shrinkage = lambda;
        self
    }
    /// Refuse, before allocating anything, a fit that would need more than `bytes`
    /// beyond its input ([`RbigError::MemoryLimit`]) instead of running out of memory
    /// part-way (default: no limit). The need is estimated from the data's shape: one
    /// working copy of the data, a second one in ICA mode, and per-thread buffers. The
    /// limit is not saved with the model.
    ///
    /// ```
    /// use rbig::{ParamGuard, Rbig, RbigError};
    /// let x = ndarray::Array2::<f64>::zeros((100_000, 10)); // 8 MB
    /// let params = Rbig::params().memory_limit(1_000_000).check()?;
    /// assert!(matches!(params.fit_observed(&x, |_| {}), Err(RbigError::MemoryLimit { .. })));
    /// # Ok::<(), RbigError>(())
    /// ```
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.0.memory_limit = Some(bytes);
        self
    }
    /// Whether to start with an exact affine whitening step: the training rows' mean
    /// and covariance, its diagonal raised by 1e-6 of each variance, its
    /// log-determinant counted. After it, a column that is not non-Gaussian beyond the
    /// noise gets an affine map instead of a spline, so a whitened model with no layers
    /// is the maximum-likelihood Gaussian: the model begins where one Gaussian ends.
    /// Tables whose columns are (near-)linear functions of others (derived
    /// measurements, sums, unit conversions) lie near a hyperplane that marginal maps
    /// on the raw columns would bend; the whitening captures it. (Tied columns are
    /// dequantized first, whitening or not; before a whitening or a mixture start, a
    /// column that earlier columns reproduce linearly to 1e-5 of its spread is kept on
    /// that relation, to its own residual or, exact to rounding, to 1e-3 of its spread.)
    /// On skewed or heavy-tailed columns it can cost, since it mixes them.
    ///
    /// [`Whitening::Auto`] (the default) fits both starts and keeps the better: the
    /// higher held-out likelihood under [`RbigParams::validation`], otherwise the higher
    /// total correlation less the likelihood each fitted spline map is expected to lose
    /// on new rows (simulated on Gaussian data of the same size, as the significance
    /// rule's noise is). The information estimators ([`crate::information`]) read
    /// `Auto` as `Never`: choosing the start by the estimate itself would bias it
    /// upwards.
    ///
    /// ```
    /// use rbig::{ParamGuard, Rbig, RbigError, Whitening};
    /// // Three columns, the third the sum of the first two up to rounding.
    /// let x = ndarray::Array2::from_shape_fn((2000, 3), |(i, j)| {
    ///     let (a, b) = (((i * 7) % 101) as f64 / 10.0, ((i * 13) % 97) as f64 / 10.0 + (i as f64).sin());
    ///     [a, b, ((a + b) * 1e4).round() / 1e4][j]
    /// });
    /// let model = Rbig::params().whitening(Whitening::Always).check()?.fit_observed(&x, |_| {})?;
    /// assert!(model.hyperparameters().whiten() && model.pre_steps().unmixing_steps == 1);
    /// // Auto keeps whichever start fits better, and says which.
    /// let model = Rbig::params().check()?.fit_observed(&x, |_| {})?;
    /// assert_ne!(model.hyperparameters().whitening(), Whitening::Auto);
    /// # Ok::<(), RbigError>(())
    /// ```
    pub fn whitening(mut self, whitening: Whitening) -> Self {
        self.0.whitening = whitening;
        self
    }
    /// Start with the Rosenblatt transform of a Gaussian mixture fitted by EM (full
    /// covariances, a seeded k-means++ start, each variance raised by 1e-6 of the
    /// column's): the layers then refine the mixture's Gaussianization, and the model's
    /// density is the mixture's, corrected. For data made of clusters (classes of cells,
    /// kinds of pixels), which a mixture describes and rotations with marginal maps
    /// approach only layer by layer. The transform is exact: its log-determinant is the
    /// mixture's log-density less the normal's at the output, and the inverse solves
    /// one monotone equation per coordinate. It replaces the whitening (a mixture is
    /// unchanged by affine maps), so it cannot be combined with
    /// `Whitening::Always`; `Auto` then means no whitening. For density estimation
    /// (default [`MixtureStart::Off`]): the information estimators refuse it, since the
    /// mixture's in-sample gain has no null to correct it by.
    ///
    /// ```
    /// use rbig::{MixtureStart, ParamGuard, Rbig, Validation};
    /// // Two square clusters: BIC takes a few Gaussians for each.
    /// let x = ndarray::Array2::from_shape_fn((1000, 2), |(i, j)| {
    ///     let t = (i as f64 * 0.618_034) % 1.0 - 0.5;
    ///     let u = (i as f64 * 0.414_214) % 1.0 - 0.5;
    ///     [t, u][j] + if i % 2 == 0 { 4.0 } else { 0.0 }
    /// });
    /// let params = Rbig::params().mixture(MixtureStart::Bic).validation(Validation::default()).check()?;
    /// let model = params.fit_observed(&x, |_| {})?;
    /// let k = model.pre_steps().mixture_components;
    /// assert!(k >= 2);
    /// assert_eq!(model.hyperparameters().mixture(), MixtureStart::Components(k));
    /// # Ok::<(), rbig::RbigError>(())
    /// ```
    pub fn mixture(mut self, mixture: MixtureStart) -> Self {
        self.0.mixture = mixture;
        self
    }
    /// `whitening(Whitening::Always)` when `whiten`, `whitening(Whitening::Never)`
    /// otherwise.
    pub fn whiten(self, whiten: bool) -> Self {
        self.whitening(if whiten { Whitening::Always } else { Whitening::Never })
    }
    /// Stop the fit with [`RbigError::Cancelled`] at its next layer boundary once `flag`
    /// is set (from another thread: a signal handler, a user interface, an interpreter
    /// polling for Ctrl-C). The flag is checked before the steps that precede the
    /// layers, before every layer, and between a selection's candidates, so a fit stops
    /// within one layer's time. It is not saved with the model.
    ///
    /// ```
    /// use std::sync::{atomic::AtomicBool, Arc};
    /// use rbig::{ParamGuard, Rbig, RbigError};
    /// let x = ndarray::Array2::from_shape_fn((500, 2), |(i, j)| ((i * (j + 2)) as f64 * 0.37).sin());
    /// let flag = Arc::new(AtomicBool::new(true)); // already set: nothing is fitted
    /// let params = Rbig::params().cancel_flag(flag).check()?;
    /// assert!(matches!(params.fit_observed(&x, |_| {}), Err(RbigError::Cancelled)));
    /// # Ok::<(), RbigError>(())
    /// ```
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.0.cancel = Some(CancelFlag(flag));
        self
    }
}

impl ParamGuard for RbigParams {
    type Checked = RbigValidParams;
    type Error = RbigError;

    fn check_ref(&self) -> Result<&RbigValidParams, RbigError> {
        let p = &self.0;
        let bad = |name, reason: &str| Err(RbigError::InvalidParameter { name, reason: reason.to_string() });
        if p.max_layers == 0 {
            return bad("max_layers", "must be at least 1");
        }
        if p.patience == 0 {
            return bad("patience", "must be at least 1");
        }
        if !(p.significance.is_finite() && p.significance >= 0.0) {
            return bad("significance", "must be finite and non-negative");
        }
        if let Some(v) = p.validation {
            if !(v.fraction > 0.0 && v.fraction < 1.0) {
                return bad("validation.fraction", "must lie strictly between 0 and 1");
            }
            if v.patience == 0 {
                return bad("validation.patience", "must be at least 1");
            }
        }
        if !(p.shrinkage > 0.0 && p.shrinkage <= 1.0) {
            return bad("shrinkage", "must lie in (0, 1]");
        }
        if p.shrinkage < 1.0 && p.validation.is_none() {
            return bad("shrinkage", "below 1 needs validation to choose the depth");
        }
        if p.mixture == MixtureStart::Components(0) {
            return bad("mixture", "needs at least 1 component");
        }
        if p.mixture != MixtureStart::Off && p.whitening == Whitening::Always {
            return bad("mixture", "replaces the whitening (a mixture does not change under affine maps): not both");
        }
        if let Knots::Fixed(k) = p.knots {
            if k < 2 {
                return bad("knots", "need at least 2 knots");
            }
            if k > Knots::MAX_FIXED {
                return bad(
                    "knots",
                    "at most 50,000 knots (a map's segments are indexed in 16 bits, tail knots included)",
                );
            }
        }
        Ok(p)
    }

    fn check(self) -> Result<RbigValidParams, RbigError> {
        self.check_ref()?;
        Ok(self.0)
    }
}
