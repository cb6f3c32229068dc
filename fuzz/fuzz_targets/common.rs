//! What every decoded model must survive: scoring, transforming and inverting a few
//! points of its dimension, without panicking and without NaN.

use ndarray::Array2;

pub fn exercise(model: &rbig::Rbig) {
    let d = model.dim();
    if d > 64 {
        return; // a valid but huge model: decoding it was the test
    }
    let x = Array2::from_shape_fn((4, d), |(i, j)| [0.0, 1.5, -3.0, 1e6][i] + j as f64 * 0.1);
    if let Ok(log_p) = model.log_density(&x) {
        assert!(log_p.iter().all(|v| !v.is_nan()), "NaN density from a validated model");
    }
    if let Ok(z) = model.transform(&x) {
        assert!(z.iter().all(|v| !v.is_nan()), "NaN transform from a validated model");
    }
    assert!(model.inverse_transform(&Array2::<f64>::zeros((1, d + 1))).is_err());
}
