//! A strictly increasing map of the real line onto itself: a monotone rational-quadratic
//! spline through knots `(x_k, z_k)`, continued by straight lines beyond the end knots.
//!
//! Rational-quadratic segments (Gregory & Delbourgo 1982, the building block of neural
//! spline flows) are monotone for any positive knot derivatives, are C¹, and invert in
//! closed form, so `inverse(forward(x)) == x` to rounding and the log-derivative is the
//! exact derivative of the map we apply. The linear tails make the map a bijection of
//! ℝ: in the Gaussianized coordinate a line is a Gaussian tail, so the density stays
//! finite and positive everywhere and nothing outside the training range becomes NaN.

use serde::{Deserialize, Serialize};

use super::KnotPlan;
use placement::{at_position, knot_positions, silverman_bandwidth, smoothed_cdf};

mod placement;

/// Why a set of knots cannot define a strictly increasing map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SplineError {
    /// Fewer than two distinct x values.
    TooFewDistinct,
    /// Knots are not finite or not strictly increasing in x and z.
    NotIncreasing,
    /// Knots beyond ±1000 in the Gaussian coordinate.
    FarFromGaussian,
    /// The knots span a range too small for floating point (subnormal numbers).
    TooNarrow,
}

/// Monotone rational-quadratic spline with linear tails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SplineKnots", into = "SplineKnots")]
pub(crate) struct MonotoneSpline {
    xs: Vec<f64>,
    zs: Vec<f64>,
    /// The knots on a unit scale, `u = (x/2 − half_center) / scale`: all arithmetic
    /// happens there, so data at scales from 1e-300 to 1e300 neither underflow nor
    /// overflow (working in halves keeps every difference finite). The centre is the
    /// middle knot, not the midrange, so that a far outlier knot does not wipe out the
    /// resolution of the bulk.
    us: Vec<f64>,
    half_center: f64,
    scale: f64,
    /// `1/scale`: the forward map multiplies (a division would sit on every evaluation's
    /// critical path), and `us` is computed with the same product so a knot's `x` lands
    /// exactly on its `u`.
    inv_scale: f64,
    /// `ln(2·scale)`: `ln g'(x) = ln(dz/du) − ln_scale`.
    ln_scale: f64,
    /// What evaluating each segment needs, packed together (one cache line per segment).
    segments: Vec<Segment>,
    /// Derivative dz/du at each knot; the end values are also the tail slopes.
    ds: Vec<f64>,
    /// Slope of the lower tail when fixed by the caller instead of the end secant.
    lower_slope: Option<f64>,
    /// Segment lookup tables for `us` (forward) and `zs` (inverse).
    u_index: SegmentIndex,
    z_index: SegmentIndex,
}

/// Bound on the knots' Gaussian coordinates (see [`MonotoneSpline::from_knots_with`]).
const MAX_ABS_Z: f64 = 1e3;

/// Piece numbers of the linear tails (segments are numbered from 0).
const LOWER_TAIL: u32 = u32::MAX;
const UPPER_TAIL: u32 = u32::MAX - 1;

/// One rational-quadratic segment on the unit scale, from knot `(u, z)` to knot
/// `(u + width, z + height)`, with knot derivatives `d0`, `d1`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    u: f64,
    z: f64,
    width: f64,
    height: f64,
    /// `height / width`.
    slope: f64,
    /// `1 / width`.
    inv_width: f64,
    d0: f64,
    d1: f64,
}

/// Finds the segment of a sorted knot vector holding a value in O(1) on average: a
/// uniform grid over the knots' range records, for each cell, the first and last
/// segments the cell touches; the value's segment lies between them, found without
/// branches when they are at most two apart and by bisection otherwise (where a heavy
/// tail crowds many knots into one cell). A plain bisection over all knots costs a chain
/// of unpredictable branches and was a third of the cost of scoring.
#[derive(Debug, Clone, PartialEq)]
struct SegmentIndex {
    start: f64,
    cells_per_unit: f64,
    /// Per cell, the segments holding its left and right edges, each edge widened by a
    /// millionth of a cell so that rounding in the cell arithmetic cannot put a value
    /// outside its cell's bracket.
    brackets: Vec<[u16; 2]>,
}

impl SegmentIndex {
    /// Grid cells per segment: more cells find more segments in one step, at the cost
    /// of a larger table (4 · 4 bytes per knot).
    const CELLS_PER_SEGMENT: usize = 4;

    fn new(knots: &[f64]) -> Self {
        let segments = knots.len() - 1;
        let cells = Self::CELLS_PER_SEGMENT * segments;
        let start = knots[0];
        let cells_per_unit = cells as f64 / (knots[segments] - start);
        let segment_of = |v: f64| (knots.partition_point(|&k| k <= v).clamp(1, segments) - 1) as u16;
        let brackets = (0..cells)
            .map(|c| {
                let edge = |c: f64| start + c / cells_per_unit;
                [segment_of(edge(c as f64 - 1e-6)), segment_of(edge(c as f64 + 1.0 + 1e-6))]
            })
            .collect();
        Self { start, cells_per_unit, brackets }
    }

    /// Index `k` of the segment `[knots[k], knots[k+1])` holding `v`, which must lie
    /// strictly inside the knots' range.
    #[inline(always)]
    fn segment(&self, knots: &[f64], v: f64) -> usize {
        let cell = (((v - self.start) * self.cells_per_unit) as usize).min(self.brackets.len() - 1);
        let [lo, hi] = self.brackets[cell].map(usize::from);
        debug_assert!(knots[lo] <= v && v < knots[hi + 1]);
        if hi - lo <= 2 {
            // Without branches: `knots[hi + 1] > v` makes the excess comparisons 0.
            lo + usize::from(knots[lo + 1] <= v) + usize::from(knots[(lo + 2).min(hi + 1)] <= v)
        } else {
            lo + knots[lo + 1..=hi].partition_point(|&k| k <= v)
        }
    }
}

/// Serialized form: only the knots (and a fixed lower-tail slope, if any); derivatives
/// are recomputed and everything validated on load, so a model file cannot smuggle in a
/// non-monotone map.
#[derive(Serialize, Deserialize)]
pub(crate) struct SplineKnots {
    xs: Vec<f64>,
    zs: Vec<f64>,
    lower_slope: Option<f64>,
}

impl TryFrom<SplineKnots> for MonotoneSpline {
    type Error = String;
    fn try_from(k: SplineKnots) -> Result<Self, String> {
        MonotoneSpline::from_knots_with(k.xs, k.zs, k.lower_slope).map_err(|e| format!("invalid spline knots: {e:?}"))
    }
}

impl From<MonotoneSpline> for SplineKnots {
    fn from(s: MonotoneSpline) -> Self {
        SplineKnots { xs: s.xs, zs: s.zs, lower_slope: s.lower_slope }
    }
}

impl MonotoneSpline {
    /// Builds the spline through strictly increasing knots.
    ///
    /// Interior knot derivatives are the weighted harmonic mean of the neighbouring
    /// secant slopes (Fritsch–Butland, as in PCHIP): positive, and no larger than
    /// three times the smaller slope, which keeps the density free of spikes. The end
    /// derivatives equal the end secants, and the tails continue with that slope.
    pub(crate) fn from_knots(xs: Vec<f64>, zs: Vec<f64>) -> Result<Self, SplineError> {
        Self::from_knots_with(xs, zs, None)
    }

    /// As [`MonotoneSpline::from_knots`], with the lower tail's slope (and the first
    /// knot's derivative) set to `lower_slope` when given.
    pub(crate) fn from_knots_with(xs: Vec<f64>, zs: Vec<f64>, lower_slope: Option<f64>) -> Result<Self, SplineError> {
        let k = xs.len();
        if lower_slope.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
            return Err(SplineError::NotIncreasing);
        }
        if k < 2 || zs.len() != k {
            return Err(SplineError::TooFewDistinct);
        }
        let increasing = |v: &[f64]| v.iter().all(|a| a.is_finite()) && v.windows(2).all(|w| w[0] < w[1]);
        if !increasing(&xs) || !increasing(&zs) {
            return Err(SplineError::NotIncreasing);
        }
        // The maps land in a Gaussian coordinate, where knots sit within a few dozen
        // units of 0 (normal quantiles of any sample size). A model file claiming more
        // is damaged, and its slopes could overflow.
        if zs.iter().any(|z| z.abs() > MAX_ABS_Z) {
            return Err(SplineError::FarFromGaussian);
        }
        let half_center = xs[k / 2] / 2.0;
        let scale = (xs[k - 1] / 2.0 - half_center).max(half_center - xs[0] / 2.0);
        let inv_scale = 1.0 / scale;
        if !(scale > 0.0 && inv_scale.is_finite() && scale.is_normal()) {
            return Err(SplineError::TooNarrow);
        }
        let us: Vec<f64> = xs.iter().map(|x| (x / 2.0 - half_center) * inv_scale).collect();
        if !increasing(&us) {
            return Err(SplineError::NotIncreasing);
        }
        let widths: Vec<f64> = us.windows(2).map(|w| w[1] - w[0]).collect();
        let slopes: Vec<f64> = (0..k - 1).map(|i| (zs[i + 1] - zs[i]) / widths[i]).collect();
        if slopes.iter().any(|s| !(s.is_finite() && *s > 0.0)) || widths.iter().any(|w| !w.is_finite()) {
            return Err(SplineError::NotIncreasing);
        }
        let mut ds = Vec::with_capacity(k);
        // The lower slope is given in data units, dz/dx; on the unit scale it is dz/du.
        ds.push(lower_slope.map_or(slopes[0], |s| s * 2.0 * scale));
        for i in 1..k - 1 {
            let (h0, h1) = (widths[i - 1], widths[i]);
            let (w0, w1) = (2.0 * h1 + h0, h1 + 2.0 * h0);
            ds.push((w0 + w1) / (w0 / slopes[i - 1] + w1 / slopes[i]));
        }
        ds.push(slopes[k - 2]);
        if ds.iter().any(|d| !(d.is_finite() && *d > 0.0)) {
            return Err(SplineError::NotIncreasing);
        }
        if k > u16::MAX as usize {
            return Err(SplineError::NotIncreasing);
        }
        let (u_index, z_index) = (SegmentIndex::new(&us), SegmentIndex::new(&zs));
        let segments = (0..k - 1)
            .map(|i| Segment {
                u: us[i],
                z: zs[i],
                width: widths[i],
                height: zs[i + 1] - zs[i],
                slope: slopes[i],
                inv_width: 1.0 / widths[i],
                d0: ds[i],
                d1: ds[i + 1],
            })
            .collect();
        Ok(Self {
            xs,
            zs,
            us,
            half_center,
            scale,
            inv_scale,
            ln_scale: std::f64::consts::LN_2 + scale.ln(),
            segments,
            ds,
            lower_slope,
            u_index,
            z_index,
        })
    }

    /// The affine map `z = (x − mean) / sd`: two knots one standard deviation either
    /// side of the mean, one linear segment, and tails that continue its slope.
    pub(crate) fn affine(mean: f64, sd: f64) -> Result<Self, SplineError> {
        Self::from_knots(vec![mean - sd, mean + sd], vec![-1.0, 1.0])
    }

    /// The map moved a fraction `1 − lambda` of the way back to the identity: knots
    /// `(x, (1 − λ)·x + λ·z)`, again strictly increasing.
    pub(crate) fn shrunk(self, lambda: f64) -> Result<Self, SplineError> {
        let zs = self.xs.iter().zip(&self.zs).map(|(x, z)| (1.0 - lambda) * x + lambda * z).collect();
        Self::from_knots_with(self.xs, zs, self.lower_slope)
    }

    /// The same knots with the lower tail's slope fixed to `slope`.
    pub(crate) fn with_lower_slope(self, slope: f64) -> Result<Self, SplineError> {
        Self::from_knots_with(self.xs, self.zs, Some(slope))
    }

    /// Knots at evenly spaced order-statistic positions of `sorted` data, mapped to the
    /// normal quantiles of their mid-ranks `(i + 1/2) / n`.
    ///
    /// Tied data give repeated x positions; a tie block (values equal to 1e-12 relative)
    /// becomes one knot whose z is the mean of the block's quantiles, so ties never
    /// produce a vertical step.
    pub(crate) fn fit_sorted(
        sorted: &[f64],
        plan: KnotPlan,
        quantile: impl Fn(f64) -> f64,
    ) -> Result<Self, SplineError> {
        let n = sorted.len();
        if n < 2 {
            return Err(SplineError::TooFewDistinct);
        }
        let k = plan.count.clamp(2, n);
        let positions = knot_positions(sorted, k, plan.tail_samples, &quantile);
        let mut xs: Vec<f64> = Vec::with_capacity(positions.len());
        let mut zs: Vec<f64> = Vec::with_capacity(positions.len());
        let mut block = 0usize;
        for t in positions {
            let x = at_position(sorted, t);
            let z = quantile((t + 0.5) / n as f64);
            match xs.last() {
                // Equal up to rounding (values a rotation made equal but for the last
                // few bits): knots that close would make the map's slope ~1e16 and its
                // inverse lose every digit.
                Some(&last) if x - last <= 1e-12 * x.abs().max(last.abs()) => {
                    // Same x as the previous knot: fold into a running mean of z.
                    block += 1;
                    let zl = zs.last_mut().expect("zs tracks xs");
                    *zl += (z - *zl) / block as f64;
                }
                _ => {
                    xs.push(x);
                    zs.push(z);
                    block = 1;
                }
            }
        }
        if xs.len() < 2 {
            return Err(SplineError::TooFewDistinct);
        }
        if plan.smoothed {
            // Each knot's normal score from the kernel-smoothed CDF rather than its own
            // rank: the rank moves with the few samples around the knot, the smoothed
            // CDF averages over a bandwidth of them. Kept only when strictly increasing
            // (always, but for values so far out that their CDF rounds to the same).
            let h = silverman_bandwidth(sorted);
            if h > 0.0 && h.is_finite() {
                let nf = n as f64;
                let smoothed: Vec<f64> =
                    xs.iter().map(|&x| quantile(smoothed_cdf(sorted, h, x).clamp(0.5 / nf, 1.0 - 0.5 / nf))).collect();
                if smoothed.iter().all(|z| z.is_finite()) && smoothed.windows(2).all(|w| w[0] < w[1]) {
                    return Self::from_knots(xs, smoothed);
                }
            }
        }
        Self::from_knots(xs, zs)
    }

    /// The first knot `(x₀, z₀)`.
    pub(crate) fn first_knot(&self) -> (f64, f64) {
        (self.xs[0], self.zs[0])
    }

    /// Number of knots.
    pub(crate) fn n_knots(&self) -> usize {
        self.xs.len()
    }

    /// `ln` of the data scale: `ln g'(x) = ln(dz/du) − ln_scale`.
    #[inline]
    pub(crate) fn ln_scale(&self) -> f64 {
        self.ln_scale
    }

    /// `z = g(x)` and `ln g'(x)`.
    #[inline]
    pub(crate) fn forward(&self, x: f64) -> (f64, f64) {
        let (z, dz_du) = self.forward_unit(x);
        (z, dz_du.ln() - self.ln_scale)
    }

    /// `z = g(x)` and the derivative `dz/du` on the unit scale, `u = (x/2 − half_center)/scale`:
    /// a number of order one whose logarithm, minus [`MonotoneSpline::ln_scale`], is
    /// `ln g'(x)`. Callers sum many of them with [`crate::numeric::LnSum`].
    #[inline]
    pub(crate) fn forward_unit(&self, x: f64) -> (f64, f64) {
        let u = (x / 2.0 - self.half_center) * self.inv_scale;
        self.evaluate(u, self.locate(u))
    }

    /// Applies the map in place to `xs`, handing each value's index and `dz/du` (see
    /// [`MonotoneSpline::forward_unit`]) to `sink`. Works in blocks: first every segment
    /// lookup of the block, then the arithmetic, so that the lookups overlap instead of
    /// each waiting for the previous evaluation (a quarter faster than value by value).
    #[inline(always)]
    pub(crate) fn forward_slice(&self, xs: &mut [f64], mut sink: impl FnMut(usize, f64)) {
        const BLOCK: usize = 64;
        let mut pieces = [0u32; BLOCK];
        for (b, block) in xs.chunks_mut(BLOCK).enumerate() {
            for (x, piece) in block.iter_mut().zip(pieces.iter_mut()) {
                *x = (*x / 2.0 - self.half_center) * self.inv_scale;
                *piece = self.locate(*x);
            }
            for (i, (x, &piece)) in block.iter_mut().zip(pieces.iter()).enumerate() {
                let (z, dz_du) = self.evaluate(*x, piece);
                *x = z;
                sink(b * BLOCK + i, dz_du);
            }
        }
    }

    /// Which piece of the map holds `u`: a segment index, or [`LOWER_TAIL`] or
    /// [`UPPER_TAIL`].
    #[inline(always)]
    fn locate(&self, u: f64) -> u32 {
        if u <= self.us[0] {
            LOWER_TAIL
        } else if u >= self.us[self.us.len() - 1] {
            UPPER_TAIL
        } else {
            self.u_index.segment(&self.us, u) as u32
        }
    }

    /// `z` and `dz/du` at `u` on the piece `piece` (from [`MonotoneSpline::locate`]).
    #[inline(always)]
    fn evaluate(&self, u: f64, piece: u32) -> (f64, f64) {
        let last = self.us.len() - 1;
        match piece {
            LOWER_TAIL => (self.zs[0] + self.ds[0] * (u - self.us[0]), self.ds[0]),
            UPPER_TAIL => (self.zs[last] + self.ds[last] * (u - self.us[last]), self.ds[last]),
            k => {
                let Segment { u: u0, z: z0, height: h, slope: s, inv_width, d0, d1, .. } = self.segments[k as usize];
                let xi = (u - u0) * inv_width;
                let xi1 = xi * (1.0 - xi);
                let inv_den = 1.0 / (s + (d1 + d0 - 2.0 * s) * xi1);
                let z = z0 + h * (s * xi * xi + d0 * xi1) * inv_den;
                let num_d = d1 * xi * xi + 2.0 * s * xi1 + d0 * (1.0 - xi) * (1.0 - xi);
                (z, s * s * num_d * (inv_den * inv_den))
            }
        }
    }

    /// `x = g⁻¹(z)`, in closed form (root of the segment's quadratic).
    #[inline]
    pub(crate) fn inverse(&self, z: f64) -> f64 {
        let last = self.zs.len() - 1;
        let u = if z <= self.zs[0] {
            self.us[0] + (z - self.zs[0]) / self.ds[0]
        } else if z >= self.zs[last] {
            self.us[last] + (z - self.zs[last]) / self.ds[last]
        } else {
            let k = self.z_index.segment(&self.zs, z);
            let Segment { u: u0, z: z0, width: w, height: h, slope: s, d0, d1, .. } = self.segments[k];
            let dz = z - z0;
            let c2 = d1 + d0 - 2.0 * s;
            let a = h * (s - d0) + dz * c2;
            let b = h * d0 - dz * c2;
            let c = -s * dz;
            let disc = (b * b - 4.0 * a * c).max(0.0);
            // The root in [0, 1] written without cancellation (b > 0, c <= 0 here).
            let xi = (2.0 * c / (-b - disc.sqrt())).clamp(0.0, 1.0);
            // Knots map back exactly, so tied data round-trip bit for bit.
            if xi == 0.0 {
                return self.xs[k];
            }
            u0 + xi * w
        };
        2.0 * (self.half_center + self.scale * u)
    }
}

#[cfg(test)]
mod tests;
