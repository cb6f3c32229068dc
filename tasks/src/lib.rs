//! Ground-truth tasks: distributions whose information measures are known analytically,
//! for testing and benchmarking estimators (rbig's or any other).
//!
//! Every task draws reproducible samples from a seed and knows its truth in nats. An
//! estimator plugs in through the [`Estimator`] trait; [`density`] has distributions
//! with exact log-densities for density models.
//!
//! ```
//! use ndarray::ArrayView2;
//! use rbig_tasks::{suite, Estimate, Estimator, Quantity};
//!
//! /// The Gaussian plug-in estimate of a pair's total correlation, −½ ln(1 − r²).
//! struct Pearson;
//!
//! impl Estimator for Pearson {
//!     type Error = &'static str;
//!     fn total_correlation(&self, x: ArrayView2<'_, f64>) -> Result<Estimate, Self::Error> {
//!         let (a, b) = (x.column(0), x.column(1));
//!         let (ca, cb) = (&a - a.mean().unwrap(), &b - b.mean().unwrap());
//!         let r = ca.dot(&cb) / (ca.dot(&ca) * cb.dot(&cb)).sqrt();
//!         Ok((-0.5 * (1.0 - r * r).ln()).into())
//!     }
//!     fn entropy(&self, _: ArrayView2<'_, f64>) -> Result<Estimate, Self::Error> {
//!         Err("not estimated")
//!     }
//!     fn mutual_information(&self, _: ArrayView2<'_, f64>, _: ArrayView2<'_, f64>) -> Result<Estimate, Self::Error> {
//!         Err("not estimated")
//!     }
//!     fn kl_divergence(&self, _: ArrayView2<'_, f64>, _: ArrayView2<'_, f64>) -> Result<Estimate, Self::Error> {
//!         Err("not estimated")
//!     }
//! }
//!
//! let task = suite().into_iter().find(|t| t.name == "gaussian-d2 TC").unwrap();
//! assert_eq!(task.quantity, Quantity::TotalCorrelation);
//! let estimate = task.estimate(20_000, 0, &Pearson)?;
//! assert!((estimate.value - task.truth).abs() < 0.02);
//! # Ok::<(), &'static str>(())
//! ```

mod beyond_normal;
pub mod density;

pub use beyond_normal::{beyond_normal_suite, monotone_maps};

use nalgebra::{DMatrix, DVector};
use ndarray::{s, Array1, Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{ChiSquared, Distribution as _, StandardNormal, Uniform};
use statrs::function::gamma::{digamma, ln_gamma};

/// `½ ln(2πe)`, the entropy of the standard normal.
const HALF_LN_2PI_E: f64 = 1.418_938_533_204_672_7;

/// Euler–Mascheroni constant.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// What a task measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Total correlation of all columns.
    TotalCorrelation,
    /// Joint differential entropy.
    Entropy,
    /// Mutual information between the first `split` columns and the rest.
    MutualInformation {
        /// Number of columns in the first block.
        split: usize,
    },
    /// `D(P ‖ Q)`; the task samples both.
    KlDivergence,
}

/// A family of distributions that can be sampled.
#[derive(Debug, Clone)]
enum Family {
    /// `X = G A` with `G` standard normal rows; covariance `AᵀA`. `shift` is added.
    Gaussian { a: Array2<f64>, shift: Array1<f64> },
    /// Independent `sign(z)|z|^e` columns mixed by `a`.
    PowerMixed { exponents: Vec<f64>, a: Array2<f64> },
    /// Multivariate Student-t, identity dispersion, `nu` degrees of freedom.
    StudentT { nu: f64, d: usize },
    /// Two independent unit-variance uniforms rotated by 45°.
    RotatedUniforms,
    /// Two independent blocks: a correlated Gaussian pair and a power-mixed pair.
    IndependentBlocks,
    /// `X ~ U(0, 1)` and `Y = X + N`, `N ~ U(−ε, ε)`.
    AdditiveUniform { epsilon: f64 },
}

impl Family {
    fn dim(&self) -> usize {
        match self {
            Family::Gaussian { a, .. } => a.ncols(),
            Family::PowerMixed { a, .. } => a.ncols(),
            Family::StudentT { d, .. } => *d,
            Family::RotatedUniforms => 2,
            Family::IndependentBlocks => 4,
            Family::AdditiveUniform { .. } => 2,
        }
    }

    fn sample(&self, n: usize, rng: &mut ChaCha8Rng) -> Array2<f64> {
        let d = self.dim();
        let mut normal = |rows, cols| Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(&mut *rng));
        match self {
            Family::Gaussian { a, shift } => normal(n, a.nrows()).dot(a) + shift,
            Family::PowerMixed { exponents, a } => {
                let mut z = normal(n, exponents.len());
                for (mut col, &e) in z.columns_mut().into_iter().zip(exponents) {
                    col.mapv_inplace(|v: f64| v.signum() * v.abs().powf(e));
                }
                z.dot(a)
            }
            Family::StudentT { nu, .. } => {
                let z = normal(n, d);
                let chi = ChiSquared::new(*nu).expect("nu > 0");
                let mut x = z;
                for mut row in x.rows_mut() {
                    let w: f64 = chi.sample(&mut *rng);
                    row *= (nu / w).sqrt();
                }
                x
            }
            Family::RotatedUniforms => {
                let u = Uniform::new(-(3f64.sqrt()), 3f64.sqrt());
                let h = std::f64::consts::FRAC_1_SQRT_2;
                Array2::from_shape_fn((n, 2), |_| 0.0)
                    .rows()
                    .into_iter()
                    .flat_map(|_| {
                        let (a, b): (f64, f64) = (u.sample(&mut *rng), u.sample(&mut *rng));
                        [h * (a + b), h * (a - b)]
                    })
                    .collect::<Array1<f64>>()
                    .into_shape_with_order((n, 2))
                    .expect("n x 2")
            }
            Family::IndependentBlocks => {
                let g = normal(n, 2);
                let p = normal(n, 2).mapv(|v| v.signum() * v.abs().powf(1.8));
                Array2::from_shape_fn((n, 4), |(i, j)| match j {
                    0 => g[(i, 0)],
                    1 => 0.8 * g[(i, 0)] + 0.6 * g[(i, 1)],
                    2 => p[(i, 0)] + 0.5 * p[(i, 1)],
                    _ => p[(i, 1)],
                })
            }
            Family::AdditiveUniform { epsilon } => {
                let (x, noise) = (Uniform::new(0.0, 1.0), Uniform::new(-epsilon, *epsilon));
                let mut out = Array2::zeros((n, 2));
                for mut row in out.rows_mut() {
                    let v: f64 = x.sample(&mut *rng);
                    row[0] = v;
                    row[1] = v + noise.sample(&mut *rng);
                }
                out
            }
        }
    }
}

/// One task: a distribution (two for divergences), a quantity, and its true value.
#[derive(Debug, Clone)]
pub struct Task {
    /// Short unique name, e.g. `"gaussian-d10 MI"`.
    pub name: String,
    /// Number of columns.
    pub dim: usize,
    /// What is measured.
    pub quantity: Quantity,
    /// The true value, in nats.
    pub truth: f64,
    p: Family,
    q: Option<Family>,
    /// Maps applied to the samples of P, in order (they leave the truth unchanged).
    transforms: Vec<beyond_normal::Transform>,
}

impl Task {
    /// Draws `n` samples (rows) of the task's distribution (P for divergences).
    pub fn sample(&self, n: usize, seed: u64) -> Array2<f64> {
        let x = self.p.sample(n, &mut ChaCha8Rng::seed_from_u64(seed));
        let split = match self.quantity {
            Quantity::MutualInformation { split } => split,
            _ => self.dim,
        };
        self.transforms.iter().fold(x, |x, t| t.apply(x, split))
    }

    /// Draws `n` samples of Q for a divergence task (`None` otherwise).
    pub fn sample_q(&self, n: usize, seed: u64) -> Option<Array2<f64>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        self.q.as_ref().map(|q| q.sample(n, &mut rng))
    }

    /// Samples `n` rows with `seed` and estimates the task's quantity with `estimator`,
    /// in nats.
    pub fn estimate<E: Estimator>(&self, n: usize, seed: u64, estimator: &E) -> Result<Estimate, E::Error> {
        let x = self.sample(n, seed);
        match self.quantity {
            Quantity::TotalCorrelation => estimator.total_correlation(x.view()),
            Quantity::Entropy => estimator.entropy(x.view()),
            Quantity::MutualInformation { split } => {
                estimator.mutual_information(x.slice(s![.., ..split]), x.slice(s![.., split..]))
            }
            Quantity::KlDivergence => {
                let q = self.sample_q(n, seed).expect("divergence tasks have Q");
                estimator.kl_divergence(x.view(), q.view())
            }
        }
    }

    /// The mixing matrix `A` (rows = sources) and the sources' exponents of a task made
    /// by [`power_mixed`]; `None` for other tasks.
    pub fn power_mixing(&self) -> Option<(&Array2<f64>, &[f64])> {
        match &self.p {
            Family::PowerMixed { exponents, a } => Some((a, exponents)),
            _ => None,
        }
    }
}

/// An estimate in nats, with its standard error when the estimator gives one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The estimate.
    pub value: f64,
    /// Its standard error, if known.
    pub standard_error: Option<f64>,
}

impl From<f64> for Estimate {
    fn from(value: f64) -> Self {
        Self { value, standard_error: None }
    }
}

/// An estimator of information measures, in nats, from samples (rows = samples).
pub trait Estimator {
    /// What a failed estimate reports.
    type Error;
    /// Total correlation of the columns of `x`.
    fn total_correlation(&self, x: ArrayView2<'_, f64>) -> Result<Estimate, Self::Error>;
    /// Joint differential entropy of `x`.
    fn entropy(&self, x: ArrayView2<'_, f64>) -> Result<Estimate, Self::Error>;
    /// Mutual information between the blocks `x` and `y` (same rows).
    fn mutual_information(&self, x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Result<Estimate, Self::Error>;
    /// `D(P ‖ Q)` from samples `p` of P and `q` of Q.
    fn kl_divergence(&self, p: ArrayView2<'_, f64>, q: ArrayView2<'_, f64>) -> Result<Estimate, Self::Error>;
}

/// The nalgebra copy of a matrix.
fn to_nalgebra(m: &Array2<f64>) -> DMatrix<f64> {
    DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)])
}

/// ln det of a symmetric positive-definite matrix.
fn ln_det(m: &Array2<f64>) -> f64 {
    let l = to_nalgebra(m).cholesky().expect("task covariances are positive definite").l();
    2.0 * l.diagonal().iter().map(|v| v.ln()).sum::<f64>()
}

fn gaussian_entropy(cov: &Array2<f64>) -> f64 {
    cov.nrows() as f64 * HALF_LN_2PI_E + 0.5 * ln_det(cov)
}

fn gaussian_tc(cov: &Array2<f64>) -> f64 {
    cov.diag().iter().map(|v| 0.5 * v.ln()).sum::<f64>() - 0.5 * ln_det(cov)
}

fn gaussian_mi(cov: &Array2<f64>, split: usize) -> f64 {
    gaussian_entropy(&cov.slice(s![..split, ..split]).to_owned())
        + gaussian_entropy(&cov.slice(s![split.., split..]).to_owned())
        - gaussian_entropy(cov)
}

/// KL divergence between Gaussians `N(m0, s0) ‖ N(m1, s1)`.
fn gaussian_kl(m0: &Array1<f64>, s0: &Array2<f64>, m1: &Array1<f64>, s1: &Array2<f64>) -> f64 {
    let d = s0.nrows();
    let chol = to_nalgebra(s1).cholesky().expect("task covariances are positive definite");
    let dm = DVector::from_iterator(d, (m1 - m0).iter().copied());
    let trace = chol.solve(&to_nalgebra(s0)).trace();
    let maha = dm.dot(&chol.solve(&dm));
    0.5 * (trace + maha - d as f64 + ln_det(s1) - ln_det(s0))
}

/// Entropy of a `d`-dimensional Student-t with identity dispersion.
fn student_t_entropy(nu: f64, d: usize) -> f64 {
    let df = d as f64;
    0.5 * df * (nu * std::f64::consts::PI).ln() + ln_gamma(nu / 2.0) - ln_gamma((nu + df) / 2.0)
        + (nu + df) / 2.0 * (digamma((nu + df) / 2.0) - digamma(nu / 2.0))
}

/// A `d × d` matrix with U(0, 1) entries from a fixed seed.
fn uniform_matrix(d: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let u = Uniform::new(0.0, 1.0);
    Array2::from_shape_simple_fn((d, d), || u.sample(&mut rng))
}

/// Linearly mixed non-Gaussian sources in `d` dimensions: independent columns
/// `sign(z)|z|^e` with `z` standard normal and `e ~ U[0.5, 2.5]`, mixed by a matrix with
/// U(0, 1) entries (exponents and matrix drawn from `seed`). The task measures the joint
/// entropy, `Σ H(sᵢ) + ln |det A|`.
///
/// ```
/// let task = rbig_tasks::power_mixed(4, 7);
/// assert_eq!((task.dim, task.sample(100, 0).nrows()), (4, 100));
/// ```
pub fn power_mixed(d: usize, seed: u64) -> Task {
    let a = uniform_matrix(d, 200 + seed);
    let mut rng = ChaCha8Rng::seed_from_u64(300 + seed);
    let exponents: Vec<f64> = (0..d).map(|_| Uniform::new(0.5, 2.5).sample(&mut rng)).collect();
    // H(sign(z)|z|^e) = H(z) + E ln(e |z|^(e−1)), with E ln|z| = −(γ + ln 2)/2.
    let e_ln_abs_z = -(EULER_GAMMA + std::f64::consts::LN_2) / 2.0;
    let h: f64 = exponents.iter().map(|e| HALF_LN_2PI_E + e.ln() + (e - 1.0) * e_ln_abs_z).sum();
    let det_a = ln_det(&a.t().dot(&a)) / 2.0;
    let p = Family::PowerMixed { exponents, a };
    let (name, quantity, transforms) = (format!("power-mixed-d{d} H"), Quantity::Entropy, Vec::new());
    Task { name, dim: d, quantity, truth: h + det_a, p, q: None, transforms }
}

/// A correlated Gaussian in `d` dimensions of the kind the Python RBIG benchmarks use:
/// correlation from three common factors (loadings U(0.2, 0.65), each variable's
/// communality capped at 0.9), standard deviations log-uniform in [0.5, 5], all drawn
/// from `seed`. The task measures the total correlation, `−½ ln det R`.
///
/// ```
/// let task = rbig_tasks::factor_gaussian(10, 0);
/// assert!(task.truth > 1.0 && task.truth < 5.0);
/// ```
pub fn factor_gaussian(d: usize, seed: u64) -> Task {
    const FACTORS: usize = 3;
    let mut rng = ChaCha8Rng::seed_from_u64(400 + seed);
    let loading = Uniform::new(0.2, 0.65);
    let mut l = Array2::from_shape_simple_fn((d, FACTORS), || loading.sample(&mut rng));
    for mut row in l.rows_mut() {
        let communality: f64 = row.dot(&row);
        if communality > 0.9 {
            row *= (0.9 / communality).sqrt();
        }
    }
    let sds: Vec<f64> = (0..d).map(|_| (Uniform::new(0.5f64.ln(), 5f64.ln()).sample(&mut rng)).exp()).collect();
    // X = G A with G standard normal in FACTORS + d columns: the factors, then each
    // variable's own noise; column j of A is sd_j (loadings_j, √(1 − communality_j) e_j).
    let mut a = Array2::<f64>::zeros((FACTORS + d, d));
    for j in 0..d {
        let row = l.row(j);
        for f in 0..FACTORS {
            a[(f, j)] = sds[j] * row[f];
        }
        a[(FACTORS + j, j)] = sds[j] * (1.0 - row.dot(&row)).sqrt();
    }
    let cov = a.t().dot(&a);
    let p = Family::Gaussian { a, shift: Array1::zeros(d) };
    let name = format!("factor-gaussian-d{d} TC");
    let quantity = Quantity::TotalCorrelation;
    Task { name, dim: d, quantity, truth: gaussian_tc(&cov), p, q: None, transforms: Vec::new() }
}

/// The ground-truth suite (see the module documentation).
pub fn suite() -> Vec<Task> {
    let mut tasks = Vec::new();
    let mut push = |name: String, quantity, truth, p: Family, q: Option<Family>| {
        tasks.push(Task { name, dim: p.dim(), quantity, truth, p, q, transforms: Vec::new() });
    };
    for d in [2usize, 3, 10, 50] {
        let a = uniform_matrix(d, 100 + d as u64);
        let cov = a.t().dot(&a);
        let g = Family::Gaussian { a: a.clone(), shift: Array1::zeros(d) };
        push(format!("gaussian-d{d} TC"), Quantity::TotalCorrelation, gaussian_tc(&cov), g.clone(), None);
        push(format!("gaussian-d{d} H"), Quantity::Entropy, gaussian_entropy(&cov), g.clone(), None);
        let split = d / 2;
        push(format!("gaussian-d{d} MI"), Quantity::MutualInformation { split }, gaussian_mi(&cov, split), g, None);
        if d <= 10 {
            // Mean shift of 0.4 standard deviations along every axis.
            let shift: Array1<f64> = cov.diag().mapv(|v| 0.4 * v.sqrt());
            let p = Family::Gaussian { a: a.clone(), shift: shift.clone() };
            let q = Family::Gaussian { a: a.clone(), shift: Array1::zeros(d) };
            let kl = gaussian_kl(&shift, &cov, &Array1::zeros(d), &cov);
            push(format!("gaussian-d{d} KL shift"), Quantity::KlDivergence, kl, p, Some(q.clone()));
            // Covariance change: P scaled by 1.3 against Q.
            let p = Family::Gaussian { a: &a * 1.3, shift: Array1::zeros(d) };
            let kl = gaussian_kl(&Array1::zeros(d), &(&cov * 1.69), &Array1::zeros(d), &cov);
            push(format!("gaussian-d{d} KL scale"), Quantity::KlDivergence, kl, p, Some(q));
        }
    }
    for d in [3usize, 10] {
        tasks.push(power_mixed(d, d as u64));
    }
    tasks.push(factor_gaussian(10, 0));
    let mut push = |name: String, quantity, truth, p: Family, q: Option<Family>| {
        tasks.push(Task { name, dim: p.dim(), quantity, truth, p, q, transforms: Vec::new() });
    };
    for nu in [3.0, 5.0, 20.0] {
        for (d1, d2) in [(2usize, 2usize), (3, 3), (5, 5)] {
            let d = d1 + d2;
            let mi = student_t_entropy(nu, d1) + student_t_entropy(nu, d2) - student_t_entropy(nu, d);
            let t = Family::StudentT { nu, d };
            push(format!("student-t{nu}-{d1}+{d2} MI"), Quantity::MutualInformation { split: d1 }, mi, t, None);
        }
        let d = 4;
        let t = Family::StudentT { nu, d };
        push(format!("student-t{nu}-d{d} H"), Quantity::Entropy, student_t_entropy(nu, d), t.clone(), None);
        let tc = d as f64 * student_t_entropy(nu, 1) - student_t_entropy(nu, d);
        push(format!("student-t{nu}-d{d} TC"), Quantity::TotalCorrelation, tc, t, None);
    }
    let h = 2.0 * (2.0 * 3f64.sqrt()).ln();
    push(
        "rotated-uniforms TC".into(),
        Quantity::TotalCorrelation,
        1.0 - std::f64::consts::LN_2,
        Family::RotatedUniforms,
        None,
    );
    push("rotated-uniforms H".into(), Quantity::Entropy, h, Family::RotatedUniforms, None);
    push(
        "independent-blocks MI".into(),
        Quantity::MutualInformation { split: 2 },
        0.0,
        Family::IndependentBlocks,
        None,
    );
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms() {
        // 1-D Student-t with nu = 1 is Cauchy: H = ln(4π).
        assert!((student_t_entropy(1.0, 1) - (4.0 * std::f64::consts::PI).ln()).abs() < 1e-10);
        // nu → ∞ tends to the Gaussian entropy.
        assert!((student_t_entropy(1e7, 3) - 3.0 * HALF_LN_2PI_E).abs() < 1e-5);
        let cov = ndarray::array![[2.0, 0.6], [0.6, 1.0]];
        let tc = -0.5 * (1.0f64 - 0.18).ln();
        assert!((gaussian_tc(&cov) - tc).abs() < 1e-12);
        assert!((gaussian_mi(&cov, 1) - tc).abs() < 1e-12);
        // KL of a unit mean shift between unit Gaussians is 1/2.
        let i2 = Array2::<f64>::eye(2);
        assert!((gaussian_kl(&ndarray::array![1.0, 0.0], &i2, &Array1::zeros(2), &i2) - 0.5).abs() < 1e-12);
        // Scale change: 0.5 (σ² − 1 − ln σ²) per dimension.
        let kl = gaussian_kl(&Array1::zeros(2), &(&i2 * 4.0), &Array1::zeros(2), &i2);
        assert!((kl - (4.0 - 1.0 - 4f64.ln())).abs() < 1e-12);
    }

    #[test]
    fn samples_match_their_moments() {
        // Power-mixed and Student-t samplers: check a second moment against theory.
        let t = Family::StudentT { nu: 5.0, d: 2 };
        let x = t.sample(200_000, &mut ChaCha8Rng::seed_from_u64(1));
        let var = x.column(0).mapv(|v| v * v).mean().unwrap();
        assert!((var - 5.0 / 3.0).abs() < 0.05, "t5 variance {var}");
        let u = Family::RotatedUniforms.sample(200_000, &mut ChaCha8Rng::seed_from_u64(2));
        let var = u.column(1).mapv(|v| v * v).mean().unwrap();
        assert!((var - 1.0).abs() < 0.01, "rotated uniform variance {var}");
    }
}
