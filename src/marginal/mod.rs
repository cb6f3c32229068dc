//! Marginal Gaussianization: each dimension through its own smooth, strictly increasing
//! map onto the standard normal scale.
//!
//! The map of one dimension is `z = Φ⁻¹(F̂(x))`, where `F̂` is the empirical CDF made
//! smooth and invertible. We build it directly in the Gaussian coordinate: knots at
//! evenly spaced order statistics `x_(t)` go to `Φ⁻¹((t + ½)/n)`, and a monotone
//! rational-quadratic spline joins them (see [`spline`]). Beyond the data the map is
//! linear, i.e. the density has Gaussian tails.

mod knots;
pub(crate) mod spline;

pub(crate) use knots::KnotPlan;
pub use knots::Knots;

use ndarray::{ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bijector::Bijector;
use crate::numeric::normal::std_normal_quantile;
use crate::numeric::{sort_floats, spacing_entropy, LnSum};
use spline::MonotoneSpline;

/// A column that cannot be Gaussianized, with its smallest and largest values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnusableColumn {
    pub(crate) dim: usize,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl From<UnusableColumn> for crate::error::RbigError {
    fn from(c: UnusableColumn) -> Self {
        use crate::error::RbigError;
        let (column, min, max) = (c.dim, c.min, c.max);
        if min == max {
            RbigError::ConstantColumn { column, value: min }
        } else if max / 2.0 - min / 2.0 < f64::MIN_POSITIVE {
            RbigError::NarrowColumn { column, range: max - min }
        } else {
            RbigError::UnresolvableColumn { column, min, max }
        }
    }
}

/// The row's problem if it is constant or spread over a subnormal range (no scaling can
/// work with it).
fn unusable(dim: usize, min: f64, max: f64) -> Result<(), UnusableColumn> {
    if max / 2.0 - min / 2.0 < f64::MIN_POSITIVE {
        Err(UnusableColumn { dim, min, max })
    } else {
        Ok(())
    }
}

/// Rejects constant rows of the `d × n` block `x`, and rows spread over a subnormal range
/// (the lowest such row), in one pass without sorting.
pub(crate) fn check_rows(x: ArrayView2<'_, f64>) -> Result<(), UnusableColumn> {
    x.axis_iter(Axis(0)).enumerate().try_for_each(|(dim, row)| {
        let (min, max) = row.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        unusable(dim, min, max)
    })
}

/// Applies `f(dim, sorted row)` to each row of the `d × n` block `x`, sorted, in
/// parallel; an unusable row (see [`check_rows`]) is an error. When several rows fail,
/// the lowest is reported, whatever the thread scheduling.
fn per_sorted_row<T: Send>(
    x: ArrayView2<'_, f64>,
    f: impl Fn(usize, &[f64]) -> Result<T, UnusableColumn> + Sync,
) -> Result<Vec<T>, UnusableColumn> {
    x.axis_iter(Axis(0))
        .into_par_iter()
        .enumerate()
        .map(|(dim, row)| {
            let sorted = sort_floats(row.to_vec());
            unusable(dim, sorted[0], sorted[sorted.len() - 1])?;
            f(dim, &sorted)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

/// Spacing entropy estimate of each row of the `d × n` block `x`; a constant row is an
/// error.
pub(crate) fn row_entropies(x: ArrayView2<'_, f64>) -> Result<Vec<f64>, UnusableColumn> {
    per_sorted_row(x, |_, sorted| Ok(spacing_entropy(sorted)))
}

/// The spacing entropies of the rows of a `d × n` block and the marginal step fitted to
/// them, from one sort of each row. A step before the layers is measured by the rows'
/// entropies after it; when it is the last, the first layer starts from the same sort.
#[derive(Debug, Clone)]
pub(crate) struct RowFit {
    pub(crate) entropies: Vec<f64>,
    /// `None` when a row's map could not be fitted (a problem of scale, which
    /// [`MarginalGaussianizer::fit`] reports).
    pub(crate) step: Option<MarginalGaussianizer>,
}

impl RowFit {
    pub(crate) fn of(x: ArrayView2<'_, f64>, knots: Knots) -> Result<Self, UnusableColumn> {
        let plan = knots.plan(x.ncols());
        Ok(Self::from_rows(per_sorted_row(x, |_, sorted| Ok(measured(sorted, plan)))?))
    }

    /// [`RowFit::of`] the raw data, when no row has tied values: `None` when some row
    /// does (its ties are spread first, which changes it) or cannot be used (reported
    /// later, where the data are checked). The sort that finds ties is the one the
    /// measurement needs, so untied data, the usual case, are sorted once, not twice.
    pub(crate) fn of_untied(x: ArrayView2<'_, f64>, knots: Knots) -> Option<Self> {
        let plan = knots.plan(x.ncols());
        let rows =
            per_sorted_row(x, |_, sorted| Ok(sorted.windows(2).all(|w| w[0] < w[1]).then(|| measured(sorted, plan))))
                .ok()?;
        Some(Self::from_rows(rows.into_iter().collect::<Option<_>>()?))
    }

    fn from_rows(rows: Vec<(Option<MonotoneSpline>, f64)>) -> Self {
        let (maps, entropies): (Vec<_>, Vec<_>) = rows.into_iter().unzip();
        let step = maps.into_iter().collect::<Option<Vec<_>>>().map(|maps| MarginalGaussianizer { maps });
        Self { entropies, step }
    }
}

/// One sorted row's marginal map (`None` if it cannot be fitted) and spacing entropy.
fn measured(sorted: &[f64], plan: KnotPlan) -> (Option<MonotoneSpline>, f64) {
    (MonotoneSpline::fit_sorted(sorted, plan, std_normal_quantile).ok(), spacing_entropy(sorted))
}

/// Runs `f` on `row` as a slice; a strided row goes through a copy.
fn as_slice(row: &mut ArrayViewMut1<'_, f64>, f: impl FnOnce(&mut [f64])) {
    match row.as_slice_mut() {
        Some(v) => f(v),
        None => {
            let mut copy = row.to_vec();
            f(&mut copy);
            row.assign(&ndarray::ArrayView1::from(&copy));
        }
    }
}

/// Per-dimension Gaussianizing maps of one layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MarginalGaussianizer {
    maps: Vec<MonotoneSpline>,
}

impl MarginalGaussianizer {
    /// Fits one map per row of the `d × n` block `x`.
    ///
    /// Also returns the spacing entropy estimate of each row, which needs the same sort.
    pub(crate) fn fit(x: ArrayView2<'_, f64>, knots: Knots) -> Result<(Self, Vec<f64>), UnusableColumn> {
        let plan = knots.plan(x.ncols());
        let fitted =
            per_sorted_row(x, |dim, sorted| {
                // Any failure on distinct values is a problem of scale (see the conversion).
                let map = MonotoneSpline::fit_sorted(sorted, plan, std_normal_quantile)
                    .map_err(|_| UnusableColumn { dim, min: sorted[0], max: sorted[sorted.len() - 1] })?;
                Ok((map, spacing_entropy(sorted)))
            })?;
        let (maps, entropies) = fitted.into_iter().unzip();
        Ok((Self { maps }, entropies))
    }

    /// Applies the maps in place and returns, per dimension, the mean of `ln g'(x)` over
    /// the samples: the entropy change `H(g(X)) − H(X)` the maps make.
    pub(crate) fn forward_mean_log_deriv(&self, mut x: ArrayViewMut2<'_, f64>) -> Vec<f64> {
        x.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(self.maps.par_iter())
            .map(|(mut row, map)| {
                let mut sum = LnSum::default();
                as_slice(&mut row, |v| map.forward_slice(v, |_, dz_du| sum.push(dz_du)));
                sum.total() / row.len() as f64 - map.ln_scale()
            })
            .collect()
    }

    /// The maps of the rows of `x` (the block this step was fitted on) for which
    /// `keep(dim)` is false replaced by affine standardizations, which follow no
    /// sample's noise. The rows' entropies are unchanged: a map does not change its
    /// input.
    pub(crate) fn linearized(mut self, x: ArrayView2<'_, f64>, keep: impl Fn(usize) -> bool) -> Self {
        for (dim, (row, map)) in x.rows().into_iter().zip(&mut self.maps).enumerate() {
            if !keep(dim) {
                let (mean, var) = crate::numeric::population_mean_var(&row);
                if let Ok(affine) = MonotoneSpline::affine(mean, var.sqrt()) {
                    *map = affine;
                }
            }
        }
        self
    }

    /// Every map moved a fraction `1 − lambda` of the way back to the identity (`None`
    /// if a map's knots collapse in floating point).
    pub(crate) fn shrunk(self, lambda: f64) -> Option<Self> {
        let maps = self.maps.into_iter().map(|m| m.shrunk(lambda).ok()).collect::<Option<Vec<_>>>()?;
        Some(Self { maps })
    }

    /// How many of the maps are fitted splines rather than affine maps.
    pub(crate) fn spline_maps(&self) -> usize {
        self.maps.iter().filter(|m| m.n_knots() > 2).count()
    }

    /// Largest knot count over the dimensions.
    pub(crate) fn max_knots(&self) -> usize {
        self.maps.iter().map(MonotoneSpline::n_knots).max().unwrap_or(0)
    }
}

impl Bijector for MarginalGaussianizer {
    fn dim(&self) -> usize {
        self.maps.len()
    }

    fn forward(&self, mut x: ArrayViewMut2<'_, f64>, log_det: Option<ArrayViewMut1<'_, f64>>) {
        match log_det {
            None => {
                for (mut row, map) in x.axis_iter_mut(Axis(0)).zip(&self.maps) {
                    as_slice(&mut row, |v| map.forward_slice(v, |_, _| {}));
                }
            }
            Some(mut log_det) => {
                // Σ ln(dz/du) per sample over the dimensions: one logarithm per sample
                // (or per 16 dimensions) instead of one per value.
                let mut sums = vec![LnSum::default(); log_det.len()];
                for (mut row, map) in x.axis_iter_mut(Axis(0)).zip(&self.maps) {
                    as_slice(&mut row, |v| map.forward_slice(v, |i, dz_du| sums[i].push(dz_du)));
                }
                let ln_scales: f64 = self.maps.iter().map(MonotoneSpline::ln_scale).sum();
                for (l, sum) in log_det.iter_mut().zip(sums) {
                    *l += sum.total() - ln_scales;
                }
            }
        }
    }

    fn inverse(&self, mut z: ArrayViewMut2<'_, f64>) {
        for (mut row, map) in z.axis_iter_mut(Axis(0)).zip(&self.maps) {
            row.mapv_inplace(|v| map.inverse(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn the_untied_measurement_is_the_measurement_or_nothing() {
        let x = Array2::from_shape_fn((3, 400), |(r, i)| {
            ((i * (r + 3)) as f64 * 0.731).sin() * (r + 1) as f64 + i as f64 * 1e-3
        });
        let (full, untied) =
            (RowFit::of(x.view(), Knots::Auto).unwrap(), RowFit::of_untied(x.view(), Knots::Auto).unwrap());
        assert_eq!(
            full.entropies.iter().map(|h| h.to_bits()).collect::<Vec<_>>(),
            untied.entropies.iter().map(|h| h.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(full.step, untied.step);
        // One tied row (rounded values), or a constant one: the ties are spread, or the
        // row reported, before anything is measured.
        let mut rounded = x.clone();
        rounded.row_mut(1).mapv_inplace(|v| (v * 4.0).round() / 4.0);
        assert!(RowFit::of_untied(rounded.view(), Knots::Auto).is_none());
        let mut constant = x;
        constant.row_mut(2).fill(1.5);
        assert!(RowFit::of_untied(constant.view(), Knots::Auto).is_none());
    }
}
