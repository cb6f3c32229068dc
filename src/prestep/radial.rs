//! Radial Gaussianization (Lyu & Simoncelli 2009): rescale each whitened sample along
//! its own direction so that its norm follows the χ distribution of a standard normal.
//!
//! Scale mixtures (the multivariate Student-t, and elliptical distributions generally)
//! hide their dependence in the norm: every rotation of them looks the same, so rotation
//! layers barely move them, while one radial step Gaussianizes them exactly.
//!
//! The map is `z ↦ z · ρ(|z|) / |z|` with `ln ρ(r) = h(ln r)`, `h` a monotone spline
//! from the quantiles of `ln |z|` to the log-quantiles of χ_d. Its log-determinant is
//! `d · (h(s) − s) + ln h'(s)` at `s = ln |z|`. The lower tail of `h` has slope 1, so
//! near the origin the map is a plain scaling and the density stays finite there.

use ndarray::{ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::bijector::Bijector;
use crate::marginal::spline::MonotoneSpline;
use crate::marginal::Knots;

/// A fitted radial Gaussianization of `dim`-dimensional, centred, whitened data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Radial {
    dim: usize,
    map: MonotoneSpline,
}

impl Radial {
    /// Fits the radial map to the `d × n` block `z`; `None` if the norms do not have at
    /// least two distinct positive values.
    pub(crate) fn fit(z: ArrayView2<'_, f64>, knots: Knots) -> Option<Self> {
        let d = z.nrows();
        let log_norms: Vec<f64> = z
            .axis_iter(Axis(1))
            .map(|col| 0.5 * col.iter().map(|v| v * v).sum::<f64>().ln())
            .filter(|v| v.is_finite())
            .collect();
        let log_norms = crate::numeric::sort_floats(log_norms);
        let chi2 = ChiSquared::new(d as f64).ok()?;
        let target = |u: f64| 0.5 * chi2.inverse_cdf(u).ln();
        let map = MonotoneSpline::fit_sorted(&log_norms, knots.plan(log_norms.len()), target).ok()?;
        let map = map.with_lower_slope(1.0).ok()?;
        Some(Self { dim: d, map })
    }

    /// `ln` of the scale applied near the origin, where the map is linear: `h(s) − s`
    /// on the lower tail of `h`, whose slope is 1.
    fn origin_log_scale(&self) -> f64 {
        let (x0, z0) = self.map.first_knot();
        z0 - x0
    }
}

/// Scales every column of `x` by `f(norm).0`, adding `f(norm).1` to `log_det` if given.
fn scale_columns(
    mut x: ArrayViewMut2<'_, f64>,
    mut log_det: Option<ArrayViewMut1<'_, f64>>,
    f: impl Fn(f64) -> (f64, f64),
) {
    for (j, mut col) in x.axis_iter_mut(Axis(1)).enumerate() {
        let norm = col.iter().map(|v| v * v).sum::<f64>().sqrt();
        let (scale, l) = f(norm);
        col *= scale;
        if let Some(ld) = log_det.as_mut() {
            ld[j] += l;
        }
    }
}

impl Bijector for Radial {
    fn dim(&self) -> usize {
        self.dim
    }

    fn forward(&self, x: ArrayViewMut2<'_, f64>, log_det: Option<ArrayViewMut1<'_, f64>>) {
        let d = self.dim as f64;
        scale_columns(x, log_det, |r| {
            if r == 0.0 {
                let c = self.origin_log_scale();
                return (c.exp(), d * c);
            }
            let s = r.ln();
            let (h, ln_dh) = self.map.forward(s);
            ((h - s).exp(), d * (h - s) + ln_dh)
        });
    }

    fn inverse(&self, z: ArrayViewMut2<'_, f64>) {
        scale_columns(z, None, |r| {
            if r == 0.0 {
                return ((-self.origin_log_scale()).exp(), 0.0);
            }
            let t = r.ln();
            ((self.map.inverse(t) - t).exp(), 0.0)
        });
    }
}
