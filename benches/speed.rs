//! Speed of fitting, scoring and estimating, with machine-limit references measured in
//! the same run: sorting every column of the same data once (the least work any
//! marginal fit must do; rows in parallel, as the fit sorts them) and one pass over the
//! data in memory.
//!
//! ```text
//! cargo bench --bench speed                 # everything (about 6 minutes)
//! cargo bench --bench speed -- layer        # one group: reference, layer, fit, score, "score magic",
//!                                           # information,
//!                                           # "first estimate" (the disk cache of null simulations)
//! ```
//!
//! Fits are timed cold: the null simulation a process runs once per sample size is
//! forgotten before every iteration, so the time is what a first fit costs.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use linfa::traits::Fit;
use linfa::DatasetBase;
use ndarray::{s, Array2};
use rbig::information::{entropy, mutual_information, total_correlation};
use rbig::internals::{clear_null_cache, use_disk_cache, LayerStages};
use rbig::{ParamGuard, Rbig, RotationKind};
use rbig_tasks::{factor_gaussian, suite};

fn task_sample(name: &str, n: usize) -> Array2<f64> {
    suite().into_iter().find(|t| t.name == name).expect("task").sample(n, 0)
}

/// The references and every stage of one PCA layer, at n = 1e5 and d = 10 and 50.
fn layer(c: &mut Criterion) {
    for d in [10, 50] {
        let x = factor_gaussian(d, 0).sample(100_000, 0);
        let stages = LayerStages::new(x.view());
        let mut group = c.benchmark_group(format!("layer n=1e5 d={d}"));
        group.sample_size(20);
        group.throughput(Throughput::Elements(x.len() as u64));
        group.bench_function("reference: sort every column", |b| b.iter(|| stages.sort()));
        group.bench_function("reference: one pass over the data", |b| b.iter(|| x.sum()));
        group.bench_function("sort", |b| b.iter(|| stages.sort()));
        group.bench_function("entropy estimation", |b| b.iter(|| stages.entropy()));
        group.bench_function("spline fit", |b| b.iter(|| stages.spline_fit()));
        group.bench_function("marginal fit (sort + entropy + spline)", |b| b.iter(|| stages.marginal_fit()));
        group.bench_function("marginal transform", |b| {
            b.iter_batched_ref(|| stages.input(), |w| stages.marginal_transform(w), BatchSize::LargeInput)
        });
        group.bench_function("rotation fit (PCA)", |b| b.iter(|| stages.rotation_fit()));
        group.bench_function("rotation apply", |b| {
            b.iter_batched_ref(|| stages.gaussianized(), |w| stages.rotation_apply(w), BatchSize::LargeInput)
        });
        group.bench_function("whole layer", |b| {
            b.iter_batched_ref(|| stages.input(), |w| stages.layer(w), BatchSize::LargeInput)
        });
        group.finish();
    }
}

/// Fit to convergence of the correlated Gaussian of the Python references' benchmark
/// (TC 2.93 nats), n = 1e5, d = 10.
fn fit(c: &mut Criterion) {
    use_disk_cache(false);
    let mut group = c.benchmark_group("fit factor-gaussian n=1e5 d=10");
    group.sample_size(10);
    let x = factor_gaussian(10, 0).sample(100_000, 0);
    let data = DatasetBase::from(x.clone());
    for rotation in [RotationKind::Pca, RotationKind::Ica] {
        let params = Rbig::params().rotation(rotation).check().expect("valid");
        group.bench_with_input(BenchmarkId::new(format!("{rotation:?}"), "cold"), &data, |b, data| {
            b.iter(|| {
                clear_null_cache();
                params.fit(data).expect("fit")
            })
        });
    }
    let params = Rbig::params().check().expect("valid");
    group.bench_with_input(BenchmarkId::new("Pca", "warm"), &data, |b, data| b.iter(|| params.fit(data).expect("fit")));
    group.finish();
}

/// Scoring throughput on the fitted correlated Gaussian model, n = 1e5, d = 10.
fn score(c: &mut Criterion) {
    let mut group = c.benchmark_group("score n=1e5 d=10");
    group.sample_size(20);
    let x = factor_gaussian(10, 0).sample(100_000, 0);
    let model = Rbig::fit(&x).expect("fit");
    let z = model.transform(&x).expect("transform");
    group.throughput(Throughput::Elements(x.len() as u64));
    group.bench_function("log_density", |b| b.iter(|| model.log_density(&x).expect("score")));
    group.bench_function("transform", |b| b.iter(|| model.transform(&x).expect("transform")));
    group.bench_function("inverse_transform", |b| b.iter(|| model.inverse_transform(&z).expect("inverse")));
    group.finish();
}

/// Scoring and inverting with a Gaussian-mixture start (MAGIC's `fit_density` choice:
/// the mixture, then ICA layers) against the same configuration without the start,
/// both with their depth chosen on held-out rows; 1e5 rows drawn from the first.
fn score_mixture(c: &mut Criterion) {
    use rand::SeedableRng;
    use rbig::{Knots, MixtureStart, ParamGuard, RotationKind, Validation};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/magic");
    let train = rbig::io::read_matrix(root.join("train.csv")).expect("MAGIC");
    let fit = |mixture| {
        let p = Rbig::params()
            .rotation(RotationKind::Ica)
            .knots(Knots::Smooth)
            .whiten(false)
            .mixture(mixture)
            .shrinkage(0.5)
            .validation(Validation::default());
        p.check().expect("valid").fit_observed(&train, |_| {}).expect("fit")
    };
    let (with, without) = (fit(MixtureStart::Bic), fit(MixtureStart::Off));
    let x = with.sample(100_000, &mut rand::rngs::StdRng::seed_from_u64(1)).expect("sample");
    let mut group = c.benchmark_group("score magic n=1e5 d=10");
    group.sample_size(10);
    group.throughput(Throughput::Elements(x.len() as u64));
    for (label, model) in [("mixture start", &with), ("no start", &without)] {
        let z = model.transform(&x).expect("transform");
        let layers = model.diagnostics().len();
        let k = model.pre_steps().mixture_components;
        group.bench_function(format!("log_density, {label} ({k} components, {layers} layers)"), |b| {
            b.iter(|| model.log_density(&x).expect("score"))
        });
        group.bench_function(format!("inverse_transform, {label}"), |b| {
            b.iter(|| model.inverse_transform(&z).expect("inverse"))
        });
    }
    group.finish();
}

/// Total correlation of the correlated Gaussian at n = 1e5, d = 10 and mutual information
/// of two 5-D blocks at n = 5000, each in both estimator modes; joint entropy at n = 1e5,
/// d = 50.
fn information(c: &mut Criterion) {
    use_disk_cache(false);
    let mut group = c.benchmark_group("information");
    group.sample_size(10);
    let x = factor_gaussian(10, 0).sample(100_000, 0);
    for rotation in [RotationKind::Pca, RotationKind::Ica] {
        let params = Rbig::params().rotation(rotation);
        group.bench_function(format!("total correlation n=1e5 d=10 {rotation:?}"), |b| {
            b.iter(|| {
                clear_null_cache();
                total_correlation(&x, &params).expect("tc")
            })
        });
    }
    let x = task_sample("gaussian-d10 MI", 5000);
    for rotation in [RotationKind::Pca, RotationKind::Ica] {
        let params = Rbig::params().rotation(rotation);
        group.bench_function(format!("mutual information 5+5 n=5000 {rotation:?}"), |b| {
            b.iter(|| {
                clear_null_cache();
                mutual_information(&x.slice(s![.., ..5]), &x.slice(s![.., 5..]), &params).expect("mi")
            })
        });
    }
    let x = task_sample("gaussian-d50 H", 100_000);
    let params = Rbig::params();
    group.bench_function("entropy n=1e5 d=50 Pca", |b| {
        b.iter(|| {
            clear_null_cache();
            entropy(&x, &params).expect("entropy")
        })
    });
    group.finish();
}

/// A process's first estimate with the null simulations on disk from an earlier process
/// (the default after the first run on a machine) against the same without them: the
/// correlated Gaussian's total correlation (n = 1e5, d = 10) and the Student-t MI of two
/// 5-D blocks (n = 5000), whose unmixing refinement's null, most of a first estimate
/// when it was simulated, is now read from the library's table.
fn disk_cache(c: &mut Criterion) {
    let mut group = c.benchmark_group("first estimate of a process");
    group.sample_size(10);
    let dir = std::env::temp_dir().join(format!("rbig-bench-cache-{}", std::process::id()));
    // The library reads its cache directory from the environment, as the tool does.
    std::env::set_var("RBIG_CACHE_DIR", &dir);
    let gaussian = factor_gaussian(10, 0).sample(100_000, 0);
    let t = task_sample("student-t3-5+5 MI", 5000);
    let params = Rbig::params().rotation(RotationKind::Ica);
    let tc = || total_correlation(&gaussian, &params).expect("tc");
    let mi = || mutual_information(&t.slice(s![.., ..5]), &t.slice(s![.., 5..]), &params).expect("mi");
    for disk in [false, true] {
        use_disk_cache(disk);
        let label = if disk { "simulations on disk" } else { "simulated" };
        group.bench_function(format!("total correlation n=1e5 d=10 Ica, {label}"), |b| {
            b.iter(|| {
                clear_null_cache();
                tc()
            })
        });
        group.bench_function(format!("student-t MI 5+5 n=5000 Ica, {label}"), |b| {
            b.iter(|| {
                clear_null_cache();
                mi()
            })
        });
    }
    group.finish();
    use_disk_cache(false);
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, layer, fit, score, score_mixture, information, disk_cache);
criterion_main!(benches);
