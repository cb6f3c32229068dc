//! Fitted models and estimates pinned bit for bit.
//!
//! Each case fits a model (or computes an estimate) on data generated here, and compares
//! the model file's bytes, and every score and estimate to the last bit, with what the
//! code computed when the fixtures under `tests/data/pinned/` were written. A change
//! meant to leave behaviour alone (a refactor, a speed-up) must pass this test
//! unchanged; a change meant to alter the numbers rewrites the fixtures on purpose,
//! with `RBIG_BLESS=1 cargo test --test pinned`, and says so in its commit.

mod common;

use std::fmt::Write as _;
use std::path::PathBuf;

use common::*;
use linfa::prelude::*;
use ndarray::{s, Array2};
use rand::SeedableRng;
use rbig::information::{entropy, kl_divergence, mutual_information, total_correlation};
use rbig::{Knots, Rbig, RbigParams, RotationKind, Validation};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/pinned").join(name)
}

fn bless() -> bool {
    std::env::var_os("RBIG_BLESS").is_some()
}

/// Heavy-tailed sources mixed linearly, then one column bent: ICA mode keeps its
/// unmixing, refinement and layers.
fn mixed_sources(n: usize, seed: u64) -> Array2<f64> {
    let z = standard_normal(n, 3, seed).mapv(|v| v.signum() * v.abs().powf(1.7));
    let a = ndarray::array![[1.0, 0.4, -0.3], [0.2, 1.0, 0.5], [-0.6, 0.1, 1.0]];
    let mut x = z.dot(&a);
    x.column_mut(2).mapv_inplace(|v| v + 0.2 * v * v);
    x
}

/// Integers: every column tied, so the fit spreads the ties.
fn counts(n: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, 2), |(i, j)| ((i * (3 + j)) % 17 + (i * i) % (5 + j)) as f64)
}

fn fit(params: RbigParams, x: &Array2<f64>) -> Rbig {
    params.check().unwrap().fit(&DatasetBase::from(x.clone())).unwrap()
}

/// The models pinned, by name.
fn models() -> Vec<(&'static str, Rbig, Array2<f64>)> {
    let banana3 = banana(1500, 7);
    let banana3 = ndarray::concatenate![ndarray::Axis(1), banana3, standard_normal(1500, 1, 8)];
    let mixed = mixed_sources(3000, 9);
    let two_d = banana(1200, 10);
    let ties = counts(900);
    vec![
        ("pca", fit(Rbig::params(), &banana3), banana3.clone()),
        ("random", fit(Rbig::params().rotation(RotationKind::Random).seed(3).whiten(false), &two_d), two_d.clone()),
        ("ica", fit(Rbig::params().rotation(RotationKind::Ica), &mixed), mixed.clone()),
        (
            "ica_smooth_shrunk",
            fit(
                Rbig::params()
                    .rotation(RotationKind::Ica)
                    .knots(Knots::Smooth)
                    .shrinkage(0.5)
                    .validation(Validation::default())
                    .whiten(false),
                &two_d,
            ),
            two_d.clone(),
        ),
        ("fixed_knots_ties", fit(Rbig::params().knots(Knots::Fixed(12)).whiten(false), &ties), ties.clone()),
        // The default start choice, which whitens these three (and not `pca`'s data).
        ("auto_random", fit(Rbig::params().rotation(RotationKind::Random).seed(3), &two_d), two_d.clone()),
        ("auto_fixed_knots_ties", fit(Rbig::params().knots(Knots::Fixed(12)), &ties), ties),
        (
            "auto_ica_smooth_shrunk",
            fit(
                Rbig::params()
                    .rotation(RotationKind::Ica)
                    .knots(Knots::Smooth)
                    .shrinkage(0.5)
                    .validation(Validation::default()),
                &two_d,
            ),
            two_d.clone(),
        ),
        ("fit_density", Rbig::fit_density(&two_d).unwrap(), two_d),
    ]
}

/// Every number a model computes on `x`, as bits: transform, inverse, log-density,
/// samples, and the fitted summaries.
fn outputs(model: &Rbig, x: &Array2<f64>) -> Vec<u64> {
    let z = model.transform(x).unwrap();
    let back = model.inverse_transform(&z).unwrap();
    let log_p = model.log_density(x).unwrap();
    let draws = model.sample(50, &mut rand::rngs::StdRng::seed_from_u64(4)).unwrap();
    let summary = [model.total_correlation(), model.entropy(), model.held_out_log_likelihood().unwrap_or(0.0)];
    z.iter().chain(&back).chain(&log_p).chain(&draws).chain(&summary).map(|v| v.to_bits()).collect()
}

#[test]
fn models_are_pinned_to_the_bit() {
    for (name, model, x) in models() {
        let bytes = model.to_bytes();
        let digest = format!("{:08x}", crc32fast::hash(&bytemuck_u64(&outputs(&model, &x))));
        let (model_path, digest_path) = (fixture(&format!("{name}.rbig")), fixture(&format!("{name}.outputs")));
        if bless() {
            std::fs::create_dir_all(model_path.parent().unwrap()).unwrap();
            std::fs::write(&model_path, &bytes).unwrap();
            std::fs::write(&digest_path, &digest).unwrap();
            continue;
        }
        let pinned = std::fs::read(&model_path).unwrap();
        assert!(pinned == bytes, "{name}: the fitted model's bytes changed");
        // The pinned file loads to the model just fitted, and computes the same numbers.
        let loaded = Rbig::from_bytes(&pinned).unwrap();
        assert_eq!(loaded, model, "{name}");
        assert_eq!(std::fs::read_to_string(&digest_path).unwrap(), digest, "{name}: outputs changed");
        assert_eq!(outputs(&loaded, &x), outputs(&model, &x), "{name}");
    }
}

fn bytemuck_u64(v: &[u64]) -> Vec<u8> {
    v.iter().flat_map(|b| b.to_le_bytes()).collect()
}

#[test]
fn estimates_are_pinned_to_the_bit() {
    let mixed = mixed_sources(3000, 11);
    let banana3 = banana(2000, 12);
    let (x, y) = (mixed.slice(s![.., ..1]).to_owned(), mixed.slice(s![.., 1..]).to_owned());
    let q = mixed_sources(2500, 13).mapv(|v| 1.1 * v + 0.1);
    let mut lines = String::new();
    for (mode, params) in [("pca", Rbig::params()), ("ica", Rbig::params().rotation(RotationKind::Ica))] {
        let values = [
            ("tc", total_correlation(&banana3, &params).unwrap().value()),
            ("entropy", entropy(&mixed, &params).unwrap().value()),
            ("mi", mutual_information(&x, &y, &params).unwrap().value()),
            ("kl", kl_divergence(&mixed, &q, &params).unwrap().value()),
        ];
        for (what, v) in values {
            writeln!(lines, "{mode} {what} {:016x} {v}", v.to_bits()).unwrap();
        }
    }
    let path = fixture("estimates.txt");
    if bless() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &lines).unwrap();
        return;
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), lines);
}
