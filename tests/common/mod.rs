//! Data generators with known truths, shared by the integration tests.
#![allow(dead_code)]

pub mod estimator;
pub mod tool;

use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

pub fn standard_normal(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut r = rng(seed);
    Array2::from_shape_simple_fn((n, d), || StandardNormal.sample(&mut r))
}

/// Lower Cholesky factor of a symmetric positive-definite matrix.
pub fn cholesky(s: &Array2<f64>) -> Array2<f64> {
    let d = s.nrows();
    let mut l = Array2::<f64>::zeros((d, d));
    for i in 0..d {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[(i, k)] * l[(j, k)]).sum();
            if i == j {
                l[(i, i)] = (s[(i, i)] - sum).sqrt();
            } else {
                l[(i, j)] = (s[(i, j)] - sum) / l[(j, j)];
            }
        }
    }
    l
}

/// ln det of a symmetric positive-definite matrix.
pub fn ln_det(s: &Array2<f64>) -> f64 {
    cholesky(s).diag().iter().map(|v| 2.0 * v.ln()).sum()
}

/// Samples of N(0, s), rows = samples.
pub fn gaussian(s: &Array2<f64>, n: usize, seed: u64) -> Array2<f64> {
    let l = cholesky(s);
    standard_normal(n, s.nrows(), seed).dot(&l.t())
}

/// A fixed, seeded covariance `A Aᵀ + 0.2 I` with `A` standard normal: unequal scales
/// and strong correlations of both signs.
pub fn test_covariance(d: usize) -> Array2<f64> {
    let a = standard_normal(d, d, 4242);
    a.dot(&a.t()) + Array2::<f64>::eye(d) * 0.2
}

/// Total correlation of N(0, s): −½ ln det corr(s).
pub fn gaussian_tc(s: &Array2<f64>) -> f64 {
    let d = s.nrows();
    let corr = Array2::from_shape_fn((d, d), |(i, j)| s[(i, j)] / (s[(i, i)] * s[(j, j)]).sqrt());
    -0.5 * ln_det(&corr)
}

/// Differential entropy of N(0, s).
pub fn gaussian_entropy(s: &Array2<f64>) -> f64 {
    let d = s.nrows() as f64;
    0.5 * (d * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln() + ln_det(s))
}

/// The banana: x1 ~ N(0,1), x2 = x1² + 0.5 ε.
pub fn banana(n: usize, seed: u64) -> Array2<f64> {
    let z = standard_normal(n, 2, seed);
    Array2::from_shape_fn((n, 2), |(i, j)| if j == 0 { z[(i, 0)] } else { z[(i, 0)].powi(2) + 0.5 * z[(i, 1)] })
}

/// Exact log-density of the banana.
pub fn banana_log_density(x: &Array2<f64>) -> Array1<f64> {
    let suite = rbig_tasks::density::density_suite();
    suite.iter().find(|t| t.name == "banana").expect("the suite has the banana").log_density(x)
}

/// A scratch directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("rbig-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }

    /// File names in the directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The Kolmogorov-Smirnov statistic of `values` (each in [0, 1]) against U(0, 1); its
/// 0.99 quantile is 1.628 / √n.
pub fn ks_uniform(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len() as f64;
    v.iter().enumerate().map(|(i, &u)| (u - i as f64 / n).abs().max(((i + 1) as f64 / n - u).abs())).fold(0.0, f64::max)
}
