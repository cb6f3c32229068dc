//! Nearest-neighbour estimates: the exhaustive neighbour search they share, and the
//! Kraskov–Stögbauer–Grassberger (KSG) mutual information.
//!
//! The Gaussianizing models see a distribution through its density, and a block on a
//! lower-dimensional set (a curve rolled up in the plane) has none. Nearest neighbours
//! need no density: the KSG estimate compares, around each row, how many rows fall
//! within the distance of its k-th nearest neighbour in the joint space and in each
//! block's own space, and the local dimension of a set cancels between the two.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;
use statrs::function::gamma::digamma;

use crate::numeric::population_mean_var;

/// Rows an estimate uses at most (evenly spaced through the data): the exhaustive
/// search costs `n²` distances.
pub(crate) const MAX_ROWS: usize = 5000;
/// Above this many columns a nearest-neighbour estimate has lost its power: its noise
/// and bias outgrow what it measures.
pub(crate) const MAX_DIM: usize = 16;
/// Neighbours of the KSG estimate (its k): Kraskov et al. advise a few; more lowers the
/// variance and raises the bias on strong dependence.
const KSG_NEIGHBOURS: usize = 5;
/// Queries per block of the neighbour search.
const QUERY_BLOCK: usize = 128;

/// The rows an estimate uses of `n`: at most [`MAX_ROWS`], evenly spaced.
pub(crate) fn subsample_rows(n: usize) -> Vec<usize> {
    let m = n.min(MAX_ROWS);
    (0..m).map(|k| k * n / m).collect()
}

/// The rows of `z` an estimate uses ([`subsample_rows`]).
pub(crate) fn subsample(z: ArrayView2<'_, f64>) -> Array2<f64> {
    z.select(Axis(0), &subsample_rows(z.nrows()))
}

/// `visit(i, d)` for every row `i` of the `parts` (column blocks with the same rows),
/// `d[b][j]` the squared Euclidean distance from row `i` to row `j` in part `b`.
///
/// An exhaustive search by blocks of queries, the squared distances of a block to every
/// row as `|q|² + |p|² − 2 q·p` (one matrix product per part): below 20 dimensions and
/// at the few thousand rows used here, faster than a k-d tree, and each row's result
/// does not depend on the thread that computes it. Cancellation leaves about `1e-16` of
/// the norms where rows coincide. The distances are written out before they are read:
/// computed inside the readers' loops instead, the search took 48 ms instead of 35 at
/// 5000 × 10.
pub(crate) fn by_row<T: Send>(
    parts: &[ArrayView2<'_, f64>],
    visit: impl Fn(usize, &[ArrayView1<'_, f64>]) -> T + Sync,
) -> Vec<T> {
    let n = parts.first().map_or(0, |p| p.nrows());
    let norms: Vec<Vec<f64>> = parts.iter().map(|p| p.rows().into_iter().map(|r| r.dot(&r)).collect()).collect();
    let starts: Vec<usize> = (0..n).step_by(QUERY_BLOCK).collect();
    let per_block: Vec<Vec<T>> = starts
        .into_par_iter()
        .map(|start| {
            let end = (start + QUERY_BLOCK).min(n);
            let squared: Vec<Array2<f64>> = parts
                .iter()
                .zip(&norms)
                .map(|(part, norms)| {
                    let mut products = part.slice(ndarray::s![start..end, ..]).dot(&part.t());
                    for (r, mut row) in products.rows_mut().into_iter().enumerate() {
                        for (product, &norm) in row.iter_mut().zip(norms) {
                            *product = norms[start + r] + norm - 2.0 * *product;
                        }
                    }
                    products
                })
                .collect();
            (start..end)
                .map(|i| {
                    let rows: Vec<ArrayView1<'_, f64>> = squared.iter().map(|s| s.row(i - start)).collect();
                    visit(i, &rows)
                })
                .collect()
        })
        .collect();
    per_block.into_iter().flatten().collect()
}

/// The `k` smallest of `values` other than entry `skip`, ascending.
pub(crate) fn smallest<const K: usize>(values: impl Iterator<Item = f64>, skip: usize) -> [f64; K] {
    let mut nearest = [f64::INFINITY; K];
    for (j, v) in values.enumerate() {
        if v < nearest[K - 1] && j != skip {
            let mut m = K - 1;
            while m > 0 && nearest[m - 1] > v {
                nearest[m] = nearest[m - 1];
                m -= 1;
            }
            nearest[m] = v;
        }
    }
    nearest
}

/// A KSG estimate: its value and each row's term, whose mean it is.
pub(crate) struct Ksg {
    pub(crate) value: f64,
    /// `ψ(k) + ψ(m) − ψ(nₓ + 1) − ψ(n_y + 1)` of each row of [`subsample_rows`].
    pub(crate) terms: Vec<f64>,
}

impl Ksg {
    /// The spread of the per-row terms over `√m` (the terms are not independent; on the
    /// Swiss roll of the Beyond-Normal suite it matches the spread over samples).
    pub(crate) fn standard_error(&self) -> f64 {
        (population_mean_var(&self.terms).1 / self.terms.len() as f64).sqrt()
    }
}

/// The KSG estimate (Kraskov et al. 2004, their first) of the mutual information between
/// the first `split` columns of `joint` and the rest, on at most [`MAX_ROWS`] rows
/// (evenly spaced), each column scaled to unit variance: `ψ(k) + ψ(m) − ⟨ψ(nₓ + 1) +
/// ψ(n_y + 1)⟩`, `εᵢ` the distance from row `i` to its k-th nearest other row in the
/// joint space (the larger of the blocks' Euclidean distances), `nₓ` and `n_y` the rows
/// strictly within `εᵢ` of it in each block. `None` with more than [`MAX_DIM`] columns,
/// too few rows, a constant column or rows repeated beyond `k`.
pub(crate) fn ksg_mutual_information(joint: ArrayView2<'_, f64>, split: usize) -> Option<Ksg> {
    let mut z = subsample(joint);
    let (m, d) = z.dim();
    if d > MAX_DIM || m < 20 * (KSG_NEIGHBOURS + 1) {
        return None;
    }
    for mut column in z.axis_iter_mut(Axis(1)) {
        let sd = population_mean_var(column.iter()).1.sqrt();
        if sd <= 0.0 {
            return None;
        }
        column /= sd;
    }
    let (x, y) = z.view().split_at(Axis(1), split);
    let counted: Option<Vec<f64>> = by_row(&[x, y], |i, d| {
        let (dx, dy) = (&d[0], &d[1]);
        let joint = dx.iter().zip(dy).map(|(a, b)| a.max(*b));
        let eps = smallest::<KSG_NEIGHBOURS>(joint, i)[KSG_NEIGHBOURS - 1];
        if eps <= 1e-12 {
            return None;
        }
        // Row i itself is at distance 0 < ε in both blocks: the counts below are nₓ + 1.
        let within = |dist: &ArrayView1<'_, f64>| dist.iter().filter(|&&v| v < eps).count() as f64;
        Some(digamma(within(dx)) + digamma(within(dy)))
    })
    .into_iter()
    .collect();
    let counted = counted?;
    let base = digamma(KSG_NEIGHBOURS as f64) + digamma(m as f64);
    let value = base - population_mean_var(&counted).0;
    Some(Ksg { value, terms: counted.iter().map(|t| base - t).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn ksg_finds_a_known_gaussian_mutual_information_and_none_between_independent_blocks() {
        // (x, y) with correlation 0.8: I = −½ ln(1 − 0.64) = 0.5108. And x against an
        // independent 2-D block.
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let g = Array2::from_shape_fn((4000, 4), |_| -> f64 { StandardNormal.sample(&mut rng) });
        let mut x = g.clone();
        let mixed = &g.column(0) * 0.8 + &g.column(1) * 0.6;
        x.column_mut(1).assign(&mixed);
        let ksg = ksg_mutual_information(x.slice(ndarray::s![.., ..2]), 1).unwrap();
        let (mi, se) = (ksg.value, ksg.standard_error());
        assert!((mi - 0.5108).abs() < 3.0 * se && se < 0.02, "{mi} ± {se}");
        let independent = ndarray::concatenate![Axis(1), g.slice(ndarray::s![.., ..1]), g.slice(ndarray::s![.., 2..])];
        let ksg = ksg_mutual_information(independent.view(), 1).unwrap();
        let (mi, se) = (ksg.value, ksg.standard_error());
        assert!(mi.abs() < 3.0 * se, "{mi} ± {se}");
    }

    #[test]
    fn ksg_needs_distinct_rows_and_varying_columns() {
        let repeated = Array2::from_shape_fn((1000, 2), |(i, j)| (i % 50) as f64 + j as f64);
        assert!(ksg_mutual_information(repeated.view(), 1).is_none());
        let constant = Array2::from_shape_fn((1000, 2), |(i, j)| if j == 0 { 1.0 } else { i as f64 });
        assert!(ksg_mutual_information(constant.view(), 1).is_none());
    }
}
