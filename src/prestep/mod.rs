//! The steps ICA mode fits before the layers: a linear unmixing (whitening, then
//! FastICA), its non-orthogonal maximum-likelihood refinement, and a radial
//! Gaussianization. Unlike the layers' rotations they change the joint entropy, by the
//! log-determinant of their Jacobian, and each is kept only when it removes total
//! correlation beyond the estimator's noise.

mod mixture;
mod radial;
mod refine;
mod refine_null;
mod unmixing;

pub(crate) use mixture::{fit_mixture, Components, Mixture};
pub(crate) use radial::Radial;
use refine_null::own_shape_overfit;
pub(crate) use refine_null::refine_null;
pub(crate) use unmixing::Unmixing;

use ndarray::{Array1, Array2};

use crate::bijector::par_forward;
use crate::error::{RbigError, Result};
use crate::marginal::{Knots, RowFit};
use crate::null::NullModel;
use crate::params::RbigValidParams;
use refine::refine;

/// What a fit starts from: a joint model starts from its blocks' unmixings, and knows
/// which correlations they (or the blocks' own models) already took out.
#[derive(Debug, Clone)]
pub(crate) struct Start {
    /// The linear step applied first, if any.
    pub(crate) step: Option<Unmixing>,
    /// The null mean its reduction is corrected by: the blocks' own, so that it cancels
    /// exactly against their models' reductions.
    pub(crate) null_mean: f64,
    /// What the first step that removes every correlation (the fitted unmixing, or a
    /// first layer on principal axes) is credited so that it counts only the
    /// correlations between the blocks, charged their own null: the null of the
    /// spurious correlations within the blocks, which are gone before it (their
    /// unmixings took them out) or which it removes but are no dependence between the
    /// blocks, less, in the second case, the correlation it finds left within them.
    pub(crate) linear_null: f64,
}

impl Start {
    /// The block-diagonal start of a joint model whose first columns are `self`'s block
    /// of `dim` columns, the rest `other`'s of `other_dim`.
    pub(crate) fn beside(self, dim: usize, other: Start, other_dim: usize) -> Start {
        let step = match (self.step, other.step) {
            (None, None) => None,
            (a, b) => Some(
                a.unwrap_or_else(|| Unmixing::identity(dim))
                    .block_diagonal(&b.unwrap_or_else(|| Unmixing::identity(other_dim))),
            ),
        };
        Start { step, null_mean: self.null_mean + other.null_mean, linear_null: self.linear_null + other.linear_null }
    }
}

/// What ICA mode fits before the layers.
#[derive(Default)]
pub(crate) struct PreSteps {
    pub(crate) unmixing: Vec<Unmixing>,
    pub(crate) radial: Option<Radial>,
    /// Spacing entropies of the raw columns (computed here because the first marginal
    /// fit no longer sees the raw data).
    pub(crate) raw_entropies: Option<Vec<f64>>,
    /// The rows after the steps, measured: the first layer's marginal step.
    pub(crate) fit: Option<RowFit>,
    /// Total correlation the steps removed, bias-corrected.
    pub(crate) tc: f64,
    /// What a kept refinement's gain was charged for overfitting.
    pub(crate) refinement_charge: Option<f64>,
}

/// A `start` applied to `work` alone, for fits without ICA mode's steps: its reduction
/// counted as in [`fit_pre_steps`]. `fit` is `work` measured, if it already was.
pub(crate) fn apply_start(start: Start, work: &mut Array2<f64>, fit: Option<RowFit>, knots: Knots) -> Result<PreSteps> {
    let Some(step) = start.step else {
        return Ok(PreSteps { tc: -start.null_mean, fit, ..PreSteps::default() });
    };
    let raw = measured(fit, work, knots)?.entropies;
    let (after, change) = entropy_change(&step, work, &raw, knots)?;
    Ok(PreSteps {
        unmixing: vec![step],
        radial: None,
        raw_entropies: Some(raw),
        fit: Some(after),
        tc: change - start.null_mean,
        refinement_charge: None,
    })
}

/// `fit`, or `work` measured now.
fn measured(fit: Option<RowFit>, work: &Array2<f64>, knots: Knots) -> Result<RowFit> {
    Ok(match fit {
        Some(fit) => fit,
        None => RowFit::of(work.view(), knots)?,
    })
}

/// Applies the linear `step` to `work`, whose rows' spacing entropies are `before`:
/// the rows after it measured, and the total correlation it removed,
/// `Σ H(xᵢ) − Σ H(f(x)ᵢ) + ln |det A|`.
fn entropy_change(step: &Unmixing, work: &mut Array2<f64>, before: &[f64], knots: Knots) -> Result<(RowFit, f64)> {
    par_forward(step, work.view_mut(), None);
    let after = RowFit::of(work.view(), knots).map_err(|_| RbigError::Degenerate { layer: 0 })?;
    let change = before.iter().sum::<f64>() - after.entropies.iter().sum::<f64>() + step.ln_abs_det();
    Ok((after, change))
}

/// ICA mode's steps before the layers, applied to `work` in place: the `given` linear
/// start, then a fitted linear unmixing and a radial Gaussianization, each kept only if it
/// removes significant total correlation. A step's reduction follows from the change of
/// variables: `Σ H(xᵢ) − Σ H(f(x)ᵢ) + E ln |det J|`. `fit` is `work` measured, if it
/// already was.
pub(crate) fn fit_pre_steps(
    params: &RbigValidParams,
    null: &NullModel,
    work: &mut Array2<f64>,
    given: Option<Start>,
    fit: Option<RowFit>,
) -> Result<PreSteps> {
    let n = work.ncols();
    let knots = params.knots();
    let mut before = measured(fit, work, knots)?;
    let raw = before.entropies.clone();
    let mut tc = 0.0;
    let mut steps = Vec::new();
    // The spurious correlations the fitted unmixing removes on Gaussian data: only those
    // the start left (between its blocks: p·q/(2n) of the joint's (p+q)(p+q−1)/(4n)).
    // Charged the joint's whole null, a 50 + 50 Gaussian's mutual information came out
    // 0.23 nats low.
    let mut linear_mean = null.linear_mean;
    let mut refinement_charge = None;
    if let Some(start) = given {
        tc -= start.null_mean;
        linear_mean -= start.linear_null;
        if let Some(step) = start.step {
            let (after, change) = entropy_change(&step, work, &before.entropies, knots)?;
            tc += change;
            before = after;
            steps.push(step);
        }
    }
    let step = Unmixing::fit(work.view()).map_err(|_| RbigError::Degenerate { layer: 0 })?;
    params.check_cancelled()?;
    let mut trial = work.clone();
    let (after, change) = entropy_change(&step, &mut trial, &before.entropies, knots)?;
    let gain = change - linear_mean;
    // A fitted unmixing is kept only when it removes significant total correlation. On
    // data that are already unmixed it can only hurt: after a given start, FastICA turns
    // noise, and the Gaussian directions it cannot pin down drag the others along; on
    // independent heavy-tailed columns, the small mixing left by noisy covariance
    // estimates leaks one column's outliers into the others.
    if gain <= params.significance * null.sd {
        // Not kept: free the trial copy before the radial step makes its own.
        drop(trial);
    } else {
        tc += gain;
        before = after;
        *work = trial;
        // The refinement works on the unmixed data and joins the unmixing as one step.
        // Components that all look Gaussian leave it nothing to find.
        let worth_trying = null.any_non_gaussian(work.view(), &before.entropies, params.significance);
        // Kept beyond the Gaussian null (simulated once per shape, and cached); credited
        // beyond its overfitting on sources of the components' own shape.
        let refined = worth_trying.then(|| refine(work.view())).flatten().and_then(|r| {
            let joined = step.then(&r).ok()?;
            let alone = Unmixing::identity(work.nrows()).then(&r).ok()?;
            let mut trial = work.clone();
            let (after, change) = entropy_change(&alone, &mut trial, &before.entropies, knots).ok()?;
            let (null_mean, null_sd) = refine_null(n, work.nrows());
            (change - null_mean > params.significance * null_sd).then_some((trial, after, joined, change))
        });
        match refined {
            Some((trial, after, joined, change)) => {
                params.check_cancelled()?;
                // The trial replaces `work` first: its shuffled copy is then the one
                // trial copy a fit in ICA mode is allowed beside its working copy.
                *work = trial;
                let charge = own_shape_overfit(work.view(), params.seed);
                before = after;
                tc += change - charge;
                refinement_charge = Some(charge);
                steps.push(joined);
            }
            None => steps.push(step),
        }
    }
    params.check_cancelled()?;
    let mut radial = None;
    // A spherical distribution whose projections all look Gaussian is Gaussian: with
    // no component non-Gaussian there is no norm to correct (and on Gaussian data
    // the trial costs as much as a layer).
    let radial_fit = || {
        null.any_non_gaussian(work.view(), &before.entropies, params.significance)
            .then(|| Radial::fit(work.view(), params.knots))
            .flatten()
    };
    if let Some(r) = radial_fit() {
        let mut trial = work.clone();
        let mut log_det = Array1::<f64>::zeros(n);
        par_forward(&r, trial.view_mut(), Some(log_det.view_mut()));
        if let Ok(after) = RowFit::of(trial.view(), knots) {
            let gain = before.entropies.iter().sum::<f64>() - after.entropies.iter().sum::<f64>()
                + log_det.mean().unwrap_or(0.0)
                - null.spline_overfit;
            if gain > params.significance * null.sd {
                tc += gain;
                *work = trial;
                radial = Some(r);
                before = after;
            }
        }
    }
    Ok(PreSteps { unmixing: steps, radial, raw_entropies: Some(raw), fit: Some(before), tc, refinement_charge })
}

#[cfg(test)]
mod tests {
    use super::refine_null::amari;
    use super::*;
    use crate::bijector::Bijector;
    use crate::numeric::{from_nalgebra, to_nalgebra};
    use linfa::ParamGuard;

    /// The README's power-mixed table: the samples' own noise (`−mean ln p` under the
    /// true density, minus the entropy), the entropy error with the true unmixing given
    /// (the estimator's floor), the Amari distance of the orthogonal and the refined
    /// unmixings to the true one, and the refined model's held-out log-likelihood.
    #[test]
    #[ignore = "about 10 s in release: prints the README's power-mixed table"]
    fn true_unmixing_floor() {
        let ica = crate::model::Rbig::params().rotation(crate::rotation::RotationKind::Ica);
        for d in [3usize, 10] {
            let task = rbig_tasks::power_mixed(d, d as u64);
            let (a, exponents) = task.power_mixing().expect("a power-mixed task");
            let a_inv = from_nalgebra(&to_nalgebra(a.view()).try_inverse().expect("invertible"));
            let ln_det_a = to_nalgebra(a.view()).determinant().abs().ln();
            let (mut oracle, mut floor, mut before, mut after, mut held_out) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for seed in 0..3 {
                let x = task.sample(10_000, seed);
                // x = s A: the sources are x A⁻¹, and H(x) = H(s) + ln |det A|.
                let sources = x.dot(&a_inv);
                // s = sign(z)|z|^e has density φ(z) / (e |z|^(e−1)) at z = sign(s)|s|^(1/e).
                let neg_ln_p = |v: f64, e: f64| {
                    let z = v.abs().powf(1.0 / e);
                    0.5 * z * z + 0.5 * (2.0 * std::f64::consts::PI).ln() + e.ln() + (e - 1.0) * z.ln()
                };
                let total: f64 = sources
                    .rows()
                    .into_iter()
                    .map(|row| row.iter().zip(exponents).map(|(&v, &e)| neg_ln_p(v, e)).sum::<f64>())
                    .sum();
                oracle += (total / x.nrows() as f64 + ln_det_a - task.truth) / 3.0;
                let h = crate::information::entropy(&sources, &ica).unwrap().value() + ln_det_a;
                floor += (h - task.truth) / 3.0;
                let xt = x.t().to_owned();
                let unmixing = Unmixing::fit(xt.view()).unwrap();
                let mut y = xt.clone();
                unmixing.forward(y.view_mut(), None);
                let r = refine(y.view()).expect("refinable");
                // The mixing in row-vector form is Aᵀ acting on column samples.
                before += amari(&unmixing.matrix().dot(&a.t())) / 3.0;
                after += amari(&r.dot(unmixing.matrix()).dot(&a.t())) / 3.0;
                let model = crate::model::Rbig::fit_with(ica.check_ref().unwrap(), x.view()).unwrap();
                let test = task.sample(20_000, seed + 100);
                held_out += (-model.log_density(&test).unwrap().mean().unwrap() - task.truth) / 3.0;
            }
            println!(
                "d = {d}: true density {oracle:+.3}; true unmixing {floor:+.3}; Amari {before:.4} -> {after:.4}; held-out -mean ln p - H {held_out:+.3}"
            );
            assert!(floor.abs() < 0.1 && after < before && held_out < 0.25, "d = {d}");
        }
    }
}
