//! Every bad input gets its own clear error, never a panic or a NaN.

mod common;

use common::*;
use linfa::prelude::*;
use ndarray::{array, Array2};
use rbig::{Knots, Rbig, RbigError};

#[test]
fn non_finite_input_names_row_and_column() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut x = standard_normal(50, 3, 1);
        x[(17, 2)] = bad;
        match Rbig::fit(&x) {
            Err(RbigError::NonFinite { row: 17, column: 2, value }) => {
                assert!(value.is_nan() == bad.is_nan());
                let msg = RbigError::NonFinite { row: 17, column: 2, value }.to_string();
                // Counted from 1 in the message, as in the file.
                assert!(msg.contains("row 18") && msg.contains("column 3"), "{msg}");
            }
            other => panic!("expected NonFinite at (17, 2), got {other:?}"),
        }
    }
    let model = Rbig::fit(&standard_normal(100, 2, 2)).unwrap();
    let bad = array![[0.0, 1.0], [f64::NAN, 0.0]];
    assert!(matches!(model.transform(&bad), Err(RbigError::NonFinite { row: 1, column: 0, .. })));
    assert!(matches!(model.inverse_transform(&bad), Err(RbigError::NonFinite { row: 1, column: 0, .. })));
    assert!(matches!(model.log_density(&bad), Err(RbigError::NonFinite { row: 1, column: 0, .. })));
    // Scoring works on blocks of rows in parallel: the error is still the first bad cell
    // in row order, whatever the block and the memory layout.
    let mut many = standard_normal(20_000, 2, 3);
    many[(15_000, 0)] = f64::NAN;
    many[(9_000, 1)] = f64::INFINITY;
    let fortran = many.t().as_standard_layout().into_owned().reversed_axes();
    for x in [many.view(), fortran.view()] {
        assert!(matches!(model.log_density(&x), Err(RbigError::NonFinite { row: 9_000, column: 1, .. })));
        assert!(matches!(model.transform(&x), Err(RbigError::NonFinite { row: 9_000, column: 1, .. })));
    }
}

#[test]
fn too_few_rows_and_no_columns() {
    assert!(matches!(Rbig::fit(&Array2::<f64>::zeros((0, 3))), Err(RbigError::TooFewRows { rows: 0, needed: 4, .. })));
    assert!(matches!(Rbig::fit(&array![[1.0, 2.0]]), Err(RbigError::TooFewRows { rows: 1, needed: 3, .. })));
    // d points in d dimensions always lie on a hyperplane.
    let square = standard_normal(5, 5, 9);
    let err = Rbig::fit(&square).unwrap_err();
    assert!(err.to_string().contains("need at least 6 rows"), "{err}");
    assert!(matches!(Rbig::fit(&Array2::<f64>::zeros((10, 0))), Err(RbigError::NoColumns)));
}

#[test]
fn minimal_samples_are_enough() {
    // d + 1 points in general position: the smallest sample with a density.
    let x = array![[0.0, -1.0], [1.0, 0.2], [0.3, 1.0]];
    let model = Rbig::fit(&x).unwrap();
    let z = model.transform(&x).unwrap();
    let back = model.inverse_transform(&z).unwrap();
    assert!((&back - &x).iter().all(|e| e.abs() < 1e-12));
    assert!(model.log_density(&x).unwrap().iter().all(|v| v.is_finite()));
    let x = array![[0.0], [1.0]];
    let model = Rbig::fit(&x).unwrap();
    let z = model.transform(&x).unwrap();
    let back = model.inverse_transform(&z).unwrap();
    assert!((&back - &x).iter().all(|e| e.abs() < 1e-12));
    assert!(model.log_density(&x).unwrap().iter().all(|v| v.is_finite()));
}

#[test]
fn constant_column_is_rejected_by_name() {
    let mut x = standard_normal(200, 3, 3);
    x.column_mut(1).fill(4.5);
    match Rbig::fit(&x) {
        Err(e @ RbigError::ConstantColumn { column: 1, value }) => {
            assert_eq!(value, 4.5);
            assert!(e.to_string().contains("column 2 is constant"), "{e}");
        }
        other => panic!("expected ConstantColumn, got {other:?}"),
    }
}

#[test]
fn collinear_columns_are_degenerate() {
    let z = standard_normal(500, 2, 4);
    let x = Array2::from_shape_fn((500, 3), |(i, j)| if j < 2 { z[(i, j)] } else { 2.0 * z[(i, 0)] - 1.0 });
    assert!(matches!(Rbig::fit(&x), Err(RbigError::Degenerate { layer: 0 })), "{:?}", Rbig::fit(&x).err());
    let random = Rbig::params().rotation(rbig::RotationKind::Random).check().unwrap();
    assert!(matches!(random.fit(&DatasetBase::from(x)), Err(RbigError::Degenerate { layer: 0 })));
}

#[test]
fn dimension_mismatch() {
    let model = Rbig::fit(&standard_normal(100, 3, 5)).unwrap();
    let x = standard_normal(10, 4, 6);
    for result in [model.transform(&x).err(), model.inverse_transform(&x).err(), model.log_density(&x).err()] {
        match result {
            Some(e @ RbigError::DimensionMismatch { expected: 3, found: 4 }) => {
                assert!(e.to_string().contains("3 columns") && e.to_string().contains("4"), "{e}");
            }
            other => panic!("expected DimensionMismatch, got {other:?}"),
        }
    }
}

#[test]
fn invalid_parameters() {
    let cases = [
        (Rbig::params().max_layers(0), "max_layers"),
        (Rbig::params().patience(0), "patience"),
        (Rbig::params().significance(f64::NAN), "significance"),
        (Rbig::params().significance(-1.0), "significance"),
        (Rbig::params().knots(Knots::Fixed(1)), "knots"),
    ];
    for (params, name) in cases {
        match params.check() {
            Err(RbigError::InvalidParameter { name: got, .. }) => assert_eq!(got, name),
            other => panic!("expected InvalidParameter({name}), got {other:?}"),
        }
    }
    // Through linfa's Fit on unchecked params the same error comes back.
    let x = standard_normal(20, 2, 7);
    let result = Rbig::params().patience(0).fit(&DatasetBase::from(x));
    assert!(matches!(result, Err(RbigError::InvalidParameter { name: "patience", .. })));
}

#[test]
fn empty_transform_is_fine() {
    let model = Rbig::fit(&standard_normal(100, 2, 8)).unwrap();
    let empty = Array2::<f64>::zeros((0, 2));
    assert_eq!(model.transform(&empty).unwrap().dim(), (0, 2));
    assert_eq!(model.log_density(&empty).unwrap().len(), 0);
    assert_eq!(model.sample(0, &mut rng(1)).unwrap().dim(), (0, 2));
}

#[test]
fn extreme_scales_fit_and_round_trip() {
    // Regression: at 1e-300 the spline slopes overflowed (a panic in the rotation); at
    // 1e300 the unmixing's covariance overflowed. Every map now works on a unit scale.
    let g = standard_normal(2000, 3, 11);
    for scale in [1e300, 1e-300] {
        let x = &g * scale;
        for rotation in [rbig::RotationKind::Pca, rbig::RotationKind::Ica, rbig::RotationKind::Random] {
            let model = Rbig::params().rotation(rotation).check().unwrap().fit(&DatasetBase::from(x.clone())).unwrap();
            let z = model.transform(&x).unwrap();
            assert!(z.iter().all(|v| v.is_finite()), "{scale:e} {rotation:?}");
            let back = model.inverse_transform(&z).unwrap();
            let err = back.iter().zip(&x).map(|(a, b)| (a - b).abs() / b.abs()).fold(0.0, f64::max);
            assert!(err <= 1e-9, "{scale:e} {rotation:?}: relative error {err:e}");
            assert!(model.log_density(&x).unwrap().iter().all(|v| v.is_finite()));
            // The entropy moves by ln(scale) per dimension.
            let shift = model.entropy() - 3.0 * scale.ln();
            assert!((shift - 4.26).abs() < 0.1, "{scale:e} {rotation:?}: H − 3 ln s = {shift}");
        }
    }
}

#[test]
fn ica_mode_with_few_samples_per_dimension_does_not_run_away() {
    // Regression: with 12 samples in 10 dimensions FastICA fitted noise and the fit ran
    // to max_layers with a total correlation in the thousands.
    let x = standard_normal(12, 10, 12);
    let model = Rbig::params().rotation(rbig::RotationKind::Ica).check().unwrap().fit(&DatasetBase::from(x)).unwrap();
    assert!(model.n_layers() <= 10, "{} layers", model.n_layers());
}

#[test]
fn constant_column_error_is_deterministic() {
    // Several constant columns: the lowest is named, whatever the thread scheduling.
    let mut x = standard_normal(300, 4, 13);
    x.column_mut(1).fill(0.0);
    x.column_mut(3).fill(2.0);
    for rotation in [rbig::RotationKind::Pca, rbig::RotationKind::Ica] {
        for _ in 0..5 {
            let err =
                Rbig::params().rotation(rotation).check().unwrap().fit(&DatasetBase::from(x.clone())).unwrap_err();
            assert!(matches!(err, RbigError::ConstantColumn { column: 1, .. }), "{rotation:?}: {err}");
        }
    }
}

/// A flag set part-way through stops the fit at the next layer boundary: the observer
/// sees exactly the layers fitted before the flag, for each rotation and for the
/// density selection, whose candidates share it.
#[test]
fn cancel_flag_stops_the_fit_at_the_next_layer() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let x = standard_normal(2000, 3, 4).mapv(|v| v.powi(3));
    for rotation in [rbig::RotationKind::Pca, rbig::RotationKind::Random, rbig::RotationKind::Ica] {
        let flag = Arc::new(AtomicBool::new(false));
        let params = Rbig::params().rotation(rotation).cancel_flag(flag.clone()).check().unwrap();
        let mut seen = 0;
        let result = params.fit_observed(&x, |_| {
            seen += 1;
            if seen == 2 {
                flag.store(true, Ordering::Relaxed);
            }
        });
        assert!(matches!(result, Err(RbigError::Cancelled)), "{rotation:?}: {result:?}");
        assert_eq!(seen, 2, "{rotation:?}");
        // The same parameters without the flag set fit normally, and further.
        flag.store(false, Ordering::Relaxed);
        let mut uncancelled = 0;
        params.fit_observed(&x, |_| uncancelled += 1).unwrap();
        assert!(uncancelled > 2, "{rotation:?}");
    }
    let flag = Arc::new(AtomicBool::new(true));
    let candidates: Vec<_> = rbig::density_candidates().into_iter().map(|c| c.cancel_flag(flag.clone())).collect();
    assert!(matches!(rbig::select(&x, &candidates), Err(RbigError::Cancelled)));
}

/// Under `Whitening::Auto` the two starts are fitted side by side and the whitened
/// start's layers reach the observer after the raw start's: a flag set at one of those
/// still stops the fit there, with no layer observed after it.
#[test]
fn cancel_flag_set_at_the_second_starts_layers_stops_there() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let x = standard_normal(2000, 3, 4).mapv(|v| v.powi(3));
    let mut raw_layers = 0;
    Rbig::params().whiten(false).check().unwrap().fit_observed(&x, |_| raw_layers += 1).unwrap();
    let mut both_layers = 0;
    Rbig::params().check().unwrap().fit_observed(&x, |_| both_layers += 1).unwrap();
    assert!(both_layers > raw_layers + 1, "{both_layers} layers observed, {raw_layers} of the raw start");
    let flag = Arc::new(AtomicBool::new(false));
    let params = Rbig::params().cancel_flag(flag.clone()).check().unwrap();
    let mut seen = 0;
    let result = params.fit_observed(&x, |_| {
        seen += 1;
        if seen == raw_layers + 1 {
            flag.store(true, Ordering::Relaxed);
        }
    });
    assert!(matches!(result, Err(RbigError::Cancelled)), "{result:?}");
    assert_eq!(seen, raw_layers + 1);
}
