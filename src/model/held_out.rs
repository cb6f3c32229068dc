//! Rows held out to choose the depth ([`crate::Validation`]).

use ndarray::{Array1, Array2, ArrayView2};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::bijector::{par_forward, Bijector};
use crate::error::{RbigError, Result};
use crate::marginal::MarginalGaussianizer;
use crate::numeric::normal::add_std_normal_ln_pdf;

/// Rows held out to choose the depth ([`crate::Validation`]): dimension-major, pushed
/// through the steps as they are fitted, with the log-determinants so far.
pub(super) struct HeldOut {
    x: Array2<f64>,
    log_det: Array1<f64>,
    patience: usize,
    /// Rotating layers of the best stack so far and its mean held-out log-likelihood.
    pub(super) best: (usize, f64),
    /// The same for the last stack that beat its predecessor by [`HELD_OUT_GAIN`].
    progress: (usize, f64),
    /// The mean held-out log-likelihood of every depth observed, from 0 layers.
    pub(super) curve: Vec<f64>,
}

/// Gain in mean held-out log-likelihood (nats) that counts as progress for the patience
/// of [`crate::Validation`].
const HELD_OUT_GAIN: f64 = 1e-3;

impl HeldOut {
    pub(super) fn new(x: Array2<f64>, patience: usize) -> Self {
        let n = x.ncols();
        let start = (0, f64::NEG_INFINITY);
        Self { x, log_det: Array1::zeros(n), patience, best: start, progress: start, curve: Vec::new() }
    }

    /// The held-out rows as the steps so far left them (dimension-major).
    pub(super) fn rows(&self) -> ArrayView2<'_, f64> {
        self.x.view()
    }

    /// Applies a fitted step.
    pub(super) fn advance(&mut self, step: &dyn Bijector) {
        par_forward(step, self.x.view_mut(), Some(self.log_det.view_mut()));
    }

    /// Scores the stack of `layers` rotating layers closed by the marginal step `last`,
    /// and returns whether the score has not improved for `patience` layers.
    pub(super) fn observe(&mut self, layers: usize, last: &MarginalGaussianizer) -> bool {
        let mut x = self.x.clone();
        let mut log_p = self.log_det.clone();
        par_forward(last, x.view_mut(), Some(log_p.view_mut()));
        add_std_normal_ln_pdf(x.view(), log_p.view_mut());
        // A held-out row beyond what floating point can map scores −∞ (see
        // `Rbig::log_density`), and so does a stack that produced one.
        let mean = log_p.mean().filter(|m| !m.is_nan()).unwrap_or(f64::NEG_INFINITY);
        self.curve.push(mean);
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
pub(super) fn hold_out(x: ArrayView2<'_, f64>, fraction: f64, seed: u64) -> Result<(Array2<f64>, Array2<f64>)> {
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
