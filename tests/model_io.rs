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

#[test]
fn ica_models_with_unmixing_and_radial_steps_round_trip_through_files() {
    let t = rbig::tasks::suite().into_iter().find(|t| t.name == "student-t3-d4 TC").unwrap();
    let x = t.sample(3000, 1);
    let params = Rbig::params().rotation(rbig::RotationKind::Ica).check().unwrap();
    let model = linfa::traits::Fit::fit(&params, &linfa::DatasetBase::from(x.clone())).unwrap();
    let loaded = Rbig::from_bytes(&model.to_bytes()).unwrap();
    assert_eq!(loaded, model);
    assert_eq!(loaded.log_density(&x).unwrap(), model.log_density(&x).unwrap());
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
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    match Rbig::from_bytes(&bytes) {
        Err(e @ RbigError::UnsupportedVersion { found: 2, supported: 1 }) => {
            assert!(e.to_string().contains("version 2"), "{e}")
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
