//! Haar-distributed random rotations.

use nalgebra::DMatrix;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::Rotation;

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
    let (q, r) = (qr.q(), qr.r());
    let w = Array2::from_shape_fn((d, d), |(i, j)| {
        // Row i of W is column i of Q, signed by R[i, i].
        let s = if r[(i, i)] < 0.0 { -1.0 } else { 1.0 };
        s * q[(j, i)]
    });
    let mean: Array1<f64> = x.mean_axis(Axis(1)).expect("n >= 1");
    Rotation::new(w, mean).expect("Q of a QR factorization is orthogonal")
}
