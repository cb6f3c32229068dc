//! The fitted-piece abstraction of a density destructor.
//!
//! Every piece of an RBIG layer (a marginal Gaussianization, a rotation) is a bijection
//! of ℝ^d with a tractable Jacobian. The stack only loops over pieces, so a new marginal
//! or rotation is a new implementation of this trait, not an edit of the fitting loop.
//!
//! Data are passed dimension-major: a `d × n` matrix whose row `i` holds dimension `i`
//! of every sample, contiguous in memory, which is what per-dimension maps want.

use ndarray::{ArrayViewMut1, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::numeric::CHUNK;

/// A fitted, invertible map of ℝ^d.
///
/// The methods work serially on one block of samples: scoring runs each block through
/// the whole stack while it is in cache, one block per task, and [`par_forward`] and
/// [`par_inverse`] run one piece over a large block in parallel.
pub(crate) trait Bijector: Sync {
    /// Dimension `d` of the space the map acts on.
    fn dim(&self) -> usize;

    /// Applies the map in place to the `d × n` block `x`.
    ///
    /// When `log_det` (length `n`) is given, adds `ln |det J(x_j)|` of each sample to it.
    fn forward(&self, x: ArrayViewMut2<'_, f64>, log_det: Option<ArrayViewMut1<'_, f64>>);

    /// Applies the inverse map in place to the `d × n` block `z`.
    fn inverse(&self, z: ArrayViewMut2<'_, f64>);
}

/// [`Bijector::forward`] over blocks of [`CHUNK`] samples in parallel. The blocks are
/// fixed, so results do not depend on the thread count.
pub(crate) fn par_forward(b: &dyn Bijector, mut x: ArrayViewMut2<'_, f64>, log_det: Option<ArrayViewMut1<'_, f64>>) {
    let blocks: Vec<_> = x.axis_chunks_iter_mut(Axis(1), CHUNK).collect();
    match log_det {
        None => blocks.into_par_iter().for_each(|block| b.forward(block, None)),
        Some(mut ld) => {
            let lds: Vec<_> = ld.axis_chunks_iter_mut(Axis(0), CHUNK).collect();
            blocks.into_par_iter().zip(lds).for_each(|(block, ld)| b.forward(block, Some(ld)));
        }
    }
}

/// [`Bijector::inverse`] over blocks of [`CHUNK`] samples in parallel.
pub(crate) fn par_inverse(b: &dyn Bijector, mut z: ArrayViewMut2<'_, f64>) {
    let blocks: Vec<_> = z.axis_chunks_iter_mut(Axis(1), CHUNK).collect();
    blocks.into_par_iter().for_each(|block| b.inverse(block));
}
