//! Fitting the mixture: expectation-maximization from a seeded k-means++ start, the
//! number of components chosen by BIC.
//!
//! Written here rather than taken from `linfa-clustering` (0.8.1), whose mixture sums
//! component likelihoods without shifting their logarithms (rows far from every
//! component get a log-likelihood of −∞ and NaN responsibilities), reports a fit that
//! reached its iteration cap as an error, and errors when a component empties.

use nalgebra::DMatrix;
use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::Mixture;
use crate::numeric::normal::{ln_sum_exp, HALF_LN_2PI};
use crate::numeric::{population_mean_var, CHUNK};

/// Added to every component's variances, on standardized columns (scikit-learn's
/// `reg_covar` default, on the same scale as its users' standardized data): a component
/// on a near-exact linear relation keeps a finite density.
const REGULARIZATION: f64 = 1e-6;
/// EM stops when the mean log-likelihood moves by less than this (scikit-learn's tol).
const TOLERANCE: f64 = 1e-3;
const MAX_ITERATIONS: usize = 100;
const LLOYD_ITERATIONS: usize = 10;
/// Sizes BIC chooses among, tried in order until two in a row do not improve on the best.
const SIZES: [usize; 10] = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32];

/// How many components the mixture has, and where EM starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Components<'a> {
    /// Chosen by BIC among [`SIZES`], each from k-means.
    Bic,
    /// This many, from k-means.
    Fixed(usize),
    /// As many as this mixture, starting from it.
    From(&'a Mixture),
}

/// A mixture on standardized rows.
struct Params {
    ln_weights: Vec<f64>,
    means: Array2<f64>,
    chol: Vec<DMatrix<f64>>,
    /// `Σ_i ln L_j[i,i] + d ln(2π)/2`, component by component.
    ln_norm: Vec<f64>,
}

/// Responsibility-weighted sums over rows, and the rows' summed log-likelihood.
struct Stats {
    counts: Vec<f64>,
    sums: Array2<f64>,
    /// Lower triangles of `Σ r x xᵀ`.
    squares: Array3<f64>,
    ln_likelihood: f64,
}

impl Stats {
    fn zeros(k: usize, d: usize) -> Self {
        Self {
            counts: vec![0.0; k],
            sums: Array2::zeros((k, d)),
            squares: Array3::zeros((k, d, d)),
            ln_likelihood: 0.0,
        }
    }

    fn add(&mut self, j: usize, r: f64, x: ArrayView1<'_, f64>) {
        self.counts[j] += r;
        let mut sums = self.sums.row_mut(j);
        let mut squares = self.squares.index_axis_mut(Axis(0), j);
        for (a, &xa) in x.iter().enumerate() {
            sums[a] += r * xa;
            let rx = r * xa;
            for (b, &xb) in x.iter().enumerate().take(a + 1) {
                squares[[a, b]] += rx * xb;
            }
        }
    }

    fn merge(mut self, other: Stats) -> Self {
        self.counts.iter_mut().zip(&other.counts).for_each(|(a, b)| *a += b);
        self.sums += &other.sums;
        self.squares += &other.squares;
        self.ln_likelihood += other.ln_likelihood;
        self
    }
}

/// Sums `assign(row, responsibilities) -> ln p(row)` over the rows, in blocks of
/// [`CHUNK`] merged in order: the result does not depend on the thread count.
fn accumulate(
    rows: ArrayView2<'_, f64>,
    k: usize,
    assign: impl Fn(ArrayView1<'_, f64>, &mut [f64]) -> f64 + Sync,
) -> Stats {
    let d = rows.ncols();
    let blocks: Vec<Stats> = rows
        .axis_chunks_iter(Axis(0), CHUNK)
        .into_par_iter()
        .map(|block| {
            let mut stats = Stats::zeros(k, d);
            let mut r = vec![0.0; k];
            for row in block.rows() {
                stats.ln_likelihood += assign(row, &mut r);
                for (j, &rj) in r.iter().enumerate() {
                    // Responsibilities this small move no parameter visibly.
                    if rj > 1e-12 {
                        stats.add(j, rj, row);
                    }
                }
            }
            stats
        })
        .collect();
    blocks.into_iter().fold(Stats::zeros(k, d), Stats::merge)
}

impl Params {
    /// The M step; components with fewer than `d + 1` rows' worth of responsibility
    /// (too few for a full covariance) are dropped. `None` if none is left.
    fn from_stats(stats: &Stats) -> Option<Self> {
        let d = stats.sums.ncols();
        let total: f64 = stats.counts.iter().sum();
        let (mut ln_weights, mut means, mut chol, mut ln_norm) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (j, &count) in stats.counts.iter().enumerate() {
            if count < (d + 1) as f64 {
                continue;
            }
            let mean = stats.sums.row(j).mapv(|v| v / count);
            let cov = DMatrix::from_fn(d, d, |a, b| {
                let (a, b) = if a >= b { (a, b) } else { (b, a) };
                let c = stats.squares[[j, a, b]] / count - mean[a] * mean[b];
                if a == b {
                    c + REGULARIZATION
                } else {
                    c
                }
            });
            let Some(factor) = cov.cholesky() else { continue };
            let l = factor.unpack();
            ln_norm.push(l.diagonal().iter().map(|v| v.ln()).sum::<f64>() + d as f64 * HALF_LN_2PI);
            ln_weights.push((count / total).ln());
            means.push(mean);
            chol.push(l);
        }
        if chol.is_empty() {
            return None;
        }
        let total = ln_sum_exp(&ln_weights);
        ln_weights.iter_mut().for_each(|w| *w -= total);
        let views: Vec<_> = means.iter().map(|m| m.view()).collect();
        let means = ndarray::stack(Axis(0), &views).expect("equal lengths");
        Some(Self { ln_weights, means, chol, ln_norm })
    }

    fn components(&self) -> usize {
        self.ln_weights.len()
    }

    /// Writes the responsibilities of `x` into `r`, returning `ln p(x)`.
    fn responsibilities(&self, x: ArrayView1<'_, f64>, r: &mut [f64], y: &mut [f64]) -> f64 {
        let d = x.len();
        for (j, rj) in r.iter_mut().enumerate().take(self.components()) {
            let l = &self.chol[j];
            let mut q = 0.0;
            // Forward substitution: L y = x − μ.
            for a in 0..d {
                let mut v = x[a] - self.means[[j, a]];
                for b in 0..a {
                    v -= l[(a, b)] * y[b];
                }
                y[a] = v / l[(a, a)];
                q += y[a] * y[a];
            }
            *rj = self.ln_weights[j] - 0.5 * q - self.ln_norm[j];
        }
        let total = ln_sum_exp(&r[..self.components()]);
        r.iter_mut().for_each(|v| *v = (*v - total).exp());
        total
    }

    /// Runs EM to convergence (or the iteration cap): the fitted mixture and its mean
    /// log-likelihood on `rows`.
    fn em(mut self, rows: ArrayView2<'_, f64>) -> (Self, f64) {
        let d = rows.ncols();
        let mut last = f64::NEG_INFINITY;
        for _ in 0..MAX_ITERATIONS {
            let k = self.components();
            let stats = accumulate(rows, k, |x, r| self.responsibilities(x, r, &mut vec![0.0; d]));
            let mean = stats.ln_likelihood / rows.nrows() as f64;
            let Some(next) = Self::from_stats(&stats) else { break };
            let converged = (mean - last).abs() < TOLERANCE && next.components() == k;
            self = next;
            last = mean;
            if converged {
                break;
            }
        }
        // The score of the parameters returned.
        let k = self.components();
        let stats = accumulate(rows, k, |x, r| self.responsibilities(x, r, &mut vec![0.0; d]));
        (self, stats.ln_likelihood / rows.nrows() as f64)
    }
}

fn squared_distance(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// `k` centres by k-means++ seeding then Lloyd's iterations, as the responsibilities of
/// a hard assignment.
fn k_means_start(rows: ArrayView2<'_, f64>, k: usize, rng: &mut ChaCha8Rng) -> Stats {
    let n = rows.nrows();
    let mut centres = vec![rows.row(rng.gen_range(0..n)).to_owned()];
    let mut nearest: Vec<f64> = rows.rows().into_iter().map(|r| squared_distance(r, centres[0].view())).collect();
    while centres.len() < k {
        let total: f64 = nearest.iter().sum();
        // Every row on a centre already (or a sum that is not a number).
        if total.is_nan() || total <= 0.0 {
            break;
        }
        let mut u = rng.gen::<f64>() * total;
        let pick = nearest.iter().position(|&w| {
            u -= w;
            u < 0.0
        });
        let c = rows.row(pick.unwrap_or(n - 1)).to_owned();
        for (v, r) in nearest.iter_mut().zip(rows.rows()) {
            *v = v.min(squared_distance(r, c.view()));
        }
        centres.push(c);
    }
    let assign = |centres: &[Array1<f64>], x: ArrayView1<'_, f64>, r: &mut [f64]| {
        let best = (0..centres.len())
            .min_by(|&a, &b| squared_distance(x, centres[a].view()).total_cmp(&squared_distance(x, centres[b].view())))
            .expect("a centre");
        r.iter_mut().enumerate().for_each(|(j, v)| *v = if j == best { 1.0 } else { 0.0 });
        0.0
    };
    let mut stats = accumulate(rows, centres.len(), |x, r| assign(&centres, x, r));
    for _ in 0..LLOYD_ITERATIONS {
        let moved: Vec<Array1<f64>> = centres
            .iter()
            .enumerate()
            .map(
                |(j, c)| {
                    if stats.counts[j] > 0.0 {
                        stats.sums.row(j).mapv(|v| v / stats.counts[j])
                    } else {
                        c.clone()
                    }
                },
            )
            .collect();
        if moved == centres {
            break;
        }
        centres = moved;
        stats = accumulate(rows, centres.len(), |x, r| assign(&centres, x, r));
    }
    stats
}

/// BIC of a mixture of `k` full-covariance components in `d` dimensions.
fn bic(mean_ln_likelihood: f64, n: usize, k: usize, d: usize) -> f64 {
    let free = (k - 1) + k * d + k * d * (d + 1) / 2;
    -2.0 * n as f64 * mean_ln_likelihood + free as f64 * (n as f64).ln()
}

/// Fits a Gaussian mixture to the `d × n` block `x` (columns are samples). `None` when
/// no component can be fitted (fewer than `d + 1` rows).
pub(crate) fn fit_mixture(x: ArrayView2<'_, f64>, components: Components, seed: u64) -> Option<Mixture> {
    let (d, n) = x.dim();
    // EM on standardized rows, so that the regularization is relative to each column.
    let (centre, scale): (Vec<f64>, Vec<f64>) = x
        .rows()
        .into_iter()
        .map(|r| {
            let (m, v) = population_mean_var(r.iter());
            (m, if v > 0.0 { v.sqrt() } else { 1.0 })
        })
        .unzip();
    let rows = Array2::from_shape_fn((n, d), |(i, a)| (x[[a, i]] - centre[a]) / scale[a]);
    let fit = |k: usize| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ k as u64);
        let start = Params::from_stats(&k_means_start(rows.view(), k, &mut rng))?;
        Some(start.em(rows.view()))
    };
    let best = match components {
        Components::From(m) => {
            let k = m.components();
            let ln_weights = m.parts.ln_weights.to_vec();
            let means = Array2::from_shape_fn((k, d), |(j, a)| (m.parts.means[[j, a]] - centre[a]) / scale[a]);
            let chol: Vec<DMatrix<f64>> =
                (0..k).map(|j| DMatrix::from_fn(d, d, |a, b| m.parts.chol[[j, a, b]] / scale[a])).collect();
            let ln_norm = chol
                .iter()
                .map(|l| l.diagonal().iter().map(|v| v.ln()).sum::<f64>() + d as f64 * HALF_LN_2PI)
                .collect();
            Params { ln_weights, means, chol, ln_norm }.em(rows.view()).0
        }
        Components::Fixed(k) => fit(k)?.0,
        Components::Bic => {
            let mut best: Option<(Params, f64)> = None;
            let mut misses = 0;
            for &k in SIZES.iter().filter(|&&k| k * 2 * (d + 1) <= n) {
                let Some((p, ll)) = fit(k) else { break };
                let score = bic(ll, n, p.components(), d);
                if best.as_ref().is_none_or(|(_, b)| score < *b) {
                    best = Some((p, score));
                    misses = 0;
                } else {
                    misses += 1;
                    if misses == 2 {
                        break;
                    }
                }
            }
            best?.0
        }
    };
    let k = best.components();
    let means = Array2::from_shape_fn((k, d), |(j, a)| best.means[[j, a]] * scale[a] + centre[a]);
    let chol = Array3::from_shape_fn((k, d, d), |(j, a, b)| if b <= a { best.chol[j][(a, b)] * scale[a] } else { 0.0 });
    Mixture::new(Array1::from(best.ln_weights), means, chol).ok()
}
