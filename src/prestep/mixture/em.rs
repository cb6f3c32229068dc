//! Fitting the mixture: expectation-maximization from a seeded k-means++ start, the
//! number of components chosen by BIC or on held-out rows.
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
use crate::numeric::{population_mean_var, row_magnitudes, CHUNK};

/// Added to every component's variances, on standardized columns (scikit-learn's
/// `reg_covar` default, on the same scale as its users' standardized data): a component
/// on a near-exact linear relation keeps a finite density.
const REGULARIZATION: f64 = 1e-6;
/// EM stops when the mean log-likelihood moves by less than this (scikit-learn's tol).
const TOLERANCE: f64 = 1e-3;
const MAX_ITERATIONS: usize = 100;
const LLOYD_ITERATIONS: usize = 10;
/// Sizes chosen among, tried in order until two in a row do not improve on the best.
const SIZES: [usize; 10] = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32];

/// How many components the mixture has, and where EM starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Components<'a> {
    /// Chosen by BIC among [`SIZES`], each from k-means.
    Bic,
    /// Chosen among [`SIZES`] by the mean log-likelihood of these rows (`d × m`), each
    /// from k-means.
    HeldOut(ArrayView2<'a, f64>),
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
    /// `(L_j⁻¹)ᵀ`, so that a block of centred rows times it is their whitened residuals.
    whiten: Vec<Array2<f64>>,
    /// `Σ_i ln L_j[i,i] + d ln(2π)/2`, component by component.
    ln_norm: Vec<f64>,
}

impl Params {
    fn new(ln_weights: Vec<f64>, means: Array2<f64>, chol: Vec<DMatrix<f64>>) -> Option<Self> {
        let d = means.ncols();
        let whiten = chol
            .iter()
            .map(|l| {
                let inv = l.clone().solve_lower_triangular(&DMatrix::identity(d, d))?;
                Some(Array2::from_shape_fn((d, d), |(a, b)| inv[(b, a)]))
            })
            .collect::<Option<Vec<_>>>()?;
        let ln_norm =
            chol.iter().map(|l| l.diagonal().iter().map(|v| v.ln()).sum::<f64>() + d as f64 * HALF_LN_2PI).collect();
        Some(Self { ln_weights, means, chol, whiten, ln_norm })
    }

    /// The M step from responsibilities `r` (rows × components), each covariance from
    /// the rows centred on its mean; components with fewer than `d + 1` rows' worth of
    /// responsibility (too few for a full covariance) are dropped. `None` if none is left.
    fn from_responsibilities(rows: ArrayView2<'_, f64>, r: ArrayView2<'_, f64>) -> Option<Self> {
        let d = rows.ncols();
        let kept: Vec<(f64, Array1<f64>, DMatrix<f64>)> = (0..r.ncols())
            .into_par_iter()
            .map(|j| {
                let w = r.column(j);
                let count = w.sum();
                if count < (d + 1) as f64 {
                    return None;
                }
                let mean = w.dot(&rows) / count;
                let mut weighted = &rows - &mean;
                for (mut row, &wi) in weighted.rows_mut().into_iter().zip(w) {
                    row *= wi.sqrt();
                }
                let scatter = weighted.t().dot(&weighted);
                let cov =
                    DMatrix::from_fn(d, d, |a, b| scatter[[a, b]] / count + if a == b { REGULARIZATION } else { 0.0 });
                Some((count, mean, cov.cholesky()?.unpack()))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .collect();
        if kept.is_empty() {
            return None;
        }
        let ln_counts: Vec<f64> = kept.iter().map(|(c, _, _)| c.ln()).collect();
        let total = ln_sum_exp(&ln_counts);
        let views: Vec<_> = kept.iter().map(|(_, m, _)| m.view()).collect();
        let means = ndarray::stack(Axis(0), &views).expect("equal lengths");
        Self::new(ln_counts.iter().map(|c| c - total).collect(), means, kept.into_iter().map(|(_, _, l)| l).collect())
    }

    fn components(&self) -> usize {
        self.ln_weights.len()
    }

    /// The E step: the responsibilities (rows × components) and the rows' mean
    /// log-likelihood. Each component's log-densities come from one matrix product,
    /// components in parallel, each row's sum over components in a fixed order.
    fn responsibilities(&self, rows: ArrayView2<'_, f64>) -> (Array2<f64>, f64) {
        let columns: Vec<Array1<f64>> = (0..self.components())
            .into_par_iter()
            .map(|j| {
                let y = (&rows - &self.means.row(j)).dot(&self.whiten[j]);
                let (w, norm) = (self.ln_weights[j], self.ln_norm[j]);
                y.rows().into_iter().map(|r| w - 0.5 * r.dot(&r) - norm).collect()
            })
            .collect();
        let mut r = Array2::from_shape_fn((rows.nrows(), columns.len()), |(i, j)| columns[j][i]);
        let mut total = 0.0;
        for mut row in r.rows_mut() {
            let ln_p = ln_sum_exp(row.as_slice().expect("standard layout"));
            row.mapv_inplace(|v| (v - ln_p).exp());
            total += ln_p;
        }
        (r, total / rows.nrows() as f64)
    }

    /// Runs EM to convergence (or the iteration cap): the fitted mixture and its mean
    /// log-likelihood on `rows`.
    fn em(mut self, rows: ArrayView2<'_, f64>) -> (Self, f64) {
        let mut last = f64::NEG_INFINITY;
        for _ in 0..MAX_ITERATIONS {
            let k = self.components();
            let (r, mean) = self.responsibilities(rows);
            let Some(next) = Self::from_responsibilities(rows, r.view()) else { break };
            let converged = (mean - last).abs() < TOLERANCE && next.components() == k;
            self = next;
            last = mean;
            if converged {
                break;
            }
        }
        // The score of the parameters returned.
        let mean = self.responsibilities(rows).1;
        (self, mean)
    }
}

fn squared_distance(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// `k` centres by k-means++ seeding then Lloyd's iterations, as the responsibilities
/// (rows × centres) of a hard assignment.
fn k_means_start(rows: ArrayView2<'_, f64>, k: usize, rng: &mut ChaCha8Rng) -> Array2<f64> {
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
    let assign = |centres: &[Array1<f64>]| -> Vec<usize> {
        let rows: Vec<_> = rows.rows().into_iter().collect();
        rows.par_chunks(CHUNK)
            .flat_map_iter(|block| {
                block.iter().map(|x| {
                    (0..centres.len())
                        .min_by(|&a, &b| {
                            squared_distance(*x, centres[a].view()).total_cmp(&squared_distance(*x, centres[b].view()))
                        })
                        .expect("a centre")
                })
            })
            .collect()
    };
    let mut labels = assign(&centres);
    for _ in 0..LLOYD_ITERATIONS {
        let mut sums = Array2::<f64>::zeros((centres.len(), rows.ncols()));
        let mut counts = vec![0usize; centres.len()];
        for (row, &j) in rows.rows().into_iter().zip(&labels) {
            sums.row_mut(j).zip_mut_with(&row, |s, v| *s += v);
            counts[j] += 1;
        }
        let moved: Vec<Array1<f64>> = centres
            .iter()
            .enumerate()
            .map(|(j, c)| if counts[j] > 0 { sums.row(j).mapv(|v| v / counts[j] as f64) } else { c.clone() })
            .collect();
        if moved == centres {
            break;
        }
        centres = moved;
        labels = assign(&centres);
    }
    Array2::from_shape_fn((n, centres.len()), |(i, j)| if labels[i] == j { 1.0 } else { 0.0 })
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
    // Moments of the column divided by its largest magnitude first: squares of columns
    // near 1e±300 leave the floating-point range.
    let mut columns = Vec::with_capacity(d);
    for (r, &unit) in x.rows().into_iter().zip(&row_magnitudes(x)) {
        let scaled: Vec<f64> = r.iter().map(|v| v / unit).collect();
        let (m, v) = population_mean_var(scaled.iter());
        let sd = if v > 0.0 { v.sqrt() } else { 1.0 };
        columns.push((scaled, m, sd, unit));
    }
    let centre: Vec<f64> = columns.iter().map(|(_, m, _, unit)| m * unit).collect();
    let scale: Vec<f64> = columns.iter().map(|(_, _, sd, unit)| sd * unit).collect();
    let standardize =
        |h: ArrayView2<'_, f64>| Array2::from_shape_fn((h.ncols(), d), |(i, a)| (h[[a, i]] - centre[a]) / scale[a]);
    let rows = Array2::from_shape_fn((n, d), |(i, a)| {
        let (scaled, m, sd, _) = &columns[a];
        (scaled[i] - m) / sd
    });
    drop(columns);
    let fit = |k: usize| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ k as u64);
        let start = Params::from_responsibilities(rows.view(), k_means_start(rows.view(), k, &mut rng).view())?;
        Some(start.em(rows.view()))
    };
    let best = match components {
        Components::From(m) => {
            let k = m.components();
            let means = Array2::from_shape_fn((k, d), |(j, a)| (m.parts.means[[j, a]] - centre[a]) / scale[a]);
            let chol = (0..k).map(|j| DMatrix::from_fn(d, d, |a, b| m.parts.chol[[j, a, b]] / scale[a])).collect();
            Params::new(m.parts.ln_weights.to_vec(), means, chol)?.em(rows.view()).0
        }
        Components::Fixed(k) => fit(k)?.0,
        Components::Bic | Components::HeldOut(_) => {
            let held = match components {
                Components::HeldOut(h) => Some(standardize(h)),
                _ => None,
            };
            let mut best: Option<(Params, f64)> = None;
            let mut misses = 0;
            for &k in SIZES.iter().filter(|&&k| k == 1 || k * 2 * (d + 1) <= n) {
                let Some((p, ll)) = fit(k) else { break };
                // Lower is better: BIC, or the held-out rows' negated log-likelihood.
                let score = match &held {
                    Some(h) => -p.responsibilities(h.view()).1,
                    None => bic(ll, n, p.components(), d),
                };
                // A held-out row no mixture reaches scores −∞ (a mean of NaN or +∞
                // here): the first size is kept until one scores a number.
                let score = if score.is_nan() { f64::INFINITY } else { score };
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
