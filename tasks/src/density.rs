//! Density-estimation tasks: distributions that can be sampled and whose log-density is
//! known exactly (in closed form, or by 1-D quadrature for the two moons), for measuring
//! held-out log-likelihood against the truth on the same points.
//!
//! ```
//! use rbig_tasks::density::{density_suite, DensityTask};
//!
//! let task = density_suite().into_iter().find(|t| t.name == "banana").unwrap();
//! let test = task.sample(5000, 2);
//! let truth = task.log_density(&test).mean().unwrap();
//! // The banana's entropy is H(N(0,1)) + H(N(0, 0.25)) = 2.1447 nats.
//! assert!((truth + 2.1447).abs() < 0.05);
//! ```

use nalgebra::{DMatrix, DVector};
use ndarray::{Array1, Array2, ArrayBase, Data, Ix2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{ChiSquared, Distribution as _, StandardNormal, Uniform};
use statrs::function::gamma::ln_gamma;

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// `ln φ(v)` of the standard normal.
fn ln_phi(v: f64) -> f64 {
    -0.5 * v * v - 0.5 * LN_2PI
}

/// `ln Σ exp(vᵢ)` without overflow.
fn ln_sum_exp(v: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = v.clone().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + v.map(|x| (x - max).exp()).sum::<f64>().ln()
}

/// A Gaussian component `N(mean, L Lᵀ)` given by its Cholesky factor.
#[derive(Debug, Clone)]
struct Component {
    mean: DVector<f64>,
    chol: DMatrix<f64>,
    ln_det: f64,
}

impl Component {
    fn new(mean: DVector<f64>, cov: DMatrix<f64>) -> Self {
        let chol = cov.cholesky().expect("task covariances are positive definite").l();
        let ln_det = 2.0 * chol.diagonal().iter().map(|v| v.ln()).sum::<f64>();
        Self { mean, chol, ln_det }
    }

    fn ln_pdf(&self, x: &DVector<f64>) -> f64 {
        let d = x.len() as f64;
        let w = self.chol.solve_lower_triangular(&(x - &self.mean)).expect("non-singular factor");
        -0.5 * (w.norm_squared() + self.ln_det + d * LN_2PI)
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> DVector<f64> {
        let z = DVector::from_fn(self.mean.len(), |_, _| rng.sample::<f64, _>(StandardNormal));
        &self.mean + &self.chol * z
    }
}

#[derive(Debug, Clone)]
enum Shape {
    /// `x₁ ~ N(0, 1)`, `x₂ = x₁² + ε/2`.
    Banana,
    /// Radius `N(2, 0.2²)`, uniform angle.
    Ring,
    /// Equal mixture of `N(μₖ, 0.3² I)`, `μₖ` at radius 2 and angles `2πk/8`.
    EightGaussians,
    /// Uniform on the 8 unit squares of `[−2, 2]²` whose corner coordinates sum to an
    /// even number.
    Checkerboard,
    /// Two interleaved half circles (as scikit-learn's `make_moons`), uniform in angle,
    /// plus `N(0, 0.1² I)` noise.
    TwoMoons,
    /// `y M` with `y` a standard multivariate Student-t.
    StudentT { nu: f64, m: DMatrix<f64>, m_inv: DMatrix<f64>, ln_abs_det: f64 },
    /// Equal-weight Gaussian mixture.
    Mixture(Vec<Component>),
    /// `x Q` with `x₁ = z₁`, `xᵢ = zᵢ + 2 tanh(xᵢ₋₁)`, `z` standard normal and `Q`
    /// orthogonal: a unit-Jacobian triangular map of a Gaussian, then a rotation.
    TanhChain { q: DMatrix<f64> },
}

/// One density task: a distribution with an exact log-density.
#[derive(Debug, Clone)]
pub struct DensityTask {
    /// Short unique name, e.g. `"banana"`.
    pub name: String,
    /// Number of columns.
    pub dim: usize,
    shape: Shape,
}

const MOON_SIGMA: f64 = 0.1;
/// Simpson intervals over the moons' angle: the integrand's width in angle is about
/// `MOON_SIGMA` (the moons have unit radius), so 2000 intervals over `π` put ~60 nodes
/// across it and the quadrature error is far below the estimators' errors.
const MOON_INTERVALS: usize = 2000;

fn moon_centre(upper: bool, theta: f64) -> (f64, f64) {
    if upper {
        (theta.cos(), theta.sin())
    } else {
        (1.0 - theta.cos(), 0.5 - theta.sin())
    }
}

fn two_moons_ln_pdf(x: f64, y: f64) -> f64 {
    let h = std::f64::consts::PI / MOON_INTERVALS as f64;
    let ln_s2 = 2.0 * MOON_SIGMA.ln();
    let terms = (0..=MOON_INTERVALS).flat_map(|i| {
        let weight = if i == 0 || i == MOON_INTERVALS {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        // Density of the angle (1/π) times the Simpson weight h/3, times the mixture
        // weight ½, times the isotropic 2-D normal density.
        let ln_w = (weight * h / 3.0 / std::f64::consts::PI * 0.5).ln();
        [true, false].map(|upper| {
            let (cx, cy) = moon_centre(upper, i as f64 * h);
            let r2 = ((x - cx).powi(2) + (y - cy).powi(2)) / (MOON_SIGMA * MOON_SIGMA);
            ln_w - 0.5 * r2 - LN_2PI - ln_s2
        })
    });
    let v: Vec<f64> = terms.collect();
    ln_sum_exp(v.iter().copied())
}

impl DensityTask {
    fn new(name: &str, dim: usize, shape: Shape) -> Self {
        Self { name: name.to_string(), dim, shape }
    }

    /// Draws `n` samples (rows) from `seed`.
    pub fn sample(&self, n: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let d = self.dim;
        let mut normal = move || -> f64 { rng.sample(StandardNormal) };
        let mut x = Array2::<f64>::zeros((n, d));
        let mut rng2 = ChaCha8Rng::seed_from_u64(seed.wrapping_add(0x9e37_79b9));
        let unit = Uniform::new(0.0, 1.0);
        for mut row in x.rows_mut() {
            match &self.shape {
                Shape::Banana => {
                    let a = normal();
                    row[0] = a;
                    row[1] = a * a + 0.5 * normal();
                }
                Shape::Ring => {
                    let r = 2.0 + 0.2 * normal();
                    let t = std::f64::consts::TAU * unit.sample(&mut rng2);
                    row[0] = r * t.cos();
                    row[1] = r * t.sin();
                }
                Shape::EightGaussians => {
                    let k = rng2.gen_range(0..8) as f64;
                    let t = std::f64::consts::TAU * k / 8.0;
                    row[0] = 2.0 * t.cos() + 0.3 * normal();
                    row[1] = 2.0 * t.sin() + 0.3 * normal();
                }
                Shape::Checkerboard => {
                    let cell = rng2.gen_range(0..8);
                    // Black cells: column c in 0..4, row r in 0..4 with c + r even.
                    let (c, r) = (cell % 4, 2 * (cell / 4) + (cell % 2));
                    row[0] = c as f64 - 2.0 + unit.sample(&mut rng2);
                    row[1] = r as f64 - 2.0 + unit.sample(&mut rng2);
                }
                Shape::TwoMoons => {
                    let upper = rng2.gen_bool(0.5);
                    let (cx, cy) = moon_centre(upper, std::f64::consts::PI * unit.sample(&mut rng2));
                    row[0] = cx + MOON_SIGMA * normal();
                    row[1] = cy + MOON_SIGMA * normal();
                }
                Shape::StudentT { nu, m, .. } => {
                    let w: f64 = ChiSquared::new(*nu).expect("nu > 0").sample(&mut rng2);
                    let y = DVector::from_fn(d, |_, _| normal() * (nu / w).sqrt());
                    row.assign(&Array1::from_iter((y.transpose() * m).iter().copied()));
                }
                Shape::Mixture(components) => {
                    let c = &components[rng2.gen_range(0..components.len())];
                    row.assign(&Array1::from_iter(c.sample(&mut rng2).iter().copied()));
                }
                Shape::TanhChain { q } => {
                    let mut x = DVector::<f64>::zeros(d);
                    for i in 0..d {
                        x[i] = normal() + if i == 0 { 0.0 } else { 2.0 * x[i - 1].tanh() };
                    }
                    row.assign(&Array1::from_iter((x.transpose() * q).iter().copied()));
                }
            }
        }
        x
    }

    /// The exact log-density of each row, in nats.
    ///
    /// # Panics
    /// If `x` does not have [`DensityTask::dim`] columns.
    pub fn log_density<S: Data<Elem = f64>>(&self, x: &ArrayBase<S, Ix2>) -> Array1<f64> {
        assert_eq!(x.ncols(), self.dim, "{} has {} columns", self.name, self.dim);
        let d = self.dim;
        x.rows()
            .into_iter()
            .map(|row| {
                let v = DVector::from_iterator(d, row.iter().copied());
                match &self.shape {
                    Shape::Banana => ln_phi(v[0]) + ln_phi((v[1] - v[0] * v[0]) / 0.5) - 0.5f64.ln(),
                    Shape::Ring => {
                        let r = v.norm();
                        ln_phi((r - 2.0) / 0.2) - 0.2f64.ln() - (std::f64::consts::TAU * r).ln()
                    }
                    Shape::EightGaussians => {
                        let terms = (0..8).map(|k| {
                            let t = std::f64::consts::TAU * k as f64 / 8.0;
                            let (dx, dy) = ((v[0] - 2.0 * t.cos()) / 0.3, (v[1] - 2.0 * t.sin()) / 0.3);
                            ln_phi(dx) + ln_phi(dy) - 2.0 * 0.3f64.ln() - 8f64.ln()
                        });
                        ln_sum_exp(terms)
                    }
                    Shape::Checkerboard => {
                        let (c, r) = ((v[0] + 2.0).floor(), (v[1] + 2.0).floor());
                        let inside = (0.0..4.0).contains(&c) && (0.0..4.0).contains(&r);
                        if inside && (c + r) as i64 % 2 == 0 {
                            -(8f64.ln())
                        } else {
                            f64::NEG_INFINITY
                        }
                    }
                    Shape::TwoMoons => two_moons_ln_pdf(v[0], v[1]),
                    Shape::StudentT { nu, m_inv, ln_abs_det, .. } => {
                        let y = v.transpose() * m_inv;
                        let df = d as f64;
                        ln_gamma((nu + df) / 2.0)
                            - ln_gamma(nu / 2.0)
                            - 0.5 * df * (nu * std::f64::consts::PI).ln()
                            - 0.5 * (nu + df) * (1.0 + y.norm_squared() / nu).ln()
                            - ln_abs_det
                    }
                    Shape::Mixture(components) => {
                        let ln_k = (components.len() as f64).ln();
                        ln_sum_exp(components.iter().map(|c| c.ln_pdf(&v) - ln_k))
                    }
                    Shape::TanhChain { q } => {
                        // x = y Qᵀ undoes the rotation; the chain has a unit Jacobian.
                        let x = q * &v;
                        (0..d).map(|i| ln_phi(x[i] - if i == 0 { 0.0 } else { 2.0 * x[i - 1].tanh() })).sum()
                    }
                }
            })
            .collect()
    }
}

/// A Haar-random orthogonal `d × d` matrix from `seed` (QR of a Gaussian matrix with
/// the signs of R's diagonal moved into Q).
fn orthogonal(d: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let g = DMatrix::from_fn(d, d, |_, _| rng.sample::<f64, _>(StandardNormal));
    let qr = g.qr();
    let (mut q, r) = (qr.q(), qr.r());
    for j in 0..d {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    q
}

/// The density suite: five 2-D shapes and three tasks in 5 to 10 dimensions.
///
/// | name | d | what |
/// |---|---|---|
/// | `banana` | 2 | `x₂ = x₁² + ε/2` |
/// | `ring` | 2 | radius `N(2, 0.2²)`, uniform angle |
/// | `8-gaussians` | 2 | 8 modes of sd 0.3 on a circle of radius 2 |
/// | `checkerboard` | 2 | uniform on 8 of the 16 unit squares of `[−2, 2]²` (truth `−ln 8`) |
/// | `two-moons` | 2 | two noisy half circles (density by quadrature) |
/// | `student-t5-d5` | 5 | Student-t, 5 degrees of freedom, linearly mixed |
/// | `gmm-d8` | 8 | 4 Gaussian components with random means and covariances |
/// | `tanh-chain-d10` | 10 | `xᵢ = zᵢ + 2 tanh(xᵢ₋₁)`, rotated |
pub fn density_suite() -> Vec<DensityTask> {
    let mut tasks = vec![
        DensityTask::new("banana", 2, Shape::Banana),
        DensityTask::new("ring", 2, Shape::Ring),
        DensityTask::new("8-gaussians", 2, Shape::EightGaussians),
        DensityTask::new("checkerboard", 2, Shape::Checkerboard),
        DensityTask::new("two-moons", 2, Shape::TwoMoons),
    ];
    let d = 5;
    // A well-conditioned mixing: rotation times scales from 0.5 to 2.
    let m = orthogonal(d, 501) * DMatrix::from_diagonal(&DVector::from_fn(d, |i, _| 0.5 * 4f64.powf(i as f64 / 4.0)));
    let m_inv = m.clone().try_inverse().expect("orthogonal times diagonal");
    let ln_abs_det = m.determinant().abs().ln();
    tasks.push(DensityTask::new("student-t5-d5", d, Shape::StudentT { nu: 5.0, m, m_inv, ln_abs_det }));
    let d = 8;
    let mut rng = ChaCha8Rng::seed_from_u64(801);
    let components = (0..4)
        .map(|_| {
            let mean = DVector::from_fn(d, |_, _| 2.0 * rng.sample::<f64, _>(StandardNormal));
            let a = DMatrix::from_fn(d, d, |_, _| rng.sample::<f64, _>(StandardNormal));
            Component::new(mean, &a * a.transpose() / d as f64 + DMatrix::identity(d, d) * 0.1)
        })
        .collect();
    tasks.push(DensityTask::new("gmm-d8", d, Shape::Mixture(components)));
    tasks.push(DensityTask::new("tanh-chain-d10", 10, Shape::TanhChain { q: orthogonal(10, 1001) }));
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sums a 2-D density over a fine grid covering its mass.
    fn grid_mass(task: &DensityTask, half_width: f64, cells: usize) -> f64 {
        let h = 2.0 * half_width / cells as f64;
        let pts = Array2::from_shape_fn((cells * cells, 2), |(i, j)| {
            let k = if j == 0 { i / cells } else { i % cells };
            -half_width + (k as f64 + 0.5) * h
        });
        task.log_density(&pts).mapv(f64::exp).sum() * h * h
    }

    #[test]
    fn two_dimensional_densities_integrate_to_one() {
        for task in density_suite().iter().filter(|t| t.dim == 2) {
            // Cells of a fifth of the narrowest scale or less (the moons' integrand is
            // costly, so its grid is the coarsest that resolves its 0.1 noise).
            let (half_width, cells) = match task.name.as_str() {
                "banana" => (12.0, 1200),
                "two-moons" => (3.0, 150),
                _ => (4.0, 400),
            };
            let mass = grid_mass(task, half_width, cells);
            assert!((mass - 1.0).abs() < 2e-3, "{}: mass {mass}", task.name);
        }
    }

    #[test]
    fn samples_fall_where_the_density_lives() {
        // The mean log-density of a sample estimates −H; for the checkerboard every
        // sample must lie on a black square, and the Student-t and tanh chain have
        // closed-form or unit-Jacobian entropies.
        for task in density_suite() {
            let x = task.sample(20_000, 3);
            let ll = task.log_density(&x);
            assert!(ll.iter().all(|v| v.is_finite()), "{}: a sample outside the support", task.name);
        }
        let tasks = density_suite();
        let chain = tasks.iter().find(|t| t.name == "tanh-chain-d10").unwrap();
        let ll = chain.log_density(&chain.sample(50_000, 4)).mean().unwrap();
        // Unit Jacobian: H = H(z) = 10 · ½ ln(2πe).
        assert!((ll + 10.0 * 0.5 * (LN_2PI + 1.0)).abs() < 0.03, "tanh chain mean ln p {ll}");
    }
}
