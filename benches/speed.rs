//! Speed of fitting, scoring and estimating, with a machine-limit reference measured in
//! the same run: sorting every column of the same data once, the least work any
//! marginal fit must do.
//!
//! ```text
//! cargo bench --bench speed
//! ```

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::{s, Array2};
use rbig::information::mutual_information;
use rbig::tasks::suite;
use rbig::{ParamGuard, Rbig, RotationKind};

fn sample(name: &str, n: usize) -> Array2<f64> {
    suite().into_iter().find(|t| t.name == name).expect("task").sample(n, 0)
}

fn sort_every_column(x: &Array2<f64>) -> f64 {
    let mut total = 0.0;
    for col in x.columns() {
        let mut v = col.to_vec();
        v.sort_unstable_by(f64::total_cmp);
        total += v[v.len() / 2];
    }
    total
}

fn fit(c: &mut Criterion) {
    let mut group = c.benchmark_group("fit");
    group.sample_size(10);
    let x = sample("gaussian-d10 TC", 100_000);
    group.bench_function("sort every column (reference), n=1e5 d=10", |b| b.iter(|| sort_every_column(&x)));
    for rotation in [RotationKind::Pca, RotationKind::Ica] {
        let params = Rbig::params().rotation(rotation).check().expect("valid");
        group.bench_with_input(BenchmarkId::new(format!("{rotation:?}"), "gaussian n=1e5 d=10"), &x, |b, x| {
            b.iter(|| linfa::traits::Fit::fit(&params, &linfa::DatasetBase::from(x.clone())).expect("fit"))
        });
    }
    group.finish();
}

fn score(c: &mut Criterion) {
    let mut group = c.benchmark_group("score");
    group.sample_size(10);
    let x = sample("gaussian-d10 TC", 100_000);
    let model = Rbig::fit(&x).expect("fit");
    group.throughput(Throughput::Elements(x.len() as u64));
    group.bench_function("log_density n=1e5 d=10", |b| b.iter(|| model.log_density(&x).expect("score")));
    group.bench_function("transform n=1e5 d=10", |b| b.iter(|| model.transform(&x).expect("transform")));
    group.finish();
}

fn mutual_info(c: &mut Criterion) {
    let mut group = c.benchmark_group("mutual_information");
    group.sample_size(10);
    let x = sample("gaussian-d10 MI", 5000);
    for rotation in [RotationKind::Pca, RotationKind::Ica] {
        let params = Rbig::params().rotation(rotation);
        group.bench_function(format!("{rotation:?} 5+5 n=5000"), |b| {
            b.iter(|| mutual_information(&x.slice(s![.., ..5]), &x.slice(s![.., 5..]), &params).expect("mi"))
        });
    }
    group.finish();
}

criterion_group!(benches, fit, score, mutual_info);
criterion_main!(benches);
