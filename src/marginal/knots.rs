//! How many knots a marginal map has, and where the rule puts them.

use serde::{Deserialize, Serialize};

/// How many knots the marginal maps use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Knots {
    /// `1.25·n^⅓` knots (rounded), at least 8 and at most 500. The cube-root rate is
    /// the classic bias–variance balance of a histogram-like density: more knots follow
    /// the data more closely, but each rests on fewer samples and the density gets noisy.
    Auto,
    /// This many knots (at least 2, at most [`Knots::MAX_FIXED`]), capped at the number
    /// of samples.
    Fixed(usize),
    /// Smoothed maps for density estimation: each knot `x` goes to `Φ⁻¹(F̃(x))`, where
    /// `F̃` is the empirical CDF smoothed by a Gaussian kernel of Silverman's bandwidth,
    /// instead of to the normal score of its rank. The ranks carry the sample's noise
    /// into every knot; the smoothed CDF averages it over a bandwidth, so the map can
    /// have more knots (`2.5·n^⅓`, twice [`Knots::Auto`], at least 8, at most 500) and
    /// follow multimodal marginals without following the noise. Knots are also added in
    /// both tails, halving the tail probability while `√n` samples lie beyond. Held-out
    /// likelihood favours it on smooth densities (see the README's density table).
    Smooth,
}

/// Where the knots of one marginal map go (see [`Knots`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct KnotPlan {
    /// Knots evenly spaced in probability.
    pub(crate) count: usize,
    /// When set, tail knots are always added while this many samples lie beyond them;
    /// otherwise only in tails that are not Gaussian-like.
    pub(crate) tail_samples: Option<f64>,
    /// Knot values from the kernel-smoothed CDF instead of the ranks.
    pub(crate) smoothed: bool,
}

impl KnotPlan {
    /// `count` even knots, tail knots only where the tails need them.
    #[cfg(test)]
    pub(crate) fn even(count: usize) -> Self {
        Self { count, tail_samples: None, smoothed: false }
    }
}

impl Knots {
    /// Most knots [`Knots::Fixed`] may ask for: a map's segments are indexed in 16 bits,
    /// and the tails may add knots beyond the count.
    pub const MAX_FIXED: usize = 50_000;

    /// The knot plan for `n` samples.
    pub(crate) fn plan(self, n: usize) -> KnotPlan {
        let nf = n as f64;
        let (count, tail_samples, smoothed) = match self {
            Knots::Auto => (((1.25 * nf.cbrt()).round() as usize).clamp(8, 500), None, false),
            Knots::Fixed(k) => (k, None, false),
            Knots::Smooth => (((2.5 * nf.cbrt()).round() as usize).clamp(8, 500), Some(nf.sqrt().max(8.0)), true),
        };
        KnotPlan { count: count.min(n), tail_samples, smoothed }
    }
}
