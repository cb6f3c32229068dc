//! Haar-distributed random rotations.

use nalgebra::DMatrix;
use ndarray::{Array1, ArrayView2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{check_rank, fit_pca, FitRotation, Rotation};
use crate::error::Result;
use crate::numeric::from_nalgebra;

/// A random orthogonal matrix distributed uniformly (Haar) on O(d), centred on the
/// mean of `x`; the draw depends only on `seed` and `layer`.
///
/// QR of a standard Gaussian matrix, with the columns of Q flipped to make R's
/// diagonal positive: without the flip Q is not Haar-distributed.
pub(crate) fn haar_random(x: ArrayView2<'_, f64>, seed: u64, layer: usize) -> Rotation {
    let d = x.nrows();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(layer as u64);
    let g = DMatrix::<f64>::from_fn(d, d, |_, _| StandardNormal.sample(&mut rng));
    let qr = g.qr();
    let (mut q, r) = (qr.q(), qr.r());
    for i in 0..d {
        if r[(i, i)] < 0.0 {
            q.column_mut(i).neg_mut();
        }
    }
    // Row i of W is column i of Q.
    let w = from_nalgebra(&q.transpose());
    let mean: Array1<f64> = x.mean_axis(Axis(1)).expect("n >= 1");
    Rotation::new(w, mean).expect("Q of a QR factorization is orthogonal")
}

/// Haar-random rotations drawn from `seed` and the layer index.
pub(crate) struct RandomFit {
    pub(crate) seed: u64,
}

impl FitRotation for RandomFit {
    fn fit(&self, x: ArrayView2<'_, f64>, layer: usize) -> Result<Rotation> {
        // A random rotation never looks at the covariance: the first layer checks that the
        // data fill their space, which the other kinds check at every layer.
        if layer == 0 {
            check_rank(&fit_pca(x).1, layer)?;
        }
        Ok(haar_random(x, self.seed, layer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn orthogonal_and_haar_moments() {
        // For a Haar matrix every entry has mean 0 and variance 1/d. Without the sign
        // correction, QR's diagonal is biased, which the mean test below would catch.
        let d = 4;
        let x = Array2::<f64>::zeros((d, 3));
        let draws = 4000;
        let (mut diag_sum, mut sq_sum) = (0.0, 0.0);
        for layer in 0..draws {
            let r = haar_random(x.view(), 17, layer);
            let gram = r.w.dot(&r.w.t());
            assert!((&gram - &Array2::<f64>::eye(d)).iter().all(|e| e.abs() < 1e-12));
            diag_sum += r.w.diag().sum();
            sq_sum += r.w.iter().map(|v| v * v).sum::<f64>() / (d * d) as f64;
        }
        let diag_mean = diag_sum / (draws * d) as f64;
        // sd of one entry is 1/√d = 0.5; of the mean over 16000 entries, ~0.004.
        assert!(diag_mean.abs() < 0.02, "mean diagonal entry {diag_mean}");
        assert!((sq_sum / draws as f64 - 1.0 / d as f64).abs() < 1e-12, "rows are unit vectors");
        let a = haar_random(x.view(), 17, 3);
        assert_eq!(a, haar_random(x.view(), 17, 3));
        assert_ne!(a, haar_random(x.view(), 18, 3));
    }
}
