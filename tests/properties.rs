//! Property tests: over random shapes, seeds and data families, every fit either returns
//! a clear data error or a model whose transform inverts to the data and whose
//! log-densities are finite.
//!
//! `cargo test --test properties` runs 48 cases per property from a fixed seed; a
//! longer run: `PROPTEST_CASES=20000 PROPTEST_SEED=7 cargo test --release --test
//! properties` (about 20 s). Failures found are saved in
//! `tests/properties.proptest-regressions` and replayed first on every run.

mod common;

use common::*;
use linfa::prelude::*;
use ndarray::Array2;
use proptest::prelude::*;
use rand::Rng;
use rbig::{Rbig, RbigError, RotationKind};

#[derive(Debug, Clone, Copy)]
enum Family {
    Normal,
    /// Ratio of normals: infinite variance, wild extremes.
    Cauchy,
    /// Small integers: heavy ties.
    SmallIntegers,
    /// A handful of distinct rows, repeated.
    DuplicatedRows,
    /// Normal, with one column constant.
    ConstantColumn,
    /// Normal, scaled by 10^k.
    Scaled(i32),
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![
        Just(Family::Normal),
        Just(Family::Cauchy),
        Just(Family::SmallIntegers),
        Just(Family::DuplicatedRows),
        Just(Family::ConstantColumn),
        (-300i32..=300).prop_map(Family::Scaled),
    ]
}

fn rotation() -> impl Strategy<Value = RotationKind> {
    prop_oneof![Just(RotationKind::Pca), Just(RotationKind::Random), Just(RotationKind::Ica)]
}

fn sample(family: Family, n: usize, d: usize, seed: u64) -> Array2<f64> {
    let z = standard_normal(n, d, seed);
    match family {
        Family::Normal => z,
        Family::Cauchy => {
            let w = standard_normal(n, d, seed ^ 0x9e37);
            Array2::from_shape_fn((n, d), |(i, j)| z[(i, j)] / w[(i, j)])
        }
        Family::SmallIntegers => z.mapv(|v| (2.0 * v).round()),
        Family::DuplicatedRows => {
            let distinct = rng(seed).gen_range(1..=4);
            Array2::from_shape_fn((n, d), |(i, j)| z[(i % distinct, j)])
        }
        Family::ConstantColumn => {
            let mut x = z;
            let column = seed as usize % d;
            x.column_mut(column).fill(1.5);
            x
        }
        Family::Scaled(k) => z.mapv(|v| v * 10f64.powi(k)),
    }
}

/// Whether two columns have identical or exactly reversed ranks.
fn ranks_determine_each_other(x: &Array2<f64>) -> bool {
    let ranks: Vec<Vec<usize>> = x
        .columns()
        .into_iter()
        .map(|c| {
            let mut order: Vec<usize> = (0..c.len()).collect();
            order.sort_by(|&a, &b| c[a].total_cmp(&c[b]));
            let mut rank = vec![0; c.len()];
            for (r, &i) in order.iter().enumerate() {
                rank[i] = r;
            }
            rank
        })
        .collect();
    let n = x.nrows();
    (0..ranks.len()).any(|a| {
        (a + 1..ranks.len())
            .any(|b| ranks[a] == ranks[b] || ranks[a].iter().zip(&ranks[b]).all(|(p, q)| p + q == n - 1))
    })
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48)
}

/// A fixed seed, so `cargo test` always runs the same cases (a failure is reproducible
/// and CI cannot flake); `PROPTEST_SEED=<n>` explores others.
fn seed() -> proptest::test_runner::RngSeed {
    let seed = std::env::var("PROPTEST_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed);
    proptest::test_runner::RngSeed::Fixed(seed)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), rng_seed: seed(), ..ProptestConfig::default() })]

    #[test]
    fn fit_gives_a_clear_error_or_a_working_model(
        n in 2usize..80,
        d in 1usize..6,
        seed in any::<u64>(),
        family in family(),
        rotation in rotation(),
    ) {
        let x = sample(family, n, d, seed);
        let params = Rbig::params().rotation(rotation).seed(seed).check().unwrap();
        match params.fit(&DatasetBase::from(x.clone())) {
            Err(e) => {
                prop_assert!(!e.to_string().is_empty());
                let data_error = matches!(
                    e,
                    RbigError::TooFewRows { .. }
                        | RbigError::ConstantColumn { .. }
                        | RbigError::NarrowColumn { .. }
                        | RbigError::UnresolvableColumn { .. }
                        | RbigError::Degenerate { .. }
                );
                prop_assert!(data_error, "not a data error: {e}");
                if n <= d {
                    prop_assert!(matches!(e, RbigError::TooFewRows { .. }), "{e}");
                }
                // Normal data with more rows than columns are in general position. The
                // first step is rank-based, though: a sample whose columns' ranks are
                // perfectly concordant, or a tiny one (n ≤ 2d + 2) whose rank patterns
                // happen to be linearly dependent, becomes degenerate after it.
                if n > d && matches!(family, Family::Normal | Family::Scaled(_)) {
                    let small_or_concordant = n <= 2 * d + 2 || ranks_determine_each_other(&x);
                    prop_assert!(
                        matches!(e, RbigError::Degenerate { layer: 0 }) && small_or_concordant,
                        "normal data were refused: {e}"
                    );
                }
            }
            Ok(model) => {
                prop_assert!(n > d);
                prop_assert!(model.total_correlation().is_finite());
                let log_p = model.log_density(&x).unwrap();
                prop_assert!(log_p.iter().all(|v| v.is_finite()), "non-finite density: {log_p}");
                let z = model.transform(&x).unwrap();
                prop_assert!(z.iter().all(|v| v.is_finite()));
                let back = model.inverse_transform(&z).unwrap();
                for (j, (col, back_col)) in x.columns().into_iter().zip(back.columns()).enumerate() {
                    let scale = col.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                    let err = col.iter().zip(back_col).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
                    prop_assert!(err <= 1e-7 * scale, "column {j}: round trip off by {err} at scale {scale}");
                }
                // Fresh points near the data score finitely too.
                let fresh = &x * 1.01 + 0.01 * x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                prop_assert!(model.log_density(&fresh).unwrap().iter().all(|v| v.is_finite()));
            }
        }
    }

    #[test]
    fn saved_models_load_identically(n in 10usize..60, d in 1usize..4, seed in any::<u64>()) {
        let x = sample(Family::Normal, n, d, seed);
        let model = Rbig::fit(&x).unwrap();
        let loaded = Rbig::from_bytes(&model.to_bytes()).unwrap();
        prop_assert_eq!(loaded.log_density(&x).unwrap(), model.log_density(&x).unwrap());
    }
}
