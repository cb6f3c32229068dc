//! Tied values: the lattice step of rounded data, and spreading ties over it.

use std::ops::Range;

use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rayon::prelude::*;

use super::sort_floats;

/// The lattice step of `sorted` values: the median gap between neighbouring distinct
/// values, or `None` when no value is tied (or all are). The median, not the smallest
/// gap, so that a few values differing only by a rounding error in the last decimal do
/// not shrink it.
pub(crate) fn lattice_step(sorted: &[f64]) -> Option<f64> {
    let mut gaps: Vec<f64> = sorted.windows(2).map(|w| w[1] - w[0]).filter(|g| *g > 0.0).collect();
    if gaps.is_empty() || gaps.len() + 1 == sorted.len() {
        return None;
    }
    let mid = gaps.len() / 2;
    Some(*gaps.select_nth_unstable_by(mid, f64::total_cmp).1)
}

/// Spreads tied values of each row of the `d × n` block `x` evenly over the row's
/// resolution (the median gap between neighbouring distinct values), centred on the tied
/// value; the samples of a tie block take the spread positions in an order drawn from
/// `seed`.
///
/// Rounded or integer data put many samples on one value. A density has no atoms, and
/// the entropy estimates behind the stopping rule break on them (zero spacings look like
/// entropy −∞, so every layer looks harmful and the fit stops at once). Fitting the data
/// dequantized at their own resolution keeps everything finite and consistent. A random
/// order within each block, rather than the row order, adds no dependence between
/// columns; a fixed seed keeps fits reproducible.
pub(crate) fn spread_ties(x: &mut Array2<f64>, seed: u64) {
    x.axis_iter_mut(Axis(0)).into_par_iter().enumerate().for_each(|(dim, mut row)| {
        // Most continuous data have no ties: find out with a plain sort before paying
        // for an index sort. A constant row is left to the column checks.
        let Some(resolution) = lattice_step(&sort_floats(row.to_vec())) else {
            return;
        };
        let mut order: Vec<usize> = (0..row.len()).collect();
        order.sort_by(|&a, &b| row[a].total_cmp(&row[b]));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(dim as u64);
        let sorted: Vec<f64> = order.iter().map(|&i| row[i]).collect();
        for run in equal_runs(&sorted).filter(|r| r.len() > 1) {
            let value = sorted[run.start];
            let count = run.len() as f64;
            let block = &mut order[run];
            block.shuffle(&mut rng);
            for (k, &i) in block.iter().enumerate() {
                row[i] = value + resolution * ((k as f64 + 0.5) / count - 0.5);
            }
        }
    });
}

/// The runs of equal values in `sorted` (in `f64::total_cmp` order), as index ranges in
/// order.
pub(crate) fn equal_runs(sorted: &[f64]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        let value = *sorted.get(start)?;
        let end = start + sorted[start..].iter().take_while(|&&v| v == value).count();
        Some(std::mem::replace(&mut start, end)..end)
    })
}
