//! The stages of one layer, exposed for `benches/` to time one by one, and the fuzzing
//! entry points (`io::parse_*_bytes`). Compiled only with the `internals` feature, which
//! the package's own tests, benches and fuzz targets turn on: not part of the public
//! API, and free to change.

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::bijector::par_forward;
use crate::marginal::spline::MonotoneSpline;
use crate::marginal::{KnotPlan, Knots, MarginalGaussianizer};
use crate::numeric::normal::std_normal_quantile;
use crate::numeric::{sort_floats, spacing_entropy};
use crate::rotation::{fit_pca, Rotation};

/// One PCA layer's inputs and fitted pieces, prepared from samples `x` (rows = samples).
pub struct LayerStages {
    input: Array2<f64>,
    sorted: Vec<Vec<f64>>,
    marginal: MarginalGaussianizer,
    gaussianized: Array2<f64>,
    rotation: Rotation,
    knots: KnotPlan,
}

impl LayerStages {
    /// Prepares the stages on `x` (rows = samples; at least two distinct values per column).
    pub fn new(x: ArrayView2<'_, f64>) -> Self {
        let input = x.t().as_standard_layout().into_owned();
        let sorted = sort_rows(input.view());
        let (marginal, _) = MarginalGaussianizer::fit(input.view(), Knots::Auto).expect("non-constant columns");
        let mut gaussianized = input.clone();
        marginal.forward_mean_log_deriv(gaussianized.view_mut());
        let rotation = fit_pca(gaussianized.view()).0;
        Self { knots: Knots::Auto.plan(x.nrows()), input, sorted, marginal, gaussianized, rotation }
    }

    /// The layer's input, dimension-major (a fresh copy, for stages that work in place).
    pub fn input(&self) -> Array2<f64> {
        self.input.clone()
    }

    /// The input after the marginal step (a fresh copy).
    pub fn gaussianized(&self) -> Array2<f64> {
        self.gaussianized.clone()
    }

    /// Sorts every dimension of the input: the least work any marginal fit must do.
    pub fn sort(&self) -> Vec<Vec<f64>> {
        sort_rows(self.input.view())
    }

    /// Spacing entropy of every dimension, from the sorted input.
    pub fn entropy(&self) -> Vec<f64> {
        self.sorted.par_iter().map(|s| spacing_entropy(s)).collect()
    }

    /// Fits the spline maps of every dimension, from the sorted input.
    pub fn spline_fit(&self) -> usize {
        self.sorted
            .par_iter()
            .map(|s| MonotoneSpline::fit_sorted(s, self.knots, std_normal_quantile).map_or(0, |m| m.n_knots()))
            .sum()
    }

    /// The whole marginal fit as the fitting loop runs it: sort, entropy, spline.
    pub fn marginal_fit(&self) -> usize {
        MarginalGaussianizer::fit(self.input.view(), Knots::Auto).map_or(0, |(m, _)| m.max_knots())
    }

    /// Applies the marginal maps to `work` (a copy of [`LayerStages::input`]) in place,
    /// with the mean log-derivatives the fit needs.
    pub fn marginal_transform(&self, work: &mut Array2<f64>) -> f64 {
        self.marginal.forward_mean_log_deriv(work.view_mut()).iter().sum()
    }

    /// Fits the PCA rotation to the Gaussianized input.
    pub fn rotation_fit(&self) -> f64 {
        fit_pca(self.gaussianized.view()).2
    }

    /// Rotates `work` (a copy of [`LayerStages::gaussianized`]) in place.
    pub fn rotation_apply(&self, work: &mut Array2<f64>) {
        par_forward(&self.rotation, work.view_mut(), None);
    }

    /// One whole layer on `work` (a copy of [`LayerStages::input`]), as the fitting loop
    /// runs it: marginal fit, marginal transform, rotation fit, rotation apply.
    pub fn layer(&self, work: &mut Array2<f64>) -> f64 {
        let (marginal, h) = MarginalGaussianizer::fit(work.view(), Knots::Auto).expect("non-constant columns");
        let log_derivs = marginal.forward_mean_log_deriv(work.view_mut());
        let (rotation, _, tc) = fit_pca(work.view());
        par_forward(&rotation, work.view_mut(), None);
        h.iter().sum::<f64>() + log_derivs.iter().sum::<f64>() + tc
    }
}

/// Every row of the `d × n` block `x` sorted, rows in parallel (as the marginal fit does).
pub fn sort_rows(x: ArrayView2<'_, f64>) -> Vec<Vec<f64>> {
    x.axis_iter(Axis(0)).into_par_iter().map(|row| sort_floats(row.to_vec())).collect()
}

/// Forgets the simulated null distributions, so the next fit pays for its simulation as
/// the first fit of a process does.
pub fn clear_null_cache() {
    crate::numeric::clear_null_caches();
}

/// Turns the disk cache of null simulations on (the default) or off for this process:
/// with it off and [`clear_null_cache`] called, a fit pays for its simulations as the
/// first fit on a machine does.
pub fn use_disk_cache(enabled: bool) {
    crate::numeric::use_disk_cache(enabled);
}
