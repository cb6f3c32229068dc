//! Tied values: the lattice step of rounded data, and spreading ties over it.

use std::ops::Range;

use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::{mean_and_covariance, population_mean_var, row_magnitudes, sort_floats};

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

/// Rows that earlier rows reproduce linearly to this fraction of their standard
/// deviation are kept on that relation by [`spread_ties_keeping_relations`]. Data stored
/// as 32-bit floats keep derived columns to about 4e-6 of their spread (the image
/// segmentation table's colour columns).
const RELATION_TOLERANCE: f64 = 1e-5;
/// A relation that holds to rounding (a residual below 1e-9 of the row's spread) is left
/// with this much spread instead (a standard deviation, relative to the row's): the
/// floor of 1e-6 of each variance that the whitening and the mixture start put under
/// their covariances, and the density bench's Gaussian baselines under theirs. Exactly
/// on the relation, the direction has no spread and no marginal map can be fitted.
const RELATION_FLOOR: f64 = 1e-3;

/// [`spread_ties`], keeping linear relations between rows as tight as they were.
///
/// A derived column (a total, a mean, a difference of other columns) is linear in the
/// columns it comes from; spreading each column's ties on its own moves it off the
/// relation by the lattice step, and a start that would capture the relation (a
/// whitening, a mixture) sees noise of the lattice's size instead. Here each row that
/// earlier rows reproduce (an intercept included) to `RELATION_TOLERANCE` is recomputed
/// from their spread values, plus its own residual from the relation (or, for a relation
/// exact to rounding, uniform noise of `RELATION_FLOOR` of its spread), and what ties
/// are left in it are spread as usual. Data without ties are left as they are.
pub(crate) fn spread_ties_keeping_relations(x: &mut Array2<f64>, seed: u64) {
    let tied = x.axis_iter(Axis(0)).into_par_iter().any(|row| lattice_step(&sort_floats(row.to_vec())).is_some());
    if !tied {
        return;
    }
    let relations = exact_relations(x);
    let residuals: Vec<Vec<f64>> =
        relations.iter().map(|r| (0..x.ncols()).map(|i| x[[r.row, i]] - r.predict(x, i)).collect()).collect();
    spread_ties(x, seed);
    for (relation, residual) in relations.iter().zip(residuals) {
        let (_, var) = population_mean_var(residual.iter());
        let exact = var.sqrt() <= 1e-9 * relation.sd;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream((x.nrows() + relation.row) as u64);
        let width = RELATION_FLOOR * relation.sd * 12f64.sqrt();
        let mut row: Array2<f64> = Array2::from_shape_fn((1, x.ncols()), |(_, i)| {
            let off = if exact { width * (rng.gen::<f64>() - 0.5) } else { residual[i] };
            relation.predict(x, i) + off
        });
        spread_ties(&mut row, seed ^ relation.row as u64);
        x.row_mut(relation.row).assign(&row.row(0));
    }
}

/// Row `row` of the data as `scale · (mean + Σ c_b (x_b / s_b − m_b))` over the basis
/// rows `(b, m_b, s_b)`, with the row's standard deviation `sd`.
struct Relation {
    row: usize,
    sd: f64,
    scale: f64,
    mean: f64,
    basis: Vec<(usize, f64, f64)>,
    coefficients: Vec<f64>,
}

impl Relation {
    /// The relation's value at sample `i` of `x`.
    fn predict(&self, x: &Array2<f64>, i: usize) -> f64 {
        let shift: f64 = self.basis.iter().zip(&self.coefficients).map(|(&(b, m, s), c)| c * (x[[b, i]] / s - m)).sum();
        self.scale * (self.mean + shift)
    }
}

/// The linear relations between the rows of `x`, found in order by Gram–Schmidt on the
/// covariance of the rows scaled to magnitude 1: a row whose residual variance on the
/// basis so far is below `RELATION_TOLERANCE²` of its variance is a relation, any other
/// non-constant row joins the basis.
fn exact_relations(x: &Array2<f64>) -> Vec<Relation> {
    let scale = row_magnitudes(x.view());
    let (mean, cov) = mean_and_covariance(x.view(), Some(&scale));
    let mut basis: Vec<usize> = Vec::new();
    // The Cholesky factor of the basis rows' covariance, row by row.
    let mut factor: Vec<Vec<f64>> = Vec::new();
    let mut relations = Vec::new();
    for j in 0..x.nrows() {
        let variance = cov[[j, j]];
        if !(variance > 0.0 && variance.is_finite()) {
            continue;
        }
        // L y = C_Bj; the residual variance is C_jj − |y|².
        let mut y: Vec<f64> = Vec::with_capacity(basis.len() + 1);
        for (k, &b) in basis.iter().enumerate() {
            let dot: f64 = factor[k].iter().zip(&y).map(|(l, v)| l * v).sum();
            y.push((cov[[b, j]] - dot) / factor[k][k]);
        }
        let residual = variance - y.iter().map(|v| v * v).sum::<f64>();
        if residual <= RELATION_TOLERANCE * RELATION_TOLERANCE * variance && !basis.is_empty() {
            // Lᵀ c = y.
            let mut c = vec![0.0; basis.len()];
            for k in (0..basis.len()).rev() {
                let tail: f64 = (k + 1..basis.len()).map(|r| factor[r][k] * c[r]).sum();
                c[k] = (y[k] - tail) / factor[k][k];
            }
            relations.push(Relation {
                row: j,
                sd: variance.sqrt() * scale[j],
                scale: scale[j],
                mean: mean[j],
                basis: basis.iter().map(|&b| (b, mean[b], scale[b])).collect(),
                coefficients: c,
            });
        } else {
            y.push(residual.max(0.0).sqrt());
            factor.push(y);
            basis.push(j);
        }
    }
    relations
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_columns_stay_on_their_relations_when_ties_are_spread() {
        // Integer a and b, a continuous c, the total and a scaled difference of a and b
        // (derived exactly), and a column derived from a and c to 6 decimals. (Rows are
        // taken in order: a relation recomputes the later of its rows.)
        let n = 500;
        let x = Array2::from_shape_fn((6, n), |(r, i)| {
            let (a, b, c) = ((i * 7 % 11) as f64, (i * 5 % 13) as f64, (i as f64 * 0.618_033_988_75).fract());
            [a, b, c, a + b, 0.5 * (a - b) + 3.0, ((a - 2.0 * c) * 1e6).round() / 1e6][r]
        });
        let mut spread = x.clone();
        spread_ties_keeping_relations(&mut spread, 4);
        // Exact relations keep uniform noise of half-width √3 · 1e-3 of the derived
        // column's standard deviation.
        let half_width = |r: usize| 3f64.sqrt() * RELATION_FLOOR * population_mean_var(x.row(r).iter()).1.sqrt();
        for i in 0..n {
            let (a, b) = (spread[[0, i]], spread[[1, i]]);
            assert!((a - x[[0, i]]).abs() <= 0.5 && (b - x[[1, i]]).abs() <= 0.5);
            assert!((spread[[3, i]] - (a + b)).abs() <= half_width(3), "total at {i}");
            assert!((spread[[4, i]] - (0.5 * (a - b) + 3.0)).abs() <= half_width(4), "difference at {i}");
            // The 6-decimal relation keeps its own rounding: within 5e-7, plus rounding.
            assert!((spread[[5, i]] - (a - 2.0 * x[[2, i]])).abs() <= 5.1e-7, "rounded relation at {i}");
        }
        assert_eq!(spread.row(2), x.row(2));
        // The free columns are spread exactly as without relations.
        let mut plain = x.clone();
        spread_ties(&mut plain, 4);
        assert_eq!(spread.slice(ndarray::s![0..2, ..]), plain.slice(ndarray::s![0..2, ..]));
        // Without ties nothing moves, relations or not.
        let mut continuous = x.slice(ndarray::s![2..3, ..]).to_owned();
        let before = continuous.clone();
        spread_ties_keeping_relations(&mut continuous, 4);
        assert_eq!(continuous, before);
    }
}
