//! Saving, loading, and every way a model file can be wrong.

mod common;

use common::*;
use rbig::{ParamGuard, Rbig, RbigError};

fn model() -> (Rbig, ndarray::Array2<f64>) {
    let x = banana(2000, 71);
    (Rbig::fit(&x).unwrap(), x)
}

#[test]
fn save_load_gives_identical_outputs() {
    let (model, x) = model();
    let dir = TempDir::new("roundtrip");
    let path = dir.0.join("banana.rbig");
    model.save(&path).unwrap();
    let loaded = Rbig::load(&path).unwrap();
    assert_eq!(loaded, model);
    assert_eq!(loaded.log_density(&x).unwrap(), model.log_density(&x).unwrap());
    assert_eq!(loaded.transform(&x).unwrap(), model.transform(&x).unwrap());
    assert_eq!(loaded.total_correlation(), model.total_correlation());
    assert_eq!(dir.entries(), vec!["banana.rbig".to_string()], "no temporary file left behind");
}

/// Fits ICA mode to `x` and checks that the model survives a round trip through a file
/// exactly, scores included.
fn ica_round_trip(x: &ndarray::Array2<f64>) -> Rbig {
    let params = Rbig::params().rotation(rbig::RotationKind::Ica).check().unwrap();
    let model = linfa::traits::Fit::fit(&params, &linfa::DatasetBase::from(x.clone())).unwrap();
    let loaded = Rbig::from_bytes(&model.to_bytes()).unwrap();
    assert_eq!(loaded, model);
    assert_eq!(loaded.log_density(x).unwrap(), model.log_density(x).unwrap());
    model
}

#[test]
fn ica_models_with_unmixing_and_radial_steps_round_trip_through_files() {
    let t = rbig_tasks::suite().into_iter().find(|t| t.name == "student-t3-d4 TC").unwrap();
    ica_round_trip(&t.sample(3000, 1));
}

#[test]
fn never_overwrites_without_asking() {
    let (model, _) = model();
    let dir = TempDir::new("overwrite");
    let path = dir.0.join("m.rbig");
    std::fs::write(&path, b"precious user data").unwrap();
    match model.save(&path) {
        Err(RbigError::FileExists(p)) => assert_eq!(p, path),
        other => panic!("expected FileExists, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), b"precious user data");
    model.save_overwrite(&path).unwrap();
    assert_eq!(Rbig::load(&path).unwrap(), model);
    assert_eq!(dir.entries(), vec!["m.rbig".to_string()]);
}

#[test]
fn missing_file_names_the_path() {
    let err = Rbig::load("/nonexistent/dir/model.rbig").unwrap_err();
    assert!(matches!(err, RbigError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/dir/model.rbig"), "{err}");
    let (model, _) = model();
    let err = model.save("/nonexistent/dir/model.rbig").unwrap_err();
    assert!(err.to_string().contains("/nonexistent/dir"), "{err}");
}

#[test]
fn foreign_files_are_not_models() {
    for bytes in [&b""[..], b"a,b\n1,2\n", b"\x93NUMPY\x01\x00", b"RBIGMOD"] {
        assert!(matches!(Rbig::from_bytes(bytes), Err(RbigError::NotAModel)), "{bytes:?}");
    }
}

#[test]
fn newer_versions_are_refused() {
    let (model, _) = model();
    let mut bytes = model.to_bytes();
    let newer = rbig::FORMAT_VERSION + 1;
    bytes[8..12].copy_from_slice(&newer.to_le_bytes());
    match Rbig::from_bytes(&bytes) {
        Err(e @ RbigError::UnsupportedVersion { found, supported })
            if found == newer && supported == rbig::FORMAT_VERSION =>
        {
            assert!(e.to_string().contains(&format!("version {newer}")), "{e}")
        }
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
}

#[test]
fn every_truncation_is_an_error() {
    let (model, _) = model();
    let bytes = model.to_bytes();
    for len in 0..bytes.len() {
        match Rbig::from_bytes(&bytes[..len]) {
            Err(RbigError::NotAModel) => assert!(len < 8),
            Err(RbigError::CorruptModel(_)) => assert!(len >= 8),
            other => panic!("truncated to {len} bytes: {other:?}"),
        }
    }
    let mut padded = bytes.clone();
    padded.push(0);
    assert!(matches!(Rbig::from_bytes(&padded), Err(RbigError::CorruptModel(_))));
}

#[test]
fn every_flipped_byte_is_detected() {
    let (model, _) = model();
    let bytes = model.to_bytes();
    for i in 12..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[i] ^= 0x5a;
        assert!(matches!(Rbig::from_bytes(&damaged), Err(RbigError::CorruptModel(_))), "byte {i}");
    }
}

#[test]
fn version_1_files_still_load_and_score_as_they_did() {
    // Written by the format-1 code (random rotations, 12 knots, 400 banana rows); the
    // scores are what that code computed for these points.
    let model = Rbig::load(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/model_v1.rbig")).unwrap();
    let x = ndarray::array![
        [-1.860714300938789, 4.211352467299749],
        [-0.5605540417400418, 0.20461779465026825],
        [0.03698577898899117, 0.03211393992352339],
        [-0.5182867688804993, 1.4725526862575693],
        [-0.2114506968350505, 0.06424597825430996]
    ];
    let expected =
        [-3.2688731358188057, -1.6702796904606734, -0.19716742291028977, -3.7266774267046654, -0.11668744917170826];
    assert_eq!(model.log_density(&x).unwrap().to_vec(), expected);
    assert_eq!(model.n_layers(), 7);
    assert_eq!(model.hyperparameters().shrinkage(), 1.0);
    assert_eq!(model.hyperparameters().validation(), None);
    assert_eq!(model.held_out_log_likelihood(), None);
    // Saved again, it is a current-version file of the same model.
    let again = Rbig::from_bytes(&model.to_bytes()).unwrap();
    assert_eq!(again, model);
}

#[test]
fn version_2_files_still_load_and_score_as_they_did() {
    // Written by the format-2 code: ICA mode (its orthogonal unmixing kept) on 400 rows of
    // `tasks::power_mixed(3, 3)`; the scores are what that code computed for these points.
    let model = Rbig::load(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/model_v2.rbig")).unwrap();
    let x = ndarray::array![
        [0.09712382559990683, -0.34552506810663414, -0.2381624063320724],
        [2.1515670767143322, 1.1060330008526078, 0.7261423920395988],
        [0.4076506001316936, 0.3956885659663312, 0.2850279765888162],
        [-1.0648845992849143, -2.2352726631675073, -1.5100216126399668],
        [-0.682092729390014, -1.4107900008663254, -0.7763137987808031]
    ];
    let expected =
        [0.012445842451304867, -1.5837413954299913, 0.16786134831301014, -2.427614139440945, -2.239170236909265];
    assert_eq!(model.log_density(&x).unwrap().to_vec(), expected);
    assert_eq!(model.total_correlation(), 3.6762646594644925);
    let z = model.transform(&x).unwrap();
    let back = model.inverse_transform(&z).unwrap();
    assert!((&back - &x).iter().all(|e| e.abs() < 1e-9));
    let again = Rbig::from_bytes(&model.to_bytes()).unwrap();
    assert_eq!(again, model);
}

#[test]
fn refined_unmixings_are_saved() {
    // ICA mode on linearly mixed heavy-tailed sources keeps a non-orthogonal refinement;
    // it must survive a round trip through a file exactly.
    let model = ica_round_trip(&rbig_tasks::power_mixed(3, 3).sample(4000, 0));
    assert!(model.pre_steps().refined);
}

#[test]
fn density_options_and_the_held_out_score_are_saved() {
    let (_, x) = model();
    let params = Rbig::params()
        .rotation(rbig::RotationKind::Random)
        .knots(rbig::Knots::Smooth)
        .shrinkage(0.5)
        .validation(rbig::Validation { fraction: 0.25, patience: 7 });
    let fitted = rbig::select(&x, &[params]).unwrap().model;
    let loaded = Rbig::from_bytes(&fitted.to_bytes()).unwrap();
    assert_eq!(loaded, fitted);
    assert_eq!(loaded.hyperparameters().shrinkage(), 0.5);
    assert_eq!(loaded.hyperparameters().validation(), Some(rbig::Validation { fraction: 0.25, patience: 7 }));
    assert!(loaded.held_out_log_likelihood().is_some());
}

#[test]
fn version_3_files_still_load_as_models_of_continuous_data() {
    // Written by the format-3 code (the pinned PCA model before format 4). Format 4
    // appends the dequantization widths, format 5 the annotations, format 6 the mixture
    // start and format 7 the refinement's charge: the same model's payload is format 3's
    // plus the encodings of `None` (one zero byte), of absent annotations (three `None`s
    // and `false`: four zero bytes) and of `None` twice more.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/model_v3.rbig");
    let (model, version) = Rbig::load_with_format(path).unwrap();
    assert_eq!(version, 3);
    assert_eq!(model.dequantization_widths(), None);
    let v3 = std::fs::read(path).unwrap();
    let current = model.to_bytes();
    assert_eq!(&current[..8], &v3[..8]);
    assert_eq!(u32::from_le_bytes(current[8..12].try_into().unwrap()), rbig::FORMAT_VERSION);
    assert_eq!(current[24..current.len() - 7], v3[24..]);
    assert_eq!(current[current.len() - 7..], [0; 7]);
    assert_eq!(Rbig::from_bytes(&current).unwrap(), model);
}

/// The pinned PCA model as the format-`version` code wrote it (before the next format):
/// it loads as written, its payload is the current format's less the `missing` zero
/// bytes that encode the fields added since as absent, and it scores as the pinned model
/// of the same data does.
fn older_pinned_pca(version: u32, missing: usize) -> Rbig {
    let path = format!("{}/tests/data/model_v{version}.rbig", env!("CARGO_MANIFEST_DIR"));
    let (model, read_as) = Rbig::load_with_format(&path).unwrap();
    assert_eq!(read_as, version);
    let old = std::fs::read(&path).unwrap();
    let current = model.to_bytes();
    assert_eq!(current[24..current.len() - missing], old[24..]);
    assert!(current[current.len() - missing..].iter().all(|&b| b == 0));
    let pinned = Rbig::load(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pinned/pca.rbig")).unwrap();
    let x = ndarray::array![[0.3, 1.2, -0.4], [-1.1, 0.9, 2.0], [0.0, 0.0, 0.0]];
    assert_eq!(model.log_density(&x).unwrap(), pinned.log_density(&x).unwrap());
    model
}

#[test]
fn version_4_files_still_load_without_annotations() {
    // No names, no reference scores, no held-out curve, no whitening (four zero bytes),
    // no mixture start and no refinement charge (one each).
    let model = older_pinned_pca(4, 6);
    assert_eq!((model.column_names(), model.tail_probability(0.0), model.held_out_curve()), (None, None, None));
}

#[test]
fn version_5_files_still_load_without_a_mixture_start() {
    let model = older_pinned_pca(5, 2);
    assert_eq!(model.pre_steps().mixture_components, 0);
}

#[test]
fn version_6_files_still_load_without_a_refinement_charge() {
    older_pinned_pca(6, 1);
}

#[test]
fn annotations_are_saved_and_checked() {
    let (model, x) = model();
    let named = model.with_column_names(vec!["a".into(), "b".into()]).unwrap();
    let loaded = Rbig::from_bytes(&named.to_bytes()).unwrap();
    assert_eq!(loaded, named);
    assert_eq!(loaded.column_names().unwrap(), ["a", "b"]);
    // Every fit records its training rows' scores: the tail probability of each training
    // row is (about) its rank.
    let scores = loaded.log_density(&x).unwrap();
    let below = |s: f64| scores.iter().filter(|&&v| v < s).count() as f64 / scores.len() as f64;
    for &s in scores.iter().take(50) {
        assert!((loaded.tail_probability(s).unwrap() - below(s)).abs() <= 2.0 / scores.len() as f64);
    }
    assert!(named.clone().with_column_names(vec!["a".into()]).is_err());
    assert!(named.with_column_names(vec!["a".into(), "a".into()]).is_err());
    // A density fit keeps its held-out curve, whose best is the recorded score.
    let fitted = rbig::select(&x, &[Rbig::params()]).unwrap().model;
    let curve = fitted.held_out_curve().unwrap();
    assert_eq!(curve.iter().copied().fold(f64::NEG_INFINITY, f64::max), fitted.held_out_log_likelihood().unwrap());
    assert_eq!(Rbig::from_bytes(&fitted.to_bytes()).unwrap().held_out_curve(), Some(curve));
}

#[test]
fn dequantization_widths_are_saved_and_checked() {
    let (model, _) = model();
    let model = model.with_dequantization_widths(vec![1.0, 0.0]).unwrap();
    let again = Rbig::from_bytes(&model.to_bytes()).unwrap();
    assert_eq!(again.dequantization_widths(), Some(&[1.0, 0.0][..]));
    assert!(model.clone().with_dequantization_widths(vec![1.0]).is_err());
    assert!(model.with_dequantization_widths(vec![1.0, f64::NAN]).is_err());
}
