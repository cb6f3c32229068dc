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
    let configurations = [RotationKind::Pca, RotationKind::Random, RotationKind::Ica]
        .map(|r| Rbig::params().rotation(r))
        .into_iter()
        .chain([Rbig::params().mixture(rbig::MixtureStart::Bic)]);
    for params in configurations {
        let rotation = params.clone().check().unwrap().rotation();
        let model = params.check().unwrap().fit(&DatasetBase::from(x.clone())).unwrap();
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

/// A column that is an increasing function of another (`exp(x)` beside `x`) has equal
/// ranks: its total correlation with it is infinite, and one sorted sample for every
/// column's rank scores would make the two columns identical. The estimate must stay an
/// estimate: finite, and far above what any noise gives.
#[test]
fn a_column_of_equal_ranks_gets_a_finite_large_estimate() {
    let g = standard_normal(2000, 2, 5);
    let x = Array2::from_shape_fn((2000, 3), |(i, j)| [g[(i, 0)], g[(i, 0)].exp(), g[(i, 1)]][j]);
    for rotation in [RotationKind::Pca, RotationKind::Ica] {
        let tc = rbig::information::total_correlation(&x, &Rbig::params().rotation(rotation)).unwrap();
        assert!(
            tc.value().is_finite() && tc.value() > 3.0,
            "{rotation:?}: TC {} ± {}",
            tc.value(),
            tc.standard_error()
        );
    }
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
    let mixture = Rbig::params().mixture(rbig::MixtureStart::Components(2)).check().unwrap();
    for model in [Rbig::fit(&x).unwrap(), mixture.fit_observed(&x, |_| {}).unwrap()] {
        score_far_outside(&model);
    }
}

fn score_far_outside(model: &Rbig) {
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

/// A `.npy` file: version 1 header declaring `descr` and `shape` (as Python writes
/// them, e.g. `(3, 2)` or `()`), then `data`.
fn npy_bytes(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// Reads `bytes` as the file `name`; the error message (which must name the file).
fn read_error(dir: &TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.path(name);
    std::fs::write(&path, bytes).unwrap();
    match rbig::io::read_matrix(&path) {
        Ok(x) => panic!("{name}: read a {:?} matrix", x.dim()),
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains(name), "{message:?} does not name the file");
            message
        }
    }
}

#[test]
fn npy_headers_are_checked_before_any_allocation() {
    let dir = TempDir::new("npy-headers");
    let values: Vec<u8> = (0..200).flat_map(|i| f64::from(i).to_le_bytes()).collect();
    // 10^12 rows declared, 200 values present: refused before allocating 16 TB.
    let e = read_error(&dir, "huge.npy", &npy_bytes("<f8", "(1000000000000, 2)", &values));
    assert!(e.contains("declares shape (1000000000000, 2)") && e.contains("1600 bytes"), "{e}");
    // A shape whose byte count overflows.
    let e = read_error(&dir, "overflow.npy", &npy_bytes("<f8", "(18446744073709551615, 3)", &values));
    assert!(e.contains("overflows"), "{e}");
    // Too short and too long for the shape.
    assert!(read_error(&dir, "short.npy", &npy_bytes("<f8", "(101, 2)", &values)).contains("holds 1600 bytes"));
    assert!(read_error(&dir, "long.npy", &npy_bytes("<f8", "(99, 2)", &values)).contains("holds 1600 bytes"));
    // Not a matrix.
    let e = read_error(&dir, "cube.npy", &npy_bytes("<f8", "(5, 5, 8)", &values));
    assert!(e.contains("3-D array of shape (5, 5, 8)"), "{e}");
    let e = read_error(&dir, "scalar.npy", &npy_bytes("<f8", "()", &values[..8]));
    assert!(e.contains("0-D array"), "{e}");
    // Complex numbers and strings are not data this tool models.
    assert!(read_error(&dir, "complex.npy", &npy_bytes("<c16", "(100,)", &values)).contains("'<c16' is not supported"));
    // A header length beyond the file, and a truncated magic.
    let mut bad = npy_bytes("<f8", "(100, 2)", &values);
    bad[8] = 0xff;
    bad[9] = 0xff;
    assert!(read_error(&dir, "cut.npy", &bad[..200]).contains("header is cut short"));
    assert!(read_error(&dir, "magic.npy", b"\x93NUM").contains("NumPy magic"));
    // A .npz archive (a zip file) is named as such, whatever its extension.
    assert!(read_error(&dir, "arrays.npz", b"PK\x03\x04\x14\x00\x00\x00").contains("zip archive"));
}

#[test]
fn integer_and_boolean_npy_files_are_read_as_numbers() {
    let dir = TempDir::new("npy-types");
    let ints = array![[1i64, -2], [3, 4], [-5, 6]];
    let path = dir.path("i64.npy");
    ndarray_npy::write_npy(&path, &ints).unwrap();
    assert_eq!(rbig::io::read_matrix(&path).unwrap(), ints.mapv(|v| v as f64));
    let bytes = array![[7u8, 0], [255, 1]];
    ndarray_npy::write_npy(dir.path("u8.npy"), &bytes).unwrap();
    assert_eq!(rbig::io::read_matrix(dir.path("u8.npy")).unwrap(), bytes.mapv(f64::from));
    let flags = ndarray::arr1(&[true, false, true]);
    ndarray_npy::write_npy(dir.path("bool.npy"), &flags).unwrap();
    assert_eq!(rbig::io::read_matrix(dir.path("bool.npy")).unwrap(), array![[1.0], [0.0], [1.0]]);
    let small = array![[1i16, 2], [3, 4]];
    ndarray_npy::write_npy(dir.path("i16.npy"), &small).unwrap();
    assert_eq!(rbig::io::read_matrix(dir.path("i16.npy")).unwrap(), small.mapv(f64::from));
}

#[test]
fn knot_counts_beyond_the_maps_index_are_refused_up_front() {
    use rbig::Knots;
    // 65,536 knots on 1e5 rows once panicked in the null simulation (the map's
    // segment index is 16-bit); now the parameter check names it.
    let x = standard_normal(100_000, 1, 3);
    for k in [65_536, 100_000, usize::MAX] {
        match Rbig::params().knots(Knots::Fixed(k)).check() {
            Err(RbigError::InvalidParameter { name, .. }) => assert_eq!(name, "knots"),
            other => panic!("{k} knots: {:?}", other.map(|_| ())),
        }
    }
    // The largest count allowed fits (each marginal map and the null simulation).
    let h = rbig::information::entropy(&x, &Rbig::params().knots(Knots::Fixed(Knots::MAX_FIXED)));
    assert!(h.is_ok_and(|h| h.value().is_finite()));
}

/// `payload` framed as a current model file with a valid checksum.
fn model_file(payload: &[u8]) -> Vec<u8> {
    let mut file = b"RBIGMODL".to_vec();
    file.extend_from_slice(&rbig::FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    file.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    file.extend_from_slice(payload);
    file
}

#[test]
fn impossible_training_sizes_are_refused_on_loading() {
    // The training size sets the noise simulations a loaded model runs for its standard
    // errors: 2^64 rows would run forever. The payload starts with the dimension and the
    // training rows as bincode varints (300 = 0xfb, then two bytes).
    let x = standard_normal(300, 2, 4);
    let bytes = Rbig::fit(&x).unwrap().to_bytes();
    let payload = &bytes[24..];
    assert_eq!(payload[..4], [2, 0xfb, 0x2c, 0x01]);
    for rows in [u64::MAX, 1 << 50, 2] {
        let mut forged = vec![2, 0xfd];
        forged.extend_from_slice(&rows.to_le_bytes());
        forged.extend_from_slice(&payload[4..]);
        match Rbig::from_bytes(&model_file(&forged)) {
            Err(RbigError::CorruptModel(msg)) => assert!(msg.contains("training rows"), "{msg}"),
            other => panic!("{rows} rows: expected CorruptModel, got {:?}", other.map(|_| ())),
        }
    }
}

#[test]
fn endless_and_huge_files_are_not_read_whole_to_find_they_are_not_models() {
    // /dev/zero never ends; it was read until memory ran out.
    assert!(matches!(Rbig::load("/dev/zero"), Err(RbigError::NotAModel)));
    // A valid header declaring a huge payload over a short file: the length is checked
    // against what is there, and only what is declared is ever read.
    let dir = TempDir::new("endless");
    let mut file = model_file(&[0u8; 100]);
    file[12..20].copy_from_slice(&(1u64 << 60).to_le_bytes());
    std::fs::write(dir.path("huge.rbig"), &file).unwrap();
    match Rbig::load(dir.path("huge.rbig")) {
        Err(RbigError::CorruptModel(msg)) => assert!(msg.contains("declares"), "{msg}"),
        other => panic!("expected CorruptModel, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn written_numbers_are_short_and_read_back_exactly() {
    // 1e200 was written as 201 digits and 1e-200 as 440 characters.
    let values =
        [1e200, 1e-200, 0.5, -1234.5, 1e15, 1e16, -2.5e-7, 5e-324, f64::MAX, f64::MIN_POSITIVE, 0.1 + 0.2, 0.0];
    let x = Array2::from_shape_vec((1, values.len()), values.to_vec()).unwrap();
    let mut out = Vec::new();
    rbig::io::write_csv(&mut out, x.view()).unwrap();
    let text = String::from_utf8(out).unwrap();
    for (cell, v) in text.trim().split(',').zip(values) {
        assert!(cell.len() <= 24, "{v} written as {cell:?}");
        assert_eq!(cell.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{cell}");
    }
}

/// Fits and estimates on `x` with every rotation: each either works (finite results, a
/// model that saves and loads) or fails with an error, never a NaN or a null.
fn works_or_is_named(x: &Array2<f64>) {
    use linfa::prelude::*;
    for rotation in [RotationKind::Pca, RotationKind::Random, RotationKind::Ica] {
        let params = Rbig::params().rotation(rotation);
        match params.clone().check().unwrap().fit(&DatasetBase::from(x.clone())) {
            Ok(model) => {
                assert!(model.total_correlation().is_finite(), "{rotation:?}");
                let loaded = Rbig::from_bytes(&model.to_bytes());
                assert!(loaded.is_ok(), "{rotation:?}: the saved model does not load: {:?}", loaded.err());
            }
            Err(e) => println!("{rotation:?}: {e}"),
        }
        for estimate in [rbig::information::total_correlation(x, &params), rbig::information::entropy(x, &params)] {
            match estimate {
                Ok(v) => assert!(v.value().is_finite() && v.standard_error().is_finite(), "{rotation:?}: {v:?}"),
                Err(e) => println!("{rotation:?}: {e}"),
            }
        }
    }
}

#[test]
fn overflowing_scales_are_named_not_null() {
    // Data near the top of the floating-point range: the fit once returned TC = NaN
    // ("null" in the tool's JSON, exit 0) and saved a model it could not load.
    let x = standard_normal(2000, 2, 8);
    let mixed = Array2::from_shape_fn((2000, 2), |(i, j)| x[(i, 0)] + if j == 1 { 0.5 * x[(i, 1)] } else { 0.0 });
    works_or_is_named(&mixed.mapv(|v| v * 1e307));
    let mut outlier = mixed.clone();
    outlier[(7, 1)] = 1e306;
    works_or_is_named(&outlier);
}

#[test]
fn one_huge_outlier_moves_the_total_correlation_only_through_its_own_windows() {
    // One value at 1e20 or 1e50 in 3000 rows once inflated the TC by ln(outlier / 1e11)
    // nats (89 for 1e50): the entropy estimator floored every spacing at 1e-12 of the
    // range. Now only the m-spacings holding the outlier see it: at most about
    // (m + 1)·ln(outlier)/n nats, m = n^(1/3).
    let z = standard_normal(3000, 2, 21);
    let x = Array2::from_shape_fn((3000, 2), |(i, j)| z[(i, 0)] + if j == 1 { 0.8 * z[(i, 1)] } else { 0.0 });
    for rotation in [RotationKind::Pca, RotationKind::Ica] {
        let params = Rbig::params().rotation(rotation);
        let clean = rbig::information::total_correlation(&x, &params).unwrap().value();
        for outlier in [1e20, 1e50] {
            let mut y = x.clone();
            y[(7, 1)] = outlier;
            let tc = rbig::information::total_correlation(&y, &params).unwrap().value();
            let windows = (3000f64.cbrt().round() + 1.0) * f64::ln(outlier) / 3000.0;
            assert!(
                (tc - clean).abs() <= windows,
                "{rotation:?} {outlier:e}: TC {tc} against {clean} (bound {windows})"
            );
        }
    }
}

#[test]
fn unresolvable_columns_are_named_by_their_input_values_in_every_mode() {
    // A column spread over 200 orders of magnitude. ICA mode's steps before the layers
    // transformed it first, and the error quoted the transformed range (up to 2.8).
    let z = standard_normal(2000, 1, 5);
    let x = Array2::from_shape_fn((2000, 2), |(i, j)| {
        if j == 0 {
            z[(i, 0)]
        } else {
            10f64.powf(-100.0 + 200.0 * ((i as f64 + 0.5) * 0.618_034).fract())
        }
    });
    every_rotation_errors(&x, |e| matches!(e, RbigError::UnresolvableColumn { column: 1, max, .. } if *max > 1e99));
}

/// A draw larger than memory is refused by the library itself, before allocating (it
/// aborted the process: a Python interpreter or any host program died with it).
#[test]
fn sample_larger_than_memory_is_refused() {
    use rand::SeedableRng;
    let model = Rbig::fit(&standard_normal(200, 2, 1)).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    match model.sample(1_000_000_000_000, &mut rng) {
        Err(RbigError::InvalidParameter { name: "n", reason }) => assert!(reason.contains("available"), "{reason}"),
        other => panic!("expected a refusal, got {:?}", other.map(|a| a.dim())),
    }
    assert_eq!(model.sample(3, &mut rng).unwrap().dim(), (3, 2));
}
