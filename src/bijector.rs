//! The fitted-piece abstraction of a density destructor.
//!
//! Every piece of an RBIG layer (a marginal Gaussianization, a rotation) is a bijection
//! of ℝ^d with a tractable Jacobian. The stack only loops over pieces, so a new marginal
//! or rotation is a new implementation of this trait, not an edit of the fitting loop.
//!
//! Data are passed dimension-major: a `d × n` matrix whose row `i` holds dimension `i`
//! of every sample, contiguous in memory, which is what per-dimension maps want.

use ndarray::{ArrayViewMut1, ArrayViewMut2};

/// A fitted, invertible map of ℝ^d.
pub(crate) trait Bijector {
    /// Dimension `d` of the space the map acts on.
    fn dim(&self) -> usize;

    /// Applies the map in place to the `d × n` block `x`.
    ///
    /// When `log_det` (length `n`) is given, adds `ln |det J(x_j)|` of each sample to it.
    fn forward(&self, x: ArrayViewMut2<'_, f64>, log_det: Option<ArrayViewMut1<'_, f64>>);

    /// Applies the inverse map in place to the `d × n` block `z`.
    fn inverse(&self, z: ArrayViewMut2<'_, f64>);
}
