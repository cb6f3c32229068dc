//! Model selection for density estimation: fit several configurations with the same rows
//! held out, keep the one that scores them best, refit it on all rows.
//!
//! No one configuration wins everywhere: random rotations suit smooth curved 2-D
//! shapes, ICA rotations (with their radial step) suit linearly mixed and elliptical
//! data, kernel-smoothed maps suit smooth densities and rank-based maps sharp ones. The
//! held-out likelihood decides, on the user's data.

use ndarray::{ArrayBase, Data, Ix2};

use super::Rbig;
use crate::error::{RbigError, Result};
use crate::marginal::Knots;
use crate::params::{MixtureStart, RbigParams, RbigValidParams, Validation};
use crate::rotation::RotationKind;
use linfa::ParamGuard;
use rayon::prelude::*;

/// Shrinkage of the candidates: half steps (see [`RbigParams::shrinkage`]). On every
/// task of the density bench, half steps scored held-out rows better than full steps,
/// for every rotation and knot rule tried.
const SHRINKAGE: f64 = 0.5;

/// The configurations [`Rbig::fit_density`] compares: PCA and random rotations, each
/// with [`Knots::Auto`] and [`Knots::Smooth`] maps; ICA rotations with smooth maps after
/// a whitening start ([`RbigParams::whitening`]: for tables whose columns are
/// near-linear functions of others, and the candidate that is one Gaussian when nothing
/// else pays) and after a Gaussian-mixture start ([`RbigParams::mixture`], its size
/// chosen on the held-out rows: for data made of clusters). All in half steps ([`RbigParams::shrinkage`] 0.5),
/// the depth chosen on 20 % of the rows held out.
///
/// ICA rotations without a start (with auto or smooth maps) are not among them: since
/// the mixture start, they scored best on none of the density bench's 15 tasks and
/// tables (ICA mode whitens before its layers anyway), and they were the slowest
/// candidates (23 s of MAGIC's 57 s over all candidates).
///
/// ```
/// let candidates = rbig::density_candidates();
/// assert_eq!(candidates.len(), 6);
/// ```
pub fn density_candidates() -> Vec<RbigParams> {
    let half_steps = |p: RbigParams| p.shrinkage(SHRINKAGE).validation(Validation::default());
    let mut out = Vec::new();
    for rotation in [RotationKind::Pca, RotationKind::Random] {
        for knots in [Knots::Auto, Knots::Smooth] {
            out.push(half_steps(Rbig::params().rotation(rotation).knots(knots).whiten(false)));
        }
    }
    let ica = || Rbig::params().rotation(RotationKind::Ica).knots(Knots::Smooth);
    out.push(half_steps(ica().whiten(true)));
    out.push(half_steps(ica().whiten(false).mixture(MixtureStart::Bic)));
    out
}

/// Bytes that the working copies of independent fits run side by side may take.
const PARALLEL_BYTES: usize = 1 << 28;

/// Whether `fits` independent fits (the candidates here, an information estimate's, the
/// two starts of a fit) of `values` values each run side by side: when all their working
/// copies fit in [`PARALLEL_BYTES`]; beyond, one at a time, so that memory stays that of
/// one fit.
pub(crate) fn side_by_side(values: usize, fits: usize) -> bool {
    values.saturating_mul(8).saturating_mul(fits) <= PARALLEL_BYTES
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
/// A candidate that fails on these data scores −∞.
///
/// # Errors
/// An invalid candidate, or, when every candidate fails, the first one's error (what
/// [`Rbig::fit`] rejects).
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
    if candidates.is_empty() {
        return Err(RbigError::InvalidParameter { name: "candidates", reason: "none given".into() });
    }
    let params = candidates
        .iter()
        .map(|c| {
            let mut p = c.clone().check()?;
            p.validation.get_or_insert_with(Validation::default);
            Ok(p)
        })
        .collect::<Result<Vec<_>>>()?;
    let view = x.view();
    let fit = |p: &RbigValidParams| Rbig::fit_held_out(p, view);
    // Each fit is deterministic whatever the threads, so running them side by side
    // changes nothing but the time.
    let fitted: Vec<Result<Rbig>> = if side_by_side(x.len(), params.len()) {
        params.par_iter().map(fit).collect()
    } else {
        params.iter().map(fit).collect()
    };
    // A candidate that cannot fit these data (ICA on a degenerate direction, say) scores
    // −∞; the selection fails only when every candidate does, with the first one's error.
    if fitted.iter().all(Result::is_err) {
        return Err(fitted.into_iter().find_map(Result::err).expect("at least one candidate"));
    }
    let scores: Vec<f64> = fitted
        .iter()
        .map(|m| m.as_ref().ok().and_then(|m| m.held_out_log_likelihood).unwrap_or(f64::NEG_INFINITY))
        .collect();
    // The first of equal scores wins, so the order of the candidates breaks ties; a
    // fitted candidate beats a failed one even when both score −∞.
    let ok = |i: usize| fitted[i].is_ok();
    let first_ok = (0..scores.len()).find(|&i| ok(i)).expect("some candidate fitted");
    let chosen = (0..scores.len()).fold(first_ok, |b, i| if ok(i) && scores[i] > scores[b] { i } else { b });
    let Ok(best) = &fitted[chosen] else { unreachable!("the chosen candidate fitted") };
    let model = Rbig::refit(best, view, None)?.with_reference_scores(&view)?;
    Ok(Selection { model, chosen, scores })
}

impl Rbig {
    /// Fits a model for density estimation: compares the [`density_candidates`] on 20 %
    /// of the rows held out and refits the best on all rows (see [`select`]). Costs
    /// about seven ordinary fits (six and the refit), some with more, smaller layers.
    ///
    /// # Errors
    /// As [`Rbig::fit`], with at least `d + 2` rows left after holding out a fifth.
    pub fn fit_density<S: Data<Elem = f64>>(x: &ArrayBase<S, Ix2>) -> Result<Rbig> {
        Ok(select(x, &density_candidates())?.model)
    }
}
