//! What a model records about its data beyond the steps: the columns' names, the
//! distribution of its training rows' log-densities (for tail probabilities and anomaly
//! thresholds), for a depth chosen on held-out rows the held-out score per depth, and
//! whether it was fitted with a whitening start.

use ndarray::{ArrayBase, Data, Ix2};
use serde::{Deserialize, Serialize};

use super::Rbig;
use crate::error::{RbigError, Result};

/// Most quantiles of the training log-densities a model keeps: below this many rows,
/// every row's score; beyond, the quantiles at `k / (MAX_REFERENCE − 1)`. Resolution
/// 2.4e-4 in probability, well below the sampling noise of a tail fraction, for 32 KB.
pub(crate) const MAX_REFERENCE: usize = 4097;

/// Everything in this module, as the model file stores it (format 5 on).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Annotations {
    pub(crate) column_names: Option<Vec<String>>,
    pub(crate) reference_scores: Option<Vec<f64>>,
    pub(crate) held_out_curve: Option<Vec<f64>>,
    /// Whether the fit started with a whitening step ([`crate::RbigParams::whiten`]),
    /// the one parameter format 5 added.
    pub(crate) whitened: bool,
}

impl Annotations {
    pub(crate) fn validate(&self, dim: usize) -> std::result::Result<(), String> {
        if let Some(names) = &self.column_names {
            check_names(names, dim).map_err(|e| e.to_string())?;
        }
        if let Some(q) = &self.reference_scores {
            let sorted = q.windows(2).all(|w| w[0] <= w[1]);
            if q.len() < 2 || q.len() > MAX_REFERENCE || !sorted || q.iter().any(|v| !v.is_finite()) {
                return Err("the reference scores are not an increasing list of finite quantiles".into());
            }
        }
        if self.held_out_curve.as_ref().is_some_and(|c| c.is_empty() || c.iter().any(|v| v.is_nan())) {
            return Err("the held-out curve is empty or has a NaN".into());
        }
        Ok(())
    }
}

/// One non-empty name per column, no two alike (a name must select one column).
fn check_names(names: &[String], dim: usize) -> Result<()> {
    let bad = |reason: String| Err(RbigError::InvalidParameter { name: "column_names", reason });
    if names.len() != dim {
        return bad(format!("{} names for {dim} columns", names.len()));
    }
    if let Some(i) = names.iter().position(|n| n.trim().is_empty()) {
        return bad(format!("column {} has an empty name", i + 1));
    }
    for (i, name) in names.iter().enumerate() {
        if let Some(j) = names[..i].iter().position(|m| m == name) {
            return bad(format!("columns {} and {} are both named {name:?}", j + 1, i + 1));
        }
    }
    Ok(())
}

/// `m` quantiles of `sorted` (ascending) at probabilities `k / (m − 1)`, interpolating
/// linearly between order statistics; `sorted` itself when it is no longer.
fn quantiles(sorted: &[f64], m: usize) -> Vec<f64> {
    if sorted.len() <= m {
        return sorted.to_vec();
    }
    let last = (sorted.len() - 1) as f64;
    (0..m)
        .map(|k| {
            let at = k as f64 * last / (m - 1) as f64;
            let (i, t) = (at.floor() as usize, at.fract());
            if t == 0.0 {
                sorted[i]
            } else {
                sorted[i] + t * (sorted[i + 1] - sorted[i])
            }
        })
        .collect()
}

impl Rbig {
    /// The names of the columns the model was fitted on, if it was given them.
    pub fn column_names(&self) -> Option<&[String]> {
        self.annotations.column_names.as_deref()
    }

    /// The model, recording the names of its columns (saved with it; the tool reads
    /// them from a data file's header).
    ///
    /// ```
    /// let x = ndarray::Array2::from_shape_fn((300, 2), |(i, j)| ((i * (j + 3)) as f64 * 0.37).sin());
    /// let model = rbig::Rbig::fit(&x)?.with_column_names(vec!["height".into(), "weight".into()])?;
    /// assert_eq!(model.column_names().unwrap()[1], "weight");
    /// # Ok::<(), rbig::RbigError>(())
    /// ```
    ///
    /// # Errors
    /// [`RbigError::InvalidParameter`] unless there is one non-empty name per column, no
    /// two alike.
    pub fn with_column_names(mut self, names: Vec<String>) -> Result<Self> {
        check_names(&names, self.dim)?;
        self.annotations.column_names = Some(names);
        Ok(self)
    }

    /// Records the distribution of the log-densities of `x` (the training rows: every
    /// fit through [`Rbig::fit`], [`crate::RbigValidParams::fit_observed`], linfa's
    /// `Fit` or [`crate::select`] does this), for [`Rbig::tail_probability`] and
    /// [`Rbig::score_quantile`]. Rows scoring −∞ (beyond floating point) are left out.
    pub(crate) fn with_reference_scores<S: Data<Elem = f64>>(mut self, x: &ArrayBase<S, Ix2>) -> Result<Self> {
        let mut scores: Vec<f64> = self.log_density(x)?.into_iter().filter(|v| v.is_finite()).collect();
        scores.sort_unstable_by(f64::total_cmp);
        self.annotations.reference_scores = (scores.len() >= 2).then(|| quantiles(&scores, MAX_REFERENCE));
        Ok(self)
    }

    /// The fraction of the training rows whose log-density is below `log_density`
    /// (linear between the stored quantiles): a tail probability, uniform on fresh rows
    /// from the model's distribution. `None` for a model without reference scores (one
    /// read from a file of format 4 or older).
    ///
    /// ```
    /// # use rand::SeedableRng;
    /// # let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// # use rand_distr::Distribution;
    /// let x = ndarray::Array2::from_shape_simple_fn((5000, 2), || rand_distr::StandardNormal.sample(&mut rng));
    /// let model = rbig::Rbig::fit(&x)?;
    /// let low = model.score_quantile(0.01).unwrap(); // the 1 % anomaly threshold
    /// assert!((model.tail_probability(low).unwrap() - 0.01).abs() < 1e-3);
    /// assert_eq!(model.tail_probability(f64::NEG_INFINITY), Some(0.0));
    /// # Ok::<(), rbig::RbigError>(())
    /// ```
    pub fn tail_probability(&self, log_density: f64) -> Option<f64> {
        let q = self.annotations.reference_scores.as_deref()?;
        let step = 1.0 / (q.len() - 1) as f64;
        if log_density.is_nan() {
            return Some(f64::NAN);
        }
        // First quantile above the score: the score lies in [q[k − 1], q[k]).
        let k = q.partition_point(|&v| v <= log_density);
        Some(match k {
            0 => 0.0,
            k if k == q.len() => 1.0,
            k => {
                let (lo, hi) = (q[k - 1], q[k]);
                ((k - 1) as f64 + (log_density - lo) / (hi - lo)) * step
            }
        })
    }

    /// The log-density below which a fraction `p` of the training rows score (the
    /// inverse of [`Rbig::tail_probability`]): the anomaly threshold at rate `p`. `None`
    /// for a model without reference scores, or `p` outside [0, 1].
    pub fn score_quantile(&self, p: f64) -> Option<f64> {
        let q = self.annotations.reference_scores.as_deref()?;
        if !(0.0..=1.0).contains(&p) {
            return None;
        }
        let at = p * (q.len() - 1) as f64;
        let i = (at.floor() as usize).min(q.len() - 2);
        Some(q[i] + (at - i as f64) * (q[i + 1] - q[i]))
    }

    /// For a depth chosen on held-out rows ([`crate::Validation`]): the mean held-out
    /// log-likelihood of the stack with 0, 1, 2, ... rotating layers, as far as the fit
    /// went (the chosen depth is the best of them).
    pub fn held_out_curve(&self) -> Option<&[f64]> {
        self.annotations.held_out_curve.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_order_statistics() {
        let sorted: Vec<f64> = (0..11).map(f64::from).collect();
        assert_eq!(quantiles(&sorted, 20), sorted);
        assert_eq!(quantiles(&sorted, 3), vec![0.0, 5.0, 10.0]);
        assert_eq!(quantiles(&sorted, 5), vec![0.0, 2.5, 5.0, 7.5, 10.0]);
    }

    #[test]
    fn names_must_be_one_per_column_and_distinct() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_names(&names(&["a", "b"]), 2).is_ok());
        assert!(check_names(&names(&["a"]), 2).is_err());
        assert!(check_names(&names(&["a", " "]), 2).is_err());
        let dup = check_names(&names(&["a", "b", "a"]), 3).unwrap_err().to_string();
        assert!(dup.contains("columns 1 and 3"), "{dup}");
    }
}
