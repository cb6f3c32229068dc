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

/// `(ln Φ(t), ln Φ(−t))`, both accurate to a few ulp relative however far out `t` is.
///
/// The smaller tail comes from `erfc` (relative accuracy down to its underflow near
/// `|t| = 38`) or, beyond `|t| = 30`, from the asymptotic series of Mills' ratio, whose
/// first omitted term is below 2e-12 there; the larger from `ln_1p` of the smaller.
pub(crate) fn ln_normal_cdf_pair(t: f64) -> (f64, f64) {
    let small = ln_lower_tail(-t.abs());
    let large = (-small.exp()).ln_1p();
    if t <= 0.0 {
        (small, large)
    } else {
        (large, small)
    }
}

/// `ln Φ(a)` for `a ≤ 0`.
fn ln_lower_tail(a: f64) -> f64 {
    if a > -30.0 {
        return (0.5 * statrs::function::erf::erfc(-a * std::f64::consts::FRAC_1_SQRT_2)).ln();
    }
    // Φ(a) = φ(a)/|a| · (1 − 1/a² + 3/a⁴ − 15/a⁶ + 105/a⁸ − …).
    let r = 1.0 / (a * a);
    let series = 1.0 - r * (1.0 - r * (3.0 - r * (15.0 - r * 105.0)));
    -0.5 * a * a - HALF_LN_2PI - (-a).ln() + series.ln()
}

/// The `z ≤ 0` with `ln Φ(z) = ln_p`, for `ln_p ≤ ln ½`: Φ⁻¹ of a lower-tail probability
/// given by its logarithm, so that probabilities below the smallest double still map to
/// finite points. Beyond `e⁻⁷⁰⁰`, Newton's method on `ln Φ` from the tail's leading term.
pub(crate) fn std_normal_quantile_ln(ln_p: f64) -> f64 {
    if ln_p == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if ln_p > -700.0 {
        return std_normal_quantile(ln_p.exp()).min(0.0);
    }
    let mut z = -(-2.0 * ln_p).sqrt();
    for _ in 0..8 {
        // d ln Φ / dz = φ(z)/Φ(z).
        let ln_phi = ln_lower_tail(z);
        let slope = (-0.5 * z * z - HALF_LN_2PI - ln_phi).exp();
        let step = (ln_phi - ln_p) / slope;
        z -= step;
        if step.abs() <= 1e-15 * z.abs() {
            break;
        }
    }
    z
}

/// `ln Σ exp(vᵢ)`, shifted by the largest term; `−∞` for no terms or all `−∞`.
pub(crate) fn ln_sum_exp(v: &[f64]) -> f64 {
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + v.iter().map(|x| (x - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from mpmath at 40 digits (`log(ncdf(t))`); statrs' `erfc` is good to
    /// about 5e-11 relative at these arguments.
    #[test]
    fn normal_tails_match_high_precision_values() {
        let cases = [
            (-40.0, -804.608_442_013_753_8, 0.0),
            (-30.5, -469.462_737_322_912_1, -1.302_937_913_179_848e-204),
            (-10.0, -53.231_285_150_512_47, -7.619_853_024_160_527e-24),
            (0.3, -0.481_410_161_588_481_2, -0.962_102_818_168_850_7),
            (8.0, -6.220_960_574_271_786e-16, -35.013_437_159_914_55),
        ];
        for (t, lower, upper) in cases {
            let (l, u) = ln_normal_cdf_pair(t);
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-10 * b.abs().max(1e-300);
            assert!(close(l, lower) && close(u, upper), "t = {t}: {l}, {u}");
        }
        // ln Φ(z) = −1000 at z = −44.615747731969403 (mpmath).
        assert!((std_normal_quantile_ln(-1000.0) + 44.615_747_731_969_4).abs() < 1e-12);
        for z in [-37.0f64, -20.0, -3.0, -0.1] {
            assert!((std_normal_quantile_ln(ln_normal_cdf_pair(z).0) - z).abs() < 1e-10 * z.abs().max(1.0), "{z}");
        }
    }
}
