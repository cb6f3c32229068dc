//! The standard normal distribution's pieces used by the Gaussianizer.

use ndarray::{ArrayView2, ArrayViewMut1, Axis};
use statrs::distribution::{ContinuousCDF, Normal};

/// `ln(2π) / 2`.
pub(crate) const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// `ln(2πe) / 2`, the entropy of the standard normal.
pub(crate) const HALF_LN_2PI_E: f64 = 1.418_938_533_204_672_7;

/// Φ⁻¹(u), accurate to a few ulp (statrs' implementation).
pub(crate) fn std_normal_quantile(u: f64) -> f64 {
    // `Normal::standard` cannot fail; a const-like instance avoids re-validating.
    Normal::standard().inverse_cdf(u)
}

/// Adds `ln N(z; 0, I)` of each sample (column) of the `d × n` block `z` to `log_p`,
/// one dimension after another.
pub(crate) fn add_std_normal_ln_pdf(z: ArrayView2<'_, f64>, mut log_p: ArrayViewMut1<'_, f64>) {
    for row in z.axis_iter(Axis(0)) {
        for (acc, &v) in log_p.iter_mut().zip(row) {
            *acc += -0.5 * v * v - HALF_LN_2PI;
        }
    }
}
