//! Acceptance of the information measures against analytic truths (rbig_tasks).
//!
//! The default run covers the cheap cases; `cargo test --release -- --ignored` adds the
//! d = 50 Gaussian and the larger Student-t blocks.

mod common;

use common::estimator::RbigEstimator;
use ndarray::{s, Array2};
use rbig::information::{
    entropy, kl_divergence, mutual_information, total_correlation, InformationEstimate, Method, Units,
};
use rbig::{Rbig, RbigError, RbigParams, RotationKind};
use rbig_tasks::{beyond_normal_suite, suite, Task};

fn task(name: &str) -> Task {
    suite().into_iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no task {name}"))
}

/// Mean estimate over `seeds` seeds at n = 10,000.
fn mean_estimate(name: &str, params: &RbigParams, seeds: u64) -> (f64, f64) {
    let t = task(name);
    let est = (0..seeds).map(|seed| t.estimate(10_000, seed, &RbigEstimator(params)).unwrap().value).sum::<f64>()
        / seeds as f64;
    println!("{name}: truth {:.4}, estimate {est:.4}, error {:+.4}", t.truth, est - t.truth);
    (est, t.truth)
}

fn ica() -> RbigParams {
    Rbig::params().rotation(RotationKind::Ica)
}

/// The ICA-mode mutual information between the first `split` columns of `x` and the
/// rest, before and after every column goes through its own increasing map
/// ([`rbig_tasks::monotone_maps`]).
fn mi_before_and_after_maps(x: &Array2<f64>, split: usize) -> (InformationEstimate, InformationEstimate) {
    let mi =
        |d: &Array2<f64>| mutual_information(&d.slice(s![.., ..split]), &d.slice(s![.., split..]), &ica()).unwrap();
    (mi(x), mi(&rbig_tasks::monotone_maps(x)))
}

#[test]
fn gaussian_d2_within_002() {
    for q in ["TC", "H", "MI"] {
        for params in [Rbig::params(), ica()] {
            let (est, truth) = mean_estimate(&format!("gaussian-d2 {q}"), &params, 3);
            assert!((est - truth).abs() <= 0.02, "gaussian-d2 {q}: {est} vs {truth}");
        }
    }
}

#[test]
fn gaussian_d10_within_005_with_ica() {
    for q in ["TC", "H", "MI"] {
        let (est, truth) = mean_estimate(&format!("gaussian-d10 {q}"), &ica(), 3);
        assert!((est - truth).abs() <= 0.05, "gaussian-d10 {q}: {est} vs {truth}");
    }
}

#[test]
#[ignore = "about a minute: d = 50"]
fn gaussian_d50_within_5_percent_with_ica() {
    for q in ["TC", "H", "MI"] {
        let (est, truth) = mean_estimate(&format!("gaussian-d50 {q}"), &ica(), 3);
        assert!((est - truth).abs() <= 0.05 * truth.abs(), "gaussian-d50 {q}: {est} vs {truth}");
    }
}

/// Two 50-D Gaussian blocks, every pair of the 100 columns correlated 0.5 (Beyond
/// Normal's dense 50 × 50, MI 1.624 nats). Both modes remove the spurious correlations
/// within each block before the joint model sees them (ICA mode: the blocks' own
/// whitenings; PCA mode: each Gaussianized block whitened); charged the null of all 100
/// columns' spurious correlations, the estimates were 0.23 (ICA) and 0.28 (PCA) nats low.
#[test]
fn wide_gaussian_blocks_are_not_over_corrected() {
    let t = beyond_normal_suite().into_iter().find(|t| t.name == "Multinormal dense 50 × 50").expect("in the suite");
    let x = t.sample(5000, 0);
    for params in [ica(), Rbig::params()] {
        let mi = mutual_information(&x.slice(s![.., ..50]), &x.slice(s![.., 50..]), &params).unwrap();
        println!("MI {:.4} ± {:.4}, truth {:.4}", mi.value(), mi.standard_error(), t.truth);
        assert!((mi.value() - t.truth).abs() <= 2.0 * mi.standard_error(), "{} vs {}", mi.value(), t.truth);
    }
}

/// Independent Gaussian columns where PCA mode keeps no layer and reports a total
/// correlation of exactly 0 (as on 5 of the 12 samples below). That is the decision that no layer stood out of the noise, and it has
/// that noise: the standard error is one layer's null standard deviation, not 0.
#[test]
fn an_estimate_with_nothing_kept_carries_the_noise_of_the_layer_it_rejected() {
    use linfa::prelude::*;
    let params = Rbig::params().whiten(false);
    // A sample on whose rank scores the model keeps nothing.
    let x = common::standard_normal(4000, 3, 1);
    let tc = total_correlation(&x, &params).unwrap();
    let model = params.check().unwrap().fit(&linfa::DatasetBase::from(x)).unwrap();
    assert_eq!((tc.layers(), tc.value()), (0, 0.0));
    let layer_sd = model.significance_threshold() / model.hyperparameters().significance();
    assert!((tc.standard_error() - layer_sd).abs() < 1e-12, "{} vs {layer_sd}", tc.standard_error());
}

/// Independent columns have no total correlation; what the estimates show is the
/// stopping rule's bias (it keeps layers up to the largest cumulative reduction, and a
/// maximum of noise is positive). The columns' rank scores must not add to it: when they
/// were all permutations of one sorted sample, their entropy estimates shared one error
/// and the mean over these 12 samples was +0.0083 nats, against +0.0012 with draws of
/// their own.
#[test]
fn the_scores_add_no_total_correlation_to_independent_columns() {
    let params = Rbig::params().whiten(false);
    let estimates: Vec<f64> = (0..12)
        .map(|seed| total_correlation(&common::standard_normal(4000, 3, seed), &params).unwrap().value())
        .collect();
    let mean = estimates.iter().sum::<f64>() / 12.0;
    println!("{estimates:.4?}: mean {mean:.4}");
    assert!(mean < 0.004, "{mean}");
}

#[test]
fn gaussian_kl_divergences() {
    for name in ["gaussian-d2 KL shift", "gaussian-d2 KL scale", "gaussian-d3 KL shift", "gaussian-d3 KL scale"] {
        for params in [Rbig::params(), ica()] {
            let (est, truth) = mean_estimate(name, &params, 3);
            assert!((est - truth).abs() <= 0.02, "{name}: {est} vs {truth}");
        }
    }
}

#[test]
fn kl_of_a_distribution_with_itself_is_zero() {
    let t = task("gaussian-d3 KL shift");
    let q = t.sample_q(10_000, 1).unwrap();
    let q2 = t.sample_q(10_000, 2).unwrap();
    let d = kl_divergence(&q, &q2, &Rbig::params()).unwrap();
    assert!(d.value().abs() <= 0.01, "KL(Q, Q) = {}", d.value());
}

#[test]
fn kl_between_samples_of_one_distribution_carries_its_noise() {
    // D(P ‖ P) = 0, from two independent samples. The marginal part of the estimate
    // rests on one entropy estimate per column, whose noise the standard error must
    // carry: it was 1e-7 when no layer was kept, against estimates of ±0.01. And Q's
    // closing maps, fitted to Q's own rows, miss the standard normal on P's rows by
    // what they lose on new rows; uncorrected, that put the mean here at +0.0167 (PCA
    // +0.0155, ICA +0.0179).
    let t = task("gaussian-d3 KL shift");
    let mut sum = 0.0;
    for seed in 0..8 {
        let (p, q) = (t.sample_q(2000, 2 * seed).unwrap(), t.sample_q(2000, 2 * seed + 1).unwrap());
        for params in [Rbig::params(), ica()] {
            let d = kl_divergence(&p, &q, &params).unwrap();
            assert!(d.standard_error() > 0.005, "seed {seed}: {} ± {}", d.value(), d.standard_error());
            assert!(d.value().abs() <= 4.0 * d.standard_error(), "seed {seed}: {} ± {}", d.value(), d.standard_error());
            sum += d.value();
        }
    }
    println!("mean {:.4}", sum / 16.0);
    assert!((sum / 16.0).abs() <= 0.006, "mean {}", sum / 16.0);
}

#[test]
fn rotated_uniforms_with_ica() {
    for q in ["TC", "H"] {
        let (est, truth) = mean_estimate(&format!("rotated-uniforms {q}"), &ica(), 3);
        assert!((est - truth).abs() <= 0.05, "rotated-uniforms {q}: {est} vs {truth}");
    }
}

#[test]
fn linearly_mixed_heavy_tailed_sources_with_ica() {
    // The refinement without the orthogonality constraint is what gets d = 3 within
    // 0.05: the orthogonal unmixing alone left +0.107.
    let (est, truth) = mean_estimate("power-mixed-d3 H", &ica(), 3);
    assert!((est - truth).abs() <= 0.05, "power-mixed-d3 H: {est} vs {truth}");
}

#[test]
#[ignore = "about 10 s in release: d = 10, eight seeds"]
fn linearly_mixed_heavy_tailed_sources_d10_with_ica() {
    // Within 0.06 over eight seeds: +0.054, against +0.078 when the refinement was
    // charged its overfitting on Gaussian sources, and +0.48 without the refinement.
    // With the true unmixing given, the estimate is +0.049 on the first three seeds,
    // and even the true density scores +0.022 on them.
    let (est, truth) = mean_estimate("power-mixed-d10 H", &ica(), 8);
    assert!((est - truth).abs() <= 0.06, "power-mixed-d10 H: {est} vs {truth}");
}

#[test]
fn identical_spiky_sources_mixed_by_one_shear() {
    // Three independent sign(z)|z|² sources, the first plus half the second: H is three
    // times the sources' entropy, ½ ln(2πe) + ln 2 − (γ + ln 2)/2 each (the shear has
    // determinant 1). The refinement's gradient steps barely move here (errors +0.043
    // to +0.072 without the shear polish).
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let h_source = 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln() + 2f64.ln()
        - (0.577_215_664_901_532_9 + std::f64::consts::LN_2) / 2.0;
    for seed in 0..3 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut x = Array2::from_shape_simple_fn((10_000, 3), || {
            let z: f64 = StandardNormal.sample(&mut rng);
            z * z.abs()
        });
        let second = x.column(1).to_owned();
        x.column_mut(0).scaled_add(0.5, &second);
        let h = entropy(&x, &ica()).unwrap().value();
        println!("seed {seed}: error {:+.4}", h - 3.0 * h_source);
        assert!((h - 3.0 * h_source).abs() <= 0.04, "seed {seed}: {h} vs {}", 3.0 * h_source);
    }
}

#[test]
fn student_t_mutual_information_with_ica() {
    for name in ["student-t3-2+2 MI", "student-t3-3+3 MI", "student-t5-2+2 MI", "student-t5-3+3 MI"] {
        let (est, truth) = mean_estimate(name, &ica(), 2);
        assert!((est - truth).abs() <= 0.3 * truth, "{name}: {est} vs {truth}");
    }
}

#[test]
#[ignore = "about 15 s: 5 + 5 blocks"]
fn student_t_mutual_information_large_blocks_with_ica() {
    for name in ["student-t3-5+5 MI", "student-t5-5+5 MI"] {
        let (est, truth) = mean_estimate(name, &ica(), 3);
        assert!((est - truth).abs() <= 0.3 * truth, "{name}: {est} vs {truth}");
    }
}

#[test]
fn student_t_entropy_and_tc_with_ica() {
    for name in ["student-t3-d4 TC", "student-t3-d4 H", "student-t5-d4 TC", "student-t5-d4 H"] {
        let (est, truth) = mean_estimate(name, &ica(), 2);
        assert!((est - truth).abs() <= 0.05, "{name}: {est} vs {truth}");
    }
}

#[test]
fn independent_blocks_have_no_mutual_information() {
    for params in [Rbig::params(), ica()] {
        let t = task("independent-blocks MI");
        for seed in 0..3 {
            let est = t.estimate(10_000, seed, &RbigEstimator(&params)).unwrap().value;
            assert!(est.abs() <= 0.01, "seed {seed}: MI {est}");
        }
    }
}

#[test]
fn mutual_information_is_invariant_under_monotone_maps() {
    // PCA mode: every model starts with per-column monotone maps, so only the spline's
    // interpolation between quantiles can tell the transformed data apart. (ICA mode
    // begins with a linear unmixing of the raw values, which such maps change.)
    let t = task("gaussian-d3 MI");
    let x = t.sample(10_000, 5);
    let warped = Array2::from_shape_fn(x.dim(), |(i, j)| match j {
        0 => x[(i, 0)].exp(),
        1 => x[(i, 1)].powi(3) + x[(i, 1)],
        _ => -(x[(i, 2)] / 3.0).sinh(),
    });
    let params = Rbig::params();
    let mi =
        |d: &Array2<f64>| mutual_information(&d.slice(s![.., ..1]), &d.slice(s![.., 1..]), &params).unwrap().value();
    let (a, b) = (mi(&x), mi(&warped));
    println!("MI {a:.4} before, {b:.4} after monotone maps");
    assert!((a - b).abs() <= 0.01, "MI changed from {a} to {b}");
}

/// Student-t blocks in ICA mode: the given units and the ranks both see the dependence,
/// and their two estimates differ by noise. The ranks' one is kept, which no increasing
/// map of a column can change: the estimate is the same to the bit after one. (Keeping
/// the larger of the two, the maps moved it by 0.03 nats on the Beyond-Normal rows.)
#[test]
fn student_t_mutual_information_does_not_see_increasing_maps() {
    let t = task("student-t3-2+2 MI");
    for seed in 0..3 {
        let (a, b) = mi_before_and_after_maps(&t.sample(5000, seed), 2);
        println!("seed {seed}: MI {:.4} ± {:.4} before, {:.4} after", a.value(), a.standard_error(), b.value());
        assert_eq!(a.value().to_bits(), b.value().to_bits(), "seed {seed}: {} vs {}", a.value(), b.value());
    }
}

/// Gaussian columns, whose increasing maps make them non-Gaussian: the estimate is the
/// ranks' on both sides, the same to the bit. (Gaussian columns used to be taken as
/// given, and the maps moved the estimate from that estimator to the ranks': the
/// Beyond-Normal 2-pair 25 × 25 Gaussian by +0.031 nats.) High total correlations keep
/// the given values, which the ranks' noise would blur (`gaussian_d10_within_005_with_ica`).
#[test]
fn gaussian_columns_give_the_ranks_estimate_whatever_the_maps() {
    let pairs = beyond_normal_suite().into_iter().find(|t| t.name == "Multinormal 2-pair 3 × 3").unwrap();
    let dense = task("gaussian-d3 MI");
    for seed in 0..2 {
        let (a, b) = mi_before_and_after_maps(&pairs.sample(3000, seed), 3);
        println!("2-pair seed {seed}: MI {:.4} ± {:.4} before, {:.4} after", a.value(), a.standard_error(), b.value());
        assert_eq!(a.value().to_bits(), b.value().to_bits(), "seed {seed}: {} vs {}", a.value(), b.value());
        let x = dense.sample(3000, seed);
        let tc = |d: &Array2<f64>| total_correlation(d, &ica()).unwrap();
        let (a, b) = (tc(&x), tc(&rbig_tasks::monotone_maps(&x)));
        println!(
            "gaussian-d3 seed {seed}: TC {:.4} ± {:.4} before, {:.4} after",
            a.value(),
            a.standard_error(),
            b.value()
        );
        assert_eq!(a.value().to_bits(), b.value().to_bits(), "seed {seed}: {} vs {}", a.value(), b.value());
    }
}

/// Regression: a radius, a perimeter and an area measured with small errors (as in the
/// breast cancer table) are near-exact increasing functions of one another. Their rank
/// scores keep that only when every column is mapped to the same draws: with draws of
/// their own, the draws' noise at nearby ranks blurred it, and the estimate through
/// increasing maps came out 0.16 nats low (5.84 on seed 0), where the data in logs,
/// Gaussian columns, are used as given (6.04). In logs the truth is closed-form.
#[test]
fn near_exact_relations_keep_their_total_correlation_through_increasing_maps() {
    let (s, e1, e2) = (0.2, 0.01, 0.02);
    let (v, c) = (s * s, 2.0 * s * s);
    let cov = ndarray::array![[v, v, c], [v, v + e1 * e1, c], [c, c, 2.0 * c + e2 * e2]];
    let truth = common::gaussian_tc(&cov);
    let pi = std::f64::consts::PI;
    for seed in 0..2 {
        let g = common::standard_normal(2000, 3, seed);
        let logs = Array2::from_shape_fn((2000, 3), |(i, j)| {
            let l = s * g[(i, 0)];
            [l, l + e1 * g[(i, 1)] + (2.0 * pi).ln(), 2.0 * l + e2 * g[(i, 2)] + pi.ln()][j]
        });
        let measured = logs.mapv(f64::exp);
        let tc = |d: &Array2<f64>| total_correlation(d, &ica()).unwrap();
        let (a, b, c) = (tc(&measured), tc(&rbig_tasks::monotone_maps(&measured)), tc(&logs));
        println!(
            "seed {seed}: TC {:.4} ± {:.4} measured, {:.4} mapped, {:.4} ± {:.4} in logs; truth {truth:.4}",
            a.value(),
            a.standard_error(),
            b.value(),
            c.value(),
            c.standard_error()
        );
        assert_eq!(a.value().to_bits(), b.value().to_bits(), "seed {seed}: {} vs {}", a.value(), b.value());
        for e in [&a, &c] {
            assert!((e.value() - truth).abs() < 3.0 * e.standard_error(), "seed {seed}: {} vs {truth}", e.value());
        }
    }
}

#[test]
fn units_and_provenance() {
    let x = task("gaussian-d3 TC").sample(5000, 3);
    let tc = total_correlation(&x, &Rbig::params()).unwrap();
    assert_eq!(tc.units(), Units::Nats);
    assert!(tc.layers() >= 1);
    let reductions: f64 = tc.reductions().iter().sum();
    assert!((reductions - tc.value()).abs() < 1e-12, "TC is the sum of the reductions (PCA mode)");
    let bits = tc.clone().in_units(Units::Bits);
    assert!((bits.value() - tc.value() / std::f64::consts::LN_2).abs() < 1e-12);
    assert_eq!(bits.units().name(), "bits");
    let h = entropy(&x, &Rbig::params()).unwrap();
    assert!(h.value().is_finite());
}

#[test]
fn mismatched_blocks_are_errors() {
    let x = task("gaussian-d3 TC").sample(500, 3);
    let y = task("gaussian-d2 TC").sample(400, 3);
    assert!(matches!(
        mutual_information(&x, &y, &Rbig::params()),
        Err(RbigError::RowMismatch { first: 500, second: 400 })
    ));
    assert!(matches!(kl_divergence(&x, &y, &Rbig::params()), Err(RbigError::ColumnMismatch { first: 3, second: 2 })));
}

#[test]
fn rounded_data_keep_their_total_correlation() {
    // Regression: with heavily tied columns (values rounded to a grid) the spacing
    // entropies collapsed towards −∞, every layer looked harmful, and the fit returned
    // TC = 0. Rounding a correlated Gaussian to 0.25 of a standard deviation barely
    // changes its total correlation.
    let t = task("gaussian-d3 TC");
    let x = t.sample(10_000, 4);
    let sd: Vec<f64> = (0..3).map(|j| x.column(j).std(0.0)).collect();
    let rounded = Array2::from_shape_fn(x.dim(), |(i, j)| (x[(i, j)] / (0.25 * sd[j])).round() * 0.25 * sd[j]);
    for params in [Rbig::params(), ica()] {
        let tc = total_correlation(&rounded, &params).unwrap().value();
        println!("rounded: TC {tc:.4}, truth {:.4}", t.truth);
        assert!((tc - t.truth).abs() <= 0.05, "TC of rounded data {tc} vs {}", t.truth);
    }
}

/// Regression: independent count columns (about ten values each, heavily tied) showed
/// a total correlation of 0.17 to 0.84 nats, 5 to 15 standard errors, from the measure
/// of what the layers left, and a mutual information of 0.06 from the KSG check: both
/// ran on the counts themselves (or their tied rank scores), whose lattice the
/// nearest-neighbour distances took for dependence, where the models had been fitted to
/// them dequantized. Two such columns, dequantized, still showed 0.12: the measure took
/// the output's marginals to be standard normal, and counted the ripples the last
/// marginal step leaves in a step density. Independent columns have no dependence,
/// dequantized or not.
#[test]
fn independent_count_columns_have_no_dependence() {
    use rand_distr::{Distribution, Poisson};
    for seed in 0..3 {
        let mut rng = common::rng(seed);
        let poisson = Poisson::new(3.0).unwrap();
        let x = Array2::from_shape_simple_fn((2000, 6), || poisson.sample(&mut rng));
        for params in [Rbig::params(), ica()] {
            let estimates = [
                ("TC", total_correlation(&x, &params).unwrap()),
                ("TC of two", total_correlation(&x.slice(s![.., ..2]), &params).unwrap()),
                ("MI", mutual_information(&x.slice(s![.., ..3]), &x.slice(s![.., 3..]), &params).unwrap()),
            ];
            for (name, e) in estimates {
                println!("seed {seed}: {name} {:.4} ± {:.4}", e.value(), e.standard_error());
                assert!(
                    e.value() < 3.0 * e.standard_error(),
                    "seed {seed}: {name} {} ± {}",
                    e.value(),
                    e.standard_error()
                );
            }
        }
    }
}

/// Standard errors that mean what they say: over many independent samples of tasks with
/// known truths, the errors fall within two standard errors about 95% of the time, and
/// their spread matches the standard errors (neither too small nor inflated).
#[test]
fn standard_errors_cover_the_truth() {
    let params = ica();
    let (seeds, n) = (12u64, 2000);
    let mut z = Vec::new();
    for name in ["gaussian-d3 TC", "gaussian-d3 H", "gaussian-d3 MI", "student-t5-2+2 MI", "gaussian-d2 KL shift"] {
        let t = task(name);
        for seed in 0..seeds {
            let e = t.estimate(n, 100 + seed, &RbigEstimator(&params)).unwrap();
            z.push((e.value - t.truth) / e.standard_error.unwrap());
        }
    }
    let covered = z.iter().filter(|z| z.abs() <= 2.0).count() as f64 / z.len() as f64;
    let rms = (z.iter().map(|z| z * z).sum::<f64>() / z.len() as f64).sqrt();
    println!("within 2 SE: {:.0}%; rms of error / SE: {rms:.2}", 100.0 * covered);
    assert!(covered >= 0.85, "only {:.0}% within 2 SE", 100.0 * covered);
    assert!((0.5..=1.5).contains(&rms), "rms of error / SE is {rms:.2}");
}

/// Mutual information does not see increasing maps of the columns. Student-t blocks
/// whose columns went through different maps (Φ, a signed power, asinh, exp, a cube)
/// once gave −0.1 nats for a truth of 0.18 in ICA mode; the estimate on the mapped rows
/// now stays with the truth.
#[test]
fn student_t_mutual_information_survives_increasing_maps() {
    let t = task("student-t3-3+3 MI");
    for seed in 0..2 {
        let (a, b) = mi_before_and_after_maps(&t.sample(5000, seed), 3);
        println!(
            "seed {seed}: truth {:.4}, MI {:.4} ± {:.4}, mapped {:.4}",
            t.truth,
            a.value(),
            a.standard_error(),
            b.value()
        );
        for e in [&a, &b] {
            assert!((e.value() - t.truth).abs() <= 0.04, "seed {seed}: {} vs {}", e.value(), t.truth);
        }
        assert!(
            (a.value() - b.value()).abs() <= 0.03,
            "seed {seed}: {} before, {} after the maps",
            a.value(),
            b.value()
        );
    }
}

/// A block on a curve has no density in its plane: the Swiss roll of the Beyond-Normal
/// suite (one variable rolled up in 2-D against a correlated one, MI 0.413). The
/// difference of three total correlations came out at −0.91 ± 0.05 and −0.26 ± 0.04 on
/// these two samples, impossible for a mutual information. The total correlation of the
/// blocks Gaussianized by their own models, used then, missed part of it (0.324 ± 0.023
/// and 0.247 ± 0.021); the nearest-neighbour estimate, which needs no density, is now
/// within three standard errors.
#[test]
fn a_block_on_a_curve_gets_its_mutual_information() {
    let roll = rbig_tasks::beyond_normal_suite().into_iter().find(|t| t.name == "Swiss roll 2 × 1").unwrap();
    for seed in 0..2 {
        let x = roll.sample(5000, seed);
        let mi = mutual_information(&x.slice(s![.., ..2]), &x.slice(s![.., 2..]), &ica()).unwrap();
        println!("seed {seed}: {:.3} ± {:.3} (truth {:.3})", mi.value(), mi.standard_error(), roll.truth);
        assert!((mi.value() - roll.truth).abs() < 3.0 * mi.standard_error(), "seed {seed}: {mi:?}");
        assert_eq!(mi.method(), Method::NearestNeighbours);
    }
}

/// Two 3-D Gaussian blocks with two correlated pairs, each block turned by an angle that
/// grows with its squared norm (the Beyond-Normal spiral). A turned standard normal is
/// standard normal, so the blocks' total correlations are 0 and the joint's is the
/// mutual information, 1.022 nats. Every projection the layers look at is Gaussian, and
/// the stack stopped at 0.638 and 0.580 on these samples (mean error −0.41); the
/// nearest-neighbour estimate of what it left in its output adds 0.09 and 0.15.
#[test]
fn dependence_the_layers_cannot_see_is_measured_in_their_output() {
    let spiral = rbig_tasks::beyond_normal_suite().into_iter().find(|t| t.name == "Spiral 2-pair 3 × 3").unwrap();
    let mut errors = Vec::new();
    for seed in 0..2 {
        let x = spiral.sample(5000, seed);
        let tc = total_correlation(&x, &ica()).unwrap();
        println!("seed {seed}: TC {:.3} ± {:.3} (truth {:.3})", tc.value(), tc.standard_error(), spiral.truth);
        errors.push(tc.value() - spiral.truth);
    }
    let mean = errors.iter().sum::<f64>() / errors.len() as f64;
    assert!(mean.abs() < 0.33, "mean error {mean:+.3}");
}

/// `y = x + ε` with `x` uniform on [0, 1] and `ε` uniform on [−0.75, 0.75] (the
/// Beyond-Normal additive noise, I = 0.333 nats): a parallelogram. In the given units one
/// linear unmixing makes the columns independent; an increasing map of each turns the
/// parallelogram's straight edges into curves, and the rank scores' models stopped at
/// 0.27–0.29 on these samples, 0.05 below the estimate on the values as given. In two
/// columns the KSG estimate on the same scores sees what they left: the estimate is now
/// the same whatever the maps, and within three standard errors of the truth.
#[test]
fn a_sharp_edged_copula_gets_its_mutual_information_whatever_the_maps() {
    let task = beyond_normal_suite().into_iter().find(|t| t.name == "Additive noise ε = 0.75 1 × 1").unwrap();
    for seed in 0..2 {
        let (given, mapped) = mi_before_and_after_maps(&task.sample(5000, seed), 1);
        println!(
            "seed {seed}: {:.4} ± {:.4} as given, {:.4} ± {:.4} mapped ({:?}; truth {:.4})",
            given.value(),
            given.standard_error(),
            mapped.value(),
            mapped.standard_error(),
            mapped.method(),
            task.truth
        );
        assert!((mapped.value() - given.value()).abs() <= 0.02, "seed {seed}: {given:?} vs {mapped:?}");
        assert!((mapped.value() - task.truth).abs() < 3.0 * mapped.standard_error(), "seed {seed}: {mapped:?}");
    }
}
