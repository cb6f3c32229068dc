//! Acceptance: exactness (round trips, normalization) and accuracy against analytic truths.

mod common;

use common::*;
use linfa::prelude::*;
use ndarray::{Array1, Array2};
use rbig::{Rbig, RotationKind};

fn max_rel_err(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / x.abs().max(1.0)).fold(0.0, f64::max)
}

fn round_trip_case(rotation: RotationKind) {
    let train = banana(3000, 11);
    let model =
        Rbig::params().rotation(rotation).seed(3).check().unwrap().fit(&DatasetBase::from(train.clone())).unwrap();
    assert!(model.n_layers() > 1, "banana needs several layers");
    let fresh = banana(2000, 12);
    // Points up to ten data ranges outside the training data, in every direction.
    let (lo0, hi0) = (-4.0, 4.0);
    let range = hi0 - lo0;
    let far = Array2::from_shape_fn((400, 2), |(i, j)| {
        let t = (i as f64 / 399.0) * 2.0 - 1.0; // -1..1
        let s = if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
        s * t * 10.0 * range + if j == 1 { 3.0 } else { 0.0 }
    });
    for x in [&train, &fresh, &far] {
        let z = model.transform(x).unwrap();
        assert!(z.iter().all(|v| v.is_finite()));
        let back = model.inverse_transform(&z).unwrap();
        let err = max_rel_err(x, &back);
        assert!(err <= 1e-9, "{rotation:?}: inverse(transform(x)) relative error {err:e}");
        assert!(model.log_density(x).unwrap().iter().all(|v| v.is_finite()));
    }
    // transform(inverse(z)) on a grid of [-8, 8]^2.
    let z = Array2::from_shape_fn((41 * 41, 2), |(i, j)| {
        if j == 0 {
            (i / 41) as f64 * 0.4 - 8.0
        } else {
            (i % 41) as f64 * 0.4 - 8.0
        }
    });
    let x = model.inverse_transform(&z).unwrap();
    assert!(x.iter().all(|v| v.is_finite()));
    let z_back = model.transform(&x).unwrap();
    let err = z.iter().zip(&z_back).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(err <= 1e-9, "{rotation:?}: transform(inverse(z)) error {err:e}");
}

#[test]
fn round_trips_are_exact_pca() {
    round_trip_case(RotationKind::Pca);
}

#[test]
fn round_trips_are_exact_random() {
    round_trip_case(RotationKind::Random);
}

#[test]
fn round_trips_are_exact_ica() {
    round_trip_case(RotationKind::Ica);
}

#[test]
fn ica_mode_with_radial_step_round_trips_and_normalizes() {
    // A Student-t sample is where the radial step is kept; check its inverse and that
    // the 2-D density still integrates to 1.
    let t = rbig_tasks::suite().into_iter().find(|t| t.name == "student-t3-d4 TC").unwrap();
    let x = t.sample(4000, 3).slice(ndarray::s![.., ..2]).to_owned();
    let model = Rbig::params().rotation(RotationKind::Ica).check().unwrap().fit(&DatasetBase::from(x.clone())).unwrap();
    let back = model.inverse_transform(&model.transform(&x).unwrap()).unwrap();
    assert!(max_rel_err(&x, &back) <= 1e-9);
    // Heavy tails: the mass beyond ±40 for a t3 is about 1e-4 per axis.
    let mass = mass_on_grid(&model, (-40.0, 40.0), (-40.0, 40.0), 1601);
    assert!((mass - 1.0).abs() <= 0.01, "2-D mass {mass}");
}

/// The integral of a 2-D model's density over a rectangle, by the trapezoid rule on an
/// `m × m` grid.
fn mass_on_grid(model: &Rbig, (x_lo, x_hi): (f64, f64), (y_lo, y_hi): (f64, f64), m: usize) -> f64 {
    let (hx, hy) = ((x_hi - x_lo) / (m - 1) as f64, (y_hi - y_lo) / (m - 1) as f64);
    let grid =
        Array2::from_shape_fn(
            (m * m, 2),
            |(i, j)| {
                if j == 0 {
                    x_lo + (i / m) as f64 * hx
                } else {
                    y_lo + (i % m) as f64 * hy
                }
            },
        );
    let p = model.log_density(&grid).unwrap().mapv(f64::exp);
    let rows: Array1<f64> =
        Array1::from_shape_fn(m, |r| trapezoid(&p.slice(ndarray::s![r * m..(r + 1) * m]).to_owned(), hy));
    trapezoid(&rows, hx)
}

/// Trapezoid rule over a uniform grid.
fn trapezoid(values: &Array1<f64>, h: f64) -> f64 {
    let n = values.len();
    h * (values.sum() - 0.5 * (values[0] + values[n - 1]))
}

#[test]
fn one_dimensional_density_integrates_to_one() {
    // A skewed, heavy-ish 1-D sample: exp of a normal (log-normal).
    let x = standard_normal(5000, 1, 21).mapv(|v| (0.8 * v).exp());
    let model = Rbig::fit(&x).unwrap();
    // The density has Gaussian tails in the transformed coordinate; integrate over a
    // range far wider than the data with a fine grid.
    let (lo, hi, m) = (-60.0, 200.0, 400_001);
    let h = (hi - lo) / (m - 1) as f64;
    let grid = Array2::from_shape_fn((m, 1), |(i, _)| lo + i as f64 * h);
    let p = model.log_density(&grid).unwrap().mapv(f64::exp);
    let mass = trapezoid(&p, h);
    assert!((mass - 1.0).abs() <= 1e-3, "1-D mass {mass}");
}

#[test]
fn banana_density_integrates_to_one() {
    let train = banana(5000, 31);
    let model = Rbig::fit(&train).unwrap();
    // The data lie in x1 in [-4, 4], x2 in [-2, 17]; margins around that.
    let mass = mass_on_grid(&model, (-7.0, 7.0), (-6.0, 30.0), 801);
    assert!((mass - 1.0).abs() <= 0.01, "2-D mass {mass}");
}

#[test]
fn gaussian_truth_d5() {
    let s = test_covariance(5);
    let truth_tc = gaussian_tc(&s);
    let train = gaussian(&s, 10_000, 41);
    let test = gaussian(&s, 10_000, 42);
    let model = Rbig::fit(&train).unwrap();
    // Compare with the analytic log-density on the same test points, so the test
    // sample's own noise (sd ≈ 0.016 nats here) does not enter.
    let inv = {
        let l = cholesky(&s);
        let li = Array2::from_shape_fn((5, 5), |(i, j)| if i == j { 1.0 } else { 0.0 });
        // Solve L L' y = e_j by forward/back substitution for each column.
        let mut inv = Array2::<f64>::zeros((5, 5));
        for c in 0..5 {
            let mut y = Array1::<f64>::zeros(5);
            for i in 0..5 {
                y[i] = (li[(i, c)] - (0..i).map(|k| l[(i, k)] * y[k]).sum::<f64>()) / l[(i, i)];
            }
            for i in (0..5).rev() {
                let v = (y[i] - (i + 1..5).map(|k| l[(k, i)] * inv[(k, c)]).sum::<f64>()) / l[(i, i)];
                inv[(i, c)] = v;
            }
        }
        inv
    };
    let ld = ln_det(&s);
    let true_ll: f64 = test
        .outer_iter()
        .map(|x| -0.5 * x.dot(&inv.dot(&x)) - 0.5 * ld - 2.5 * (2.0 * std::f64::consts::PI).ln())
        .sum::<f64>()
        / test.nrows() as f64;
    let model_ll = model.log_density(&test).unwrap().mean().unwrap();
    println!(
        "held-out mean ln p: model {model_ll:.4}, truth on the same points {true_ll:.4}; TC {:.4} vs {truth_tc:.4}",
        model.total_correlation()
    );
    assert!((model_ll - true_ll).abs() <= 0.02, "held-out log-likelihood {model_ll} vs analytic {true_ll}");
    assert!((model.total_correlation() - truth_tc).abs() <= 0.03, "TC {} vs {truth_tc}", model.total_correlation());
}

#[test]
fn banana_held_out_likelihood() {
    let train = banana(5000, 51);
    let test = banana(5000, 52);
    let truth = banana_log_density(&test).mean().unwrap();
    // Once the banana is decorrelated, PCA finds no direction to rotate to and stalls;
    // random rotations keep finding dependence. Both are reported; the random one is
    // held to the target.
    let pca = Rbig::fit(&train).unwrap();
    let pca_ll = pca.log_density(&test).unwrap().mean().unwrap();
    let params = Rbig::params().rotation(RotationKind::Random).seed(1).check().unwrap();
    let random = params.fit(&DatasetBase::from(train)).unwrap();
    let ll = random.log_density(&test).unwrap().mean().unwrap();
    println!(
        "banana held-out mean ln p: random {ll:.4} ({} layers), PCA {pca_ll:.4} ({} layers); truth on these points {truth:.4}",
        random.n_layers(),
        pca.n_layers()
    );
    assert!(ll >= -2.25, "banana held-out log-likelihood {ll}");
    assert!(pca_ll >= -2.30, "banana held-out log-likelihood with PCA {pca_ll}");
}

#[test]
fn independent_gaussian_stops_fast_with_no_tc() {
    let x = standard_normal(10_000, 10, 61);
    let model = Rbig::fit(&x).unwrap();
    println!("independent: {} layers, TC {:.4}", model.n_layers(), model.total_correlation());
    assert!(model.n_layers() <= 10, "{} layers", model.n_layers());
    assert!(model.total_correlation().abs() <= 0.02, "TC {}", model.total_correlation());
}

/// The Gaussian maximum-likelihood plug-in total correlation `−½ ln det R̂` of a sample:
/// the best any estimator can do on Gaussian data, and the sample's own deviation from
/// the population value.
fn gaussian_plugin_tc(x: &Array2<f64>) -> f64 {
    let n = x.nrows() as f64;
    let centred = x - &x.mean_axis(ndarray::Axis(0)).unwrap();
    let cov = centred.t().dot(&centred) / n;
    let d = cov.nrows();
    let corr = nalgebra::DMatrix::from_fn(d, d, |i, j| cov[(i, j)] / (cov[(i, i)] * cov[(j, j)]).sqrt());
    -corr.cholesky().unwrap().l().diagonal().iter().map(|v| v.ln()).sum::<f64>()
}

#[test]
fn correlated_gaussian_n1e5_matches_the_plugin() {
    // The speed target's task: 10-D, TC 2.93 nats, n = 1e5. On Gaussian data the ML
    // plug-in is the benchmark; its own distance to the population value is sampling
    // noise that no estimator can remove, so RBIG is held to the plug-in per seed and to
    // the truth on average.
    let task = rbig_tasks::factor_gaussian(10, 0);
    let mut errors = Vec::new();
    for seed in 0..4 {
        let x = task.sample(100_000, seed);
        let tc = Rbig::fit(&x).unwrap().total_correlation();
        let plugin = gaussian_plugin_tc(&x);
        println!("seed {seed}: RBIG {tc:.4}, plug-in {plugin:.4}, truth {:.4}", task.truth);
        assert!((tc - plugin).abs() <= 0.005, "seed {seed}: RBIG {tc} vs plug-in {plugin}");
        errors.push(tc - task.truth);
    }
    let mean = errors.iter().sum::<f64>() / errors.len() as f64;
    assert!(mean.abs() <= 0.01, "mean error {mean}");
}

/// Held-out banana likelihood over five more seeds, per rotation and with
/// `Rbig::fit_density` (a printout for the
/// README; `cargo test --release --test accuracy banana_over_seeds -- --ignored --nocapture`).
#[test]
#[ignore]
fn banana_over_seeds() {
    for rotation in [RotationKind::Random, RotationKind::Pca, RotationKind::Ica] {
        let (mut model_sum, mut truth_sum) = (0.0, 0.0);
        for seed in 0..5u64 {
            let (train, test) = (banana(5000, 200 + 2 * seed), banana(5000, 201 + 2 * seed));
            let params = Rbig::params().rotation(rotation).seed(seed).check().unwrap();
            let model = params.fit(&DatasetBase::from(train)).unwrap();
            model_sum += model.log_density(&test).unwrap().mean().unwrap();
            truth_sum += banana_log_density(&test).mean().unwrap();
        }
        println!("{rotation:?}: mean held-out ln p {:.3}, truth {:.3}", model_sum / 5.0, truth_sum / 5.0);
    }
    let (mut model_sum, mut truth_sum) = (0.0, 0.0);
    for seed in 0..5u64 {
        let (train, test) = (banana(5000, 200 + 2 * seed), banana(5000, 201 + 2 * seed));
        let model = Rbig::fit_density(&train).unwrap();
        model_sum += model.log_density(&test).unwrap().mean().unwrap();
        truth_sum += banana_log_density(&test).mean().unwrap();
    }
    println!("fit_density: mean held-out ln p {:.3}, truth {:.3}", model_sum / 5.0, truth_sum / 5.0);
}
