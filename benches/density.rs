//! Held-out density quality: mean test log-likelihood (nats per sample) of RBIG against
//! the truth and against classical baselines, on the density task suite, five real
//! tables (MAGIC, image segmentation, breast cancer, red wine, Landsat satimage), and the
//! two lattice tables among them dequantized.
//!
//! `cargo bench --bench density` prints the table. The Gaussian-mixture, KDE and SINF
//! columns come from `benches/density_baselines.json`, written by
//! `scripts/density_baselines.py` (scikit-learn, sinflow) on the same samples, exported with
//! `cargo bench --bench density -- --export DIR`. `-- --shrinkage L` fits every
//! `fit_density` candidate with steps of `L` instead of the default half steps.

use std::path::{Path, PathBuf};
use std::time::Instant;

use nalgebra::DMatrix;
use ndarray::{Array1, Array2, Axis};
use rbig::{density_candidates, select, Rbig};
use rbig_tasks::density::density_suite;

const N: usize = 5000;

/// Train and test samples of every task, with the truth's mean test log-likelihood
/// (NaN for real data).
fn tasks() -> Vec<(String, Array2<f64>, Array2<f64>, f64)> {
    let mut out: Vec<_> = density_suite()
        .into_iter()
        .map(|t| {
            let (train, test) = (t.sample(N, 1), t.sample(N, 2));
            let truth = t.log_density(&test).mean().unwrap();
            (t.name.clone(), train, test, truth)
        })
        .collect();
    // Real tables (data/*/README.md): held-out rows, no truth.
    for table in ["magic", "segment", "breast_cancer", "winequality_red", "satimage"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(table);
        let read = |f: &str| rbig::io::read_matrix(root.join(f)).expect("the table's files");
        out.push((table.into(), read("train.csv"), read("test.csv"), f64::NAN));
    }
    // The lattice tables dequantized (`rbig::dequantize`): every column on a lattice gets
    // uniform noise over its step (the training rows' step, on both splits), so that no
    // model, the baselines included, scores spikes on the lattice or exact linear
    // relations that hold only there; every method fits and scores the same noisy rows.
    for table in ["segment", "satimage"] {
        let (_, train, test, _) = out.iter().find(|t| t.0 == table).expect("read above").clone();
        let widths = rbig::dequantize::resolution(&train);
        let jitter = |x: &Array2<f64>, seed| rbig::dequantize::jitter(x, &widths, seed).expect("finite widths");
        out.push((format!("{table} dequantized"), jitter(&train, 11), jitter(&test, 12), f64::NAN));
    }
    out
}

/// Mean test log-likelihood of the maximum-likelihood Gaussian, its covariance's
/// diagonal raised by 1e-6 of each variance: scikit-learn's `GaussianMixture(1)` on
/// standardized columns (`reg_covar = 1e-6`), which keeps tables with exact linear
/// relations between columns (segment) finite.
fn gaussian_baseline(train: &Array2<f64>, test: &Array2<f64>) -> f64 {
    let (n, d) = train.dim();
    let mean = train.mean_axis(Axis(0)).unwrap();
    let c = train - &mean;
    let mut cov = c.t().dot(&c) / n as f64;
    for j in 0..d {
        cov[(j, j)] *= 1.0 + 1e-6;
    }
    let chol = DMatrix::from_fn(d, d, |i, j| cov[(i, j)]).cholesky().expect("full-rank data").l();
    let ln_det: f64 = 2.0 * chol.diagonal().iter().map(|v| v.ln()).sum::<f64>();
    let scores: Array1<f64> = test
        .rows()
        .into_iter()
        .map(|row| {
            let v = nalgebra::DVector::from_iterator(d, row.iter().zip(&mean).map(|(x, m)| x - m));
            let w = chol.solve_lower_triangular(&v).unwrap();
            -0.5 * (w.norm_squared() + ln_det + d as f64 * (2.0 * std::f64::consts::PI).ln())
        })
        .collect();
    scores.mean().unwrap()
}

fn baselines() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/density_baselines.json");
    std::fs::read_to_string(path).ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
}

fn export(dir: &Path) {
    for (name, train, test, _) in tasks() {
        let d: PathBuf = dir.join(&name);
        std::fs::create_dir_all(&d).unwrap();
        ndarray_npy::write_npy(d.join("train.npy"), &train).unwrap();
        ndarray_npy::write_npy(d.join("test.npy"), &test).unwrap();
    }
    println!("wrote the task samples to {}", dir.display());
}

/// A candidate's name in the table: its start, rotation and knots.
fn label(p: rbig::RbigParams) -> String {
    use rbig::ParamGuard;
    let p = p.check().expect("valid candidates");
    let start = match (p.whiten(), p.mixture()) {
        (true, _) => "whitened ",
        (_, rbig::MixtureStart::Off) => "",
        _ => "mixture ",
    };
    let rotation = format!("{:?}", p.rotation());
    let rotation =
        if rotation == "Ica" || rotation == "Pca" { rotation.to_uppercase() } else { rotation.to_lowercase() };
    let knots = if p.knots() == rbig::Knots::Smooth { " smooth" } else { "" };
    format!("{start}{rotation}{knots}")
}

fn main() {
    // Times and figures as a first run on a machine gets them: no null simulation read
    // from an earlier process's disk cache.
    rbig::internals::use_disk_cache(false);
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--export") {
        return export(Path::new(&args[i + 1]));
    }
    let shrinkage: Option<f64> =
        args.iter().position(|a| a == "--shrinkage").map(|i| args[i + 1].parse().expect("--shrinkage L"));
    let candidates = || -> Vec<_> {
        density_candidates().into_iter().map(|c| if let Some(l) = shrinkage { c.shrinkage(l) } else { c }).collect()
    };
    let names: Vec<String> = candidates().into_iter().map(label).collect();
    let base = baselines();
    println!(
        "| task | d | truth | one Gaussian | GMM (BIC) | KDE (CV) | SINF | s | RBIG `fit` | s | RBIG `fit_density` | s | its choice | s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, train, test, truth) in tasks() {
        let score = |m: &Rbig| m.log_density(&test).unwrap().mean().unwrap();
        let t = Instant::now();
        let default = Rbig::fit(&train).unwrap();
        let default_secs = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let selection = select(&train, &candidates()).unwrap();
        let select_secs = t.elapsed().as_secs_f64();
        // The chosen configuration alone (its depth still chosen on held-out rows): the
        // cost of a fit once the configuration is known.
        let t = Instant::now();
        select(&train, &[candidates().swap_remove(selection.chosen)]).unwrap();
        let single_secs = t.elapsed().as_secs_f64();
        let b = |k: &str| base[&name][k].as_f64().map_or("–".to_string(), |v| format!("{v:.3}"));
        let truth = if truth.is_nan() { "–".to_string() } else { format!("{truth:.3}") };
        println!(
            "| {name} | {} | {truth} | {:.3} | {} | {} | {} | {} | {:.3} | {default_secs:.2} | {:.3} | {select_secs:.2} | {}, {} layers | {single_secs:.2} |",
            train.ncols(),
            gaussian_baseline(&train, &test),
            b("gmm"),
            b("kde"),
            b("sinf"),
            base[&name]["sinf_seconds"].as_f64().map_or("–".to_string(), |v| format!("{v:.1}")),
            score(&default),
            score(&selection.model),
            names[selection.chosen],
            selection.model.diagnostics().len(),
        );
    }
}
