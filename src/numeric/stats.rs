//! Sample moments.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

use super::CHUNK;

/// Mean and variance (divided by `k − 1`) of `k` replicates of a statistic.
pub(crate) fn mean_var(v: &[f64]) -> (f64, f64) {
    let k = v.len() as f64;
    let mean = v.iter().sum::<f64>() / k;
    (mean, v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (k - 1.0))
}

/// Mean and variance (divided by `n`) of a sample, summed in order.
pub(crate) fn population_mean_var<'a>(v: impl IntoIterator<Item = &'a f64> + Clone) -> (f64, f64) {
    let n = v.clone().into_iter().count() as f64;
    let mean = v.clone().into_iter().sum::<f64>() / n;
    (mean, variance_about(v, mean))
}

/// Mean squared deviation of a sample from `mean`, summed in order.
pub(crate) fn variance_about<'a>(v: impl IntoIterator<Item = &'a f64> + Clone, mean: f64) -> f64 {
    let n = v.clone().into_iter().count() as f64;
    v.into_iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n
}

/// ln of the standard deviation (divided by `n`) of a sample.
pub(crate) fn ln_sd(v: ArrayView1<'_, f64>) -> f64 {
    0.5 * population_mean_var(&v).1.ln()
}

/// Mean and covariance (divided by `n`) of the rows of the `d × n` block `x`, each row
/// divided by its entry of `scale` if given (without copying `x`).
///
/// Column chunks of fixed size are reduced in a fixed order, so the result is the same
/// bit for bit whatever the number of threads.
pub(crate) fn mean_and_covariance(x: ArrayView2<'_, f64>, scale: Option<&Array1<f64>>) -> (Array1<f64>, Array2<f64>) {
    let (d, n) = x.dim();
    let chunks: Vec<_> = x.axis_chunks_iter(Axis(1), CHUNK).collect();
    let scaled = |c: &ArrayView2<'_, f64>| {
        let mut c = c.to_owned();
        if let Some(scale) = scale {
            for (mut row, &s) in c.axis_iter_mut(Axis(0)).zip(scale) {
                row /= s;
            }
        }
        c
    };
    let sums: Vec<Array1<f64>> = chunks.par_iter().map(|c| scaled(c).sum_axis(Axis(1))).collect();
    let mean = sums.iter().fold(Array1::<f64>::zeros(d), |acc, s| acc + s) / n as f64;
    let partials: Vec<Array2<f64>> = chunks
        .par_iter()
        .map(|c| {
            let mut centred = scaled(c);
            for (mut row, &m) in centred.axis_iter_mut(Axis(0)).zip(&mean) {
                row -= m;
            }
            centred.dot(&centred.t())
        })
        .collect();
    let mut cov = Array2::<f64>::zeros((d, d));
    for p in &partials {
        cov += p;
    }
    cov /= n as f64;
    (mean, cov)
}

/// The correlation matrix of a covariance matrix.
pub(crate) fn correlation(cov: &Array2<f64>) -> Array2<f64> {
    let sd = cov.diag().mapv(f64::sqrt);
    Array2::from_shape_fn(cov.dim(), |(i, j)| cov[(i, j)] / (sd[i] * sd[j]))
}

/// The largest magnitude of each row of `x` (1 for an all-zero row): dividing by it
/// before squaring keeps moments of data near 1e300 from overflowing, and leaves the
/// correlation unchanged.
pub(crate) fn row_magnitudes(x: ArrayView2<'_, f64>) -> Array1<f64> {
    x.map_axis(Axis(1), |row| row.iter().fold(0.0f64, |m, v| m.max(v.abs()))).mapv(|m| if m > 0.0 { m } else { 1.0 })
}
