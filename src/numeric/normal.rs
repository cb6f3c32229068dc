//! The standard normal distribution's pieces used by the Gaussianizer.

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

/// ln φ(z).
#[inline]
pub(crate) fn std_normal_ln_pdf(z: f64) -> f64 {
    -0.5 * z * z - HALF_LN_2PI
}
