//! Every hostile input tried, each with the answer it must give: a model that works, or
//! the error that names the problem. Never a panic, a hang or a NaN.

mod common;

use common::*;
use ndarray::{array, Array2};
use rbig::{ParamGuard, Rbig, RbigError, RotationKind};

/// Fits with every rotation; each fit must fail with an error satisfying `expected`.
fn every_rotation_errors(x: &Array2<f64>, expected: impl Fn(&RbigError) -> bool) {
    for rotation in [RotationKind::Pca, RotationKind::Random, RotationKind::Ica] {
        let params = Rbig::params().rotation(rotation);
        match rbig::information::total_correlation(x, &params) {
            Err(e) => assert!(expected(&e), "{rotation:?}: unexpected error {e}"),
            Ok(v) => panic!("{rotation:?}: expected an error, got TC {}", v.value()),
        }
    }
}

/// Fits with every rotation; each model must score and round-trip its data.
fn every_rotation_works(x: &Array2<f64>) {
    use linfa::prelude::*;
    for rotation in [RotationKind::Pca, RotationKind::Random, RotationKind::Ica] {
        let model = Rbig::params().rotation(rotation).check().unwrap().fit(&DatasetBase::from(x.clone())).unwrap();
        let log_p = model.log_density(x).unwrap();
        assert!(log_p.iter().all(|v| v.is_finite()), "{rotation:?}: non-finite density");
        let back = model.inverse_transform(&model.transform(x).unwrap()).unwrap();
        let scale = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = (&back - x).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(err <= 1e-9 * scale, "{rotation:?}: round trip off by {err} at scale {scale}");
        assert!(model.total_correlation().is_finite());
    }
}

#[test]
fn heavy_tails_fit() {
    // Cauchy columns, and their cubes (tails like |x|^(-4/3)): extreme samples get knots
    // of their own, so they do not land far out in the Gaussian coordinate and swamp the
    // rotation (before that fix the cubes failed as "degenerate").
    let z = standard_normal(2000, 4, 5);
    let cauchy = Array2::from_shape_fn((2000, 2), |(i, j)| z[(i, 2 * j)] / z[(i, 2 * j + 1)]);
    every_rotation_works(&cauchy);
    every_rotation_works(&cauchy.mapv(|v| v.powi(3)));
}

#[test]
fn extreme_scales_fit_or_are_named() {
    let x = standard_normal(500, 2, 6);
    every_rotation_works(&x.mapv(|v| v * 1e300));
    every_rotation_works(&x.mapv(|v| v * 1e-300));
    // Columns at scales 400 orders of magnitude apart.
    every_rotation_works(&Array2::from_shape_fn((500, 2), |(i, j)| x[(i, j)] * if j == 0 { 1e-200 } else { 1e200 }));
    // Subnormal spreads: no floating-point scale can work with them.
    every_rotation_errors(&x.mapv(|v| v * 1e-310), |e| matches!(e, RbigError::NarrowColumn { column: 0, .. }));
    // One value 300 orders of magnitude beyond the rest of its column.
    let mut outlier = x.clone();
    outlier[(7, 1)] = 1e300;
    every_rotation_errors(
        &outlier,
        |e| matches!(e, RbigError::UnresolvableColumn { column: 1, max, .. } if *max == 1e300),
    );
}

#[test]
fn degenerate_shapes_are_named() {
    let x = standard_normal(200, 3, 7);
    // d > n, n = d, a single row, no rows, no columns.
    every_rotation_errors(&standard_normal(3, 5, 1), |e| matches!(e, RbigError::TooFewRows { rows: 3, needed: 6, .. }));
    every_rotation_errors(&standard_normal(3, 3, 1), |e| matches!(e, RbigError::TooFewRows { .. }));
    every_rotation_errors(&standard_normal(1, 1, 1), |e| matches!(e, RbigError::TooFewRows { rows: 1, .. }));
    every_rotation_errors(&Array2::zeros((0, 2)), |e| matches!(e, RbigError::TooFewRows { rows: 0, .. }));
    every_rotation_errors(&Array2::zeros((5, 0)), |e| matches!(e, RbigError::NoColumns));
    // A constant column, and every row identical.
    let mut constant = x.clone();
    constant.column_mut(2).fill(4.5);
    every_rotation_errors(&constant, |e| matches!(e, RbigError::ConstantColumn { column: 2, value } if *value == 4.5));
    every_rotation_errors(&Array2::from_elem((50, 2), 1.0), |e| {
        matches!(e, RbigError::ConstantColumn { column: 0, .. })
    });
    // A duplicated column and an exact linear combination: no density exists.
    let dup = Array2::from_shape_fn((200, 3), |(i, j)| x[(i, j.min(1))]);
    every_rotation_errors(&dup, |e| matches!(e, RbigError::Degenerate { .. }));
    let combo = Array2::from_shape_fn((200, 3), |(i, j)| if j < 2 { x[(i, j)] } else { x[(i, 0)] - 2.0 * x[(i, 1)] });
    every_rotation_errors(&combo, |e| matches!(e, RbigError::Degenerate { .. }));
}

#[test]
fn tiny_samples_and_ties_fit() {
    // The smallest shapes that carry a density: n = 2 in 1-D, n = d + 1.
    every_rotation_works(&array![[0.0], [1.0]]);
    every_rotation_works(&array![[0.0, 1.0], [1.0, 0.5], [2.0, 3.0]]);
    // Integers with heavy ties, and a few distinct rows repeated many times.
    let z = standard_normal(1000, 2, 8);
    every_rotation_works(&z.mapv(|v| (3.0 * v).round()));
    every_rotation_works(&Array2::from_shape_fn((600, 2), |(i, j)| z[(i % 3, j)]));
    // Binary columns (two values each, correlated).
    every_rotation_works(&Array2::from_shape_fn((400, 2), |(i, j)| {
        f64::from(u8::from(z[(i, 0)] + 0.3 * j as f64 * z[(i, 1)] > 0.0))
    }));
}

#[test]
fn scoring_far_outside_the_data() {
    let x = standard_normal(500, 2, 9);
    let model = Rbig::fit(&x).unwrap();
    let far = array![[0.0, 0.0], [1e300, -1e300], [1e308, 1e308], [-1.7e308, 0.0]];
    // The densities of far points underflow: −∞, never NaN.
    let log_p = model.log_density(&far).unwrap();
    assert!(log_p[0].is_finite());
    assert!(log_p.iter().skip(1).all(|&v| v == f64::NEG_INFINITY), "{log_p}");
    // Their images are finite or overflow: then an error names the first such row.
    match model.transform(&far) {
        Ok(z) => assert!(z.iter().all(|v| v.is_finite())),
        Err(e) => assert!(matches!(e, RbigError::OutOfRange { row: 1.. }), "{e}"),
    }
    match model.inverse_transform(&array![[0.0, 1e308], [1e308, -1e308]]) {
        Ok(x) => assert!(x.iter().all(|v| v.is_finite())),
        Err(e) => assert!(matches!(e, RbigError::OutOfRange { .. }), "{e}"),
    }
}

#[test]
fn fuzz_found_model_files_are_rejected() {
    // Found by `cargo fuzz run model_payload`: a checksummed model whose first knot sat
    // at z = −6.5e268. It decoded and validated, and its densities came out NaN. Knots
    // of a Gaussianizing map now have to lie within ±1000.
    let payload = include_bytes!("data/fuzz_payload_huge_knot.bin");
    let mut file = Vec::new();
    file.extend_from_slice(b"RBIGMODL");
    // A format-1 payload (found before format 2 existed).
    file.extend_from_slice(&1u32.to_le_bytes());
    file.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    file.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    file.extend_from_slice(payload);
    match Rbig::from_bytes(&file) {
        Err(RbigError::CorruptModel(msg)) => assert!(msg.contains("knots"), "{msg}"),
        other => panic!("expected CorruptModel, got {other:?}"),
    }
}

#[test]
fn a_fitted_model_is_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Rbig>();
    let x = standard_normal(3000, 3, 10);
    let model = Rbig::params().rotation(RotationKind::Ica).check().unwrap().fit_observed(&x, |_| {}).unwrap();
    let reference = model.log_density(&x).unwrap();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8).map(|_| s.spawn(|| model.log_density(&x).unwrap())).collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), reference);
        }
    });
}
