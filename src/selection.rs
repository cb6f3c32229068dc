//! Model selection for density estimation: fit several configurations with the same rows
//! held out, keep the one that scores them best, refit it on all rows.
//!
//! No one configuration wins everywhere: random rotations suit smooth curved 2-D
//! shapes, ICA rotations (with their radial step) suit linearly mixed and elliptical
//! data, few knots suit smooth densities and many knots sharp ones. The held-out
//! likelihood decides, on the user's data.

use ndarray::{ArrayBase, Data, Ix2};

use crate::error::Result;
use crate::marginal::Knots;
use crate::model::Rbig;
use crate::params::{RbigParams, Validation};
use crate::rotation::RotationKind;
use linfa::ParamGuard;

/// The configurations [`Rbig::fit_density`] compares: PCA, random and ICA rotations,
/// each with [`Knots::Auto`] and [`Knots::Smooth`], depth chosen on 20 % held out rows.
///
/// ```
/// assert_eq!(rbig::density_candidates().len(), 6);
/// ```
pub fn density_candidates() -> Vec<RbigParams> {
    let mut out = Vec::new();
    for rotation in [RotationKind::Pca, RotationKind::Random, RotationKind::Ica] {
        for knots in [Knots::Auto, Knots::Smooth] {
            out.push(Rbig::params().rotation(rotation).knots(knots).validation(Validation::default()));
        }
    }
    out
}

/// The outcome of [`select`]: the chosen model, refitted on all rows, and every
/// candidate's held-out score.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The winning configuration refitted on all rows with the depth chosen for it.
    pub model: Rbig,
    /// Index of the winner in the candidate list.
    pub chosen: usize,
    /// Mean held-out log-likelihood (nats) of each candidate.
    pub scores: Vec<f64>,
}

/// Fits every candidate with rows held out, picks the best mean held-out
/// log-likelihood, and refits it on all rows with the depth chosen for it.
///
/// Candidates without [`Validation`] get the default one. Candidates with the same seed
/// and fraction hold out the same rows, so their scores compare like with like.
///
/// # Errors
/// An invalid candidate, or what [`Rbig::fit`] rejects.
///
/// ```
/// use rbig::{select, Knots, Rbig, RotationKind};
/// let x = ndarray::Array2::from_shape_fn((3000, 2), |(i, j)| {
///     let t = (i as f64 * 0.618_034) % 1.0 * 4.0 - 2.0;
///     if j == 0 { t } else { t * t + ((i as f64 * 0.414_214) % 1.0 - 0.5) }
/// });
/// let candidates = [Knots::Auto, Knots::Smooth].map(|k| Rbig::params().rotation(RotationKind::Random).knots(k));
/// let selection = select(&x, &candidates)?;
/// assert_eq!(selection.scores.len(), 2);
/// assert_eq!(selection.model.held_out_log_likelihood(), Some(selection.scores[selection.chosen]));
/// # Ok::<(), rbig::RbigError>(())
/// ```
pub fn select<S: Data<Elem = f64>>(x: &ArrayBase<S, Ix2>, candidates: &[RbigParams]) -> Result<Selection> {
    let mut best: Option<(usize, Rbig)> = None;
    let mut scores = Vec::with_capacity(candidates.len());
    for (i, candidate) in candidates.iter().enumerate() {
        let mut params = candidate.clone().check()?;
        params.validation.get_or_insert_with(Validation::default);
        let held_out = Rbig::fit_held_out(&params, x.view())?;
        let score = held_out.held_out_log_likelihood.unwrap_or(f64::NEG_INFINITY);
        scores.push(score);
        if best.as_ref().is_none_or(|(b, _)| score > scores[*b]) {
            best = Some((i, held_out));
        }
    }
    let (chosen, held_out) = best.ok_or_else(|| crate::RbigError::InvalidParameter {
        name: "candidates",
        reason: "no candidate configuration given".into(),
    })?;
    let model = Rbig::refit(&held_out, x.view(), None)?;
    Ok(Selection { model, chosen, scores })
}

impl Rbig {
    /// Fits a model for density estimation: compares the [`density_candidates`] on 20 %
    /// of the rows held out and refits the best on all rows (see [`select`]). Costs
    /// about seven ordinary fits.
    ///
    /// # Errors
    /// As [`Rbig::fit`], with at least `d + 2` rows left after holding out a fifth.
    pub fn fit_density<S: Data<Elem = f64>>(x: &ArrayBase<S, Ix2>) -> Result<Rbig> {
        Ok(select(x, &density_candidates())?.model)
    }
}
