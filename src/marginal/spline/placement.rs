//! Where a marginal map's knots go, and the smoothed CDF that places them for
//! [`Knots::Smooth`](crate::Knots::Smooth).

use crate::numeric::population_mean_var;

/// The sample quantile at fractional order-statistic position `t` (0 = smallest).
pub(super) fn at_position(sorted: &[f64], t: f64) -> f64 {
    let n = sorted.len();
    let i = (t.floor() as usize).min(n - 1);
    let frac = t - i as f64;
    if i + 1 < n && frac > 0.0 {
        sorted[i] + frac * (sorted[i + 1] - sorted[i])
    } else {
        sorted[i]
    }
}

/// Fractional order-statistic positions (0 = smallest) of the knots: `k` evenly spaced
/// in probability, at `(j + ½)/k`, plus extra knots in a tail that is heavier than the
/// Gaussian one.
///
/// Beyond the outermost even knot the map continues linearly: a Gaussian tail. That is
/// the best guess for Gaussian-like tails, where extra knots resting on a handful of
/// samples would only add noise. But if the linear continuation misses the extreme
/// sample's own normal score by more than one unit, the tail is not Gaussian (a heavy
/// tail overshoots, a bounded or compressed one falls short), and knots at positions
/// halving the distance to the end (while at least 8 samples lie beyond) follow it.
///
/// With `tail_samples` given, the halving knots are added in both tails whatever their
/// shape, while at least that many samples lie beyond each.
pub(super) fn knot_positions(
    sorted: &[f64],
    k: usize,
    tail_samples: Option<f64>,
    quantile: &impl Fn(f64) -> f64,
) -> Vec<f64> {
    let always = tail_samples.is_some();
    let tail_min = tail_samples.unwrap_or(8.0);
    let n = sorted.len();
    let last = (n - 1) as f64;
    let even: Vec<f64> = (0..k).map(|j| ((j as f64 + 0.5) * n as f64 / k as f64 - 0.5).clamp(0.0, last)).collect();
    let score = |t: f64| quantile((t + 0.5) / n as f64);
    let heavy = |outer: f64, inner: f64, end: f64| {
        let (xo, xi, xe) = (at_position(sorted, outer), at_position(sorted, inner), at_position(sorted, end));
        if xo == xi {
            return false;
        }
        let slope = (score(outer) - score(inner)) / (xo - xi);
        let predicted = score(outer) + slope * (xe - xo);
        (predicted - score(end)).abs() > 1.0
    };
    let halvings = |start: f64| {
        let mut out = Vec::new();
        let mut t = start / 2.0;
        while t >= tail_min {
            out.push(t);
            t /= 2.0;
        }
        out
    };
    // Where even the outermost halving knot's line misses the extreme sample by more
    // than a unit (a few wild outliers), a knot on the extreme sample itself keeps it
    // from landing far out in the Gaussian coordinate, where it would swamp the next
    // rotation's covariance.
    let mut lower = Vec::new();
    if k >= 2 && (always || heavy(even[0], even[1], 0.0)) {
        lower = halvings(even[0]);
        // The outermost knot and its inner neighbour (an even knot when there are no
        // halving knots, or just one).
        let outer = lower.last().copied().unwrap_or(even[0]);
        let inner = if lower.len() >= 2 {
            lower[lower.len() - 2]
        } else if lower.is_empty() {
            even[1]
        } else {
            even[0]
        };
        if outer > 0.0 && heavy(outer, inner, 0.0) {
            lower.push(0.0);
        }
    }
    let mut upper = Vec::new();
    if k >= 2 && (always || heavy(even[k - 1], even[k - 2], last)) {
        upper = halvings(last - even[k - 1]).iter().map(|t| last - t).collect();
        let outer = upper.last().copied().unwrap_or(even[k - 1]);
        let inner = if upper.len() >= 2 {
            upper[upper.len() - 2]
        } else if upper.is_empty() {
            even[k - 2]
        } else {
            even[k - 1]
        };
        if outer < last && heavy(outer, inner, last) {
            upper.push(last);
        }
    }
    let mut positions = Vec::with_capacity(k + lower.len() + upper.len());
    positions.extend(lower.iter().rev());
    positions.extend_from_slice(&even);
    positions.extend(upper);
    positions
}

/// Silverman's rule-of-thumb bandwidth `0.9·min(sd, IQR/1.34)·n^(−1/5)` of a sorted
/// sample (the standard deviation alone when the quartiles coincide).
pub(super) fn silverman_bandwidth(sorted: &[f64]) -> f64 {
    let n = sorted.len() as f64;
    let sd = population_mean_var(sorted).1.sqrt();
    let last = n - 1.0;
    let iqr = at_position(sorted, 0.75 * last) - at_position(sorted, 0.25 * last);
    let spread = if iqr > 0.0 { sd.min(iqr / 1.34) } else { sd };
    0.9 * spread * n.powf(-0.2)
}

/// The Gaussian-kernel-smoothed empirical CDF of `sorted`, bandwidth `h`, at `x`:
/// `(1/n) Σ Φ((x − xᵢ)/h)`.
///
/// Samples more than 8 bandwidths away contribute exactly 0 or 1 (Φ(−8) ≈ 6e-16);
/// within that window, runs of samples closer than `h/16` are replaced by their mean,
/// which changes a kernel term by less than 1e-3 of itself and makes the cost one
/// kernel evaluation per run rather than per sample.
pub(super) fn smoothed_cdf(sorted: &[f64], h: f64, x: f64) -> f64 {
    let lo = sorted.partition_point(|&v| v < x - 8.0 * h);
    let hi = sorted.partition_point(|&v| v <= x + 8.0 * h);
    let cdf = |v: f64| 0.5 * statrs::function::erf::erfc((v - x) / h * std::f64::consts::FRAC_1_SQRT_2);
    let mut total = lo as f64;
    let mut i = lo;
    while i < hi {
        let start = sorted[i];
        let (mut count, mut sum) = (0usize, 0.0);
        while i < hi && sorted[i] - start <= h / 16.0 {
            sum += sorted[i];
            count += 1;
            i += 1;
        }
        total += count as f64 * cdf(sum / count as f64);
    }
    total / sorted.len() as f64
}
