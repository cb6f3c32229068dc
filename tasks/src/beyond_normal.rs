//! The mutual-information tasks of the "Beyond Normal" benchmark (Czyż et al., NeurIPS
//! 2023, the `benchmark-mi` package), written here from their published definitions:
//! bivariate and multivariate normals, Student-t, additive uniform noise, and the same
//! distributions seen through maps of each block that change everything but the mutual
//! information (the normal CDF, a half cube, asinh, wiggly functions, spirals, a Swiss
//! roll embedding, bimodal marginals).
//!
//! Every map here is injective on each block, so the truth is the base distribution's.

use ndarray::{s, Array1, Array2, ArrayViewMut1, Axis};
use statrs::function::erf::erfc;

use crate::{gaussian_mi, student_t_entropy, Family, Quantity, Task};

/// A map applied to the samples of a task (to the first `split` columns, the X block,
/// and the rest, the Y block).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Transform {
    /// Φ of every coordinate.
    NormalCdf,
    /// `x √|x|` of every coordinate.
    HalfCube,
    /// asinh of every coordinate.
    Asinh,
    /// Two different increasing wiggly functions on X and Y (1-D blocks).
    Wiggly,
    /// `x ↦ R(θ) x`, a rotation in the plane of coordinates (0, 1) of X and (1, 2) of Y
    /// by an angle `‖x‖² / dim` growing with the radius.
    Spiral,
    /// The 1-D X block, in [0, 1], rolled up into a 2-D Swiss roll.
    SwissRoll,
    /// Uniform coordinates through the inverse CDFs of two-component Gaussian mixtures
    /// (`0.3 N(0, 1) + 0.7 N(5, 1)` for X, `0.5 N(−1, 1) + 0.5 N(3, 1)` for Y).
    Bimodal,
}

fn normal_cdf(v: f64) -> f64 {
    0.5 * erfc(-v * std::f64::consts::FRAC_1_SQRT_2)
}

fn wiggly_x(v: f64) -> f64 {
    v + 0.4 * v.sin() + 0.2 * (1.7 * v + 1.0).sin() + 0.03 * (3.3 * v - 2.5).sin()
}

fn wiggly_y(v: f64) -> f64 {
    v - 0.4 * (0.4 * v).sin() + 0.17 * (1.3 * v + 3.5).sin() + 0.02 * (4.3 * v - 2.5).sin()
}

/// The inverse CDF of the equal-variance Gaussian mixture `Σ wₖ N(μₖ, 1)` at `u`, by
/// bisection to the last bit (the CDF is increasing).
fn mixture_quantile(u: f64, components: &[(f64, f64)]) -> f64 {
    let cdf = |x: f64| components.iter().map(|&(w, m)| w * normal_cdf(x - m)).sum::<f64>();
    let (mut lo, mut hi) = (-40.0, 45.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid == lo || mid == hi {
            break;
        }
        if cdf(mid) < u {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Rotates `v` in the plane of coordinates `(i, j)` by `speed · ‖v‖²`.
fn spiral(mut v: ArrayViewMut1<'_, f64>, i: usize, j: usize, speed: f64) {
    let angle = speed * v.dot(&v);
    let (sin, cos) = angle.sin_cos();
    let (a, b) = (v[i], v[j]);
    v[i] = cos * a - sin * b;
    v[j] = sin * a + cos * b;
}

impl Transform {
    pub(crate) fn apply(self, mut x: Array2<f64>, split: usize) -> Array2<f64> {
        match self {
            Transform::NormalCdf => x.mapv_inplace(normal_cdf),
            Transform::HalfCube => x.mapv_inplace(|v| v * v.abs().sqrt()),
            Transform::Asinh => x.mapv_inplace(f64::asinh),
            Transform::Wiggly => {
                x.column_mut(0).mapv_inplace(wiggly_x);
                x.column_mut(1).mapv_inplace(wiggly_y);
            }
            Transform::Bimodal => {
                x.column_mut(0).mapv_inplace(|u| mixture_quantile(u, &[(0.3, 0.0), (0.7, 5.0)]));
                x.column_mut(1).mapv_inplace(|u| mixture_quantile(u, &[(0.5, -1.0), (0.5, 3.0)]));
            }
            Transform::Spiral => {
                let (dx, dy) = (split, x.ncols() - split);
                for mut row in x.rows_mut() {
                    let (bx, by) = row.view_mut().split_at(Axis(0), split);
                    spiral(bx, 0, 1, 1.0 / dx as f64);
                    spiral(by, 1, 2, 1.0 / dy as f64);
                }
            }
            Transform::SwissRoll => {
                let t = x.column(0).mapv(|u| 1.5 * std::f64::consts::PI * (1.0 + 2.0 * u));
                let rolled = ndarray::stack![Axis(1), t.mapv(|t| t * t.cos() / 21.0), t.mapv(|t| t * t.sin() / 21.0)];
                return ndarray::concatenate![Axis(1), rolled, x.slice(s![.., 1..])];
            }
        }
        x
    }
}

/// Strictly increasing maps of each column, a different one per column in turn:
/// `Φ(asinh(v)/4)`, the signed power 3/2, asinh, `exp(asinh(v)/2)` and the cube. Mutual
/// information and total correlation are unchanged by them; an estimator that is not
/// changes its answer.
///
/// The normal CDF and the exponential come after an asinh so that they stay injective
/// in floating point on heavy tails: `Φ(v)` is 1.0 exactly for every `v > 8.3`, which
/// would tie 7% of a Cauchy sample's values and change the truth of what is measured.
///
/// ```
/// let x = ndarray::array![[0.0, 4.0, 0.0, 0.0, 2.0, 0.0]];
/// let y = rbig_tasks::monotone_maps(&x);
/// assert_eq!(y.row(0).to_vec(), vec![0.5, 8.0, 0.0, 1.0, 8.0, 0.5]);
/// ```
pub fn monotone_maps(x: &Array2<f64>) -> Array2<f64> {
    let mut out = x.clone();
    for (j, mut column) in out.columns_mut().into_iter().enumerate() {
        match j % 5 {
            0 => column.mapv_inplace(|v| normal_cdf(v.asinh() / 4.0)),
            1 => column.mapv_inplace(|v| v * v.abs().sqrt()),
            2 => column.mapv_inplace(f64::asinh),
            3 => column.mapv_inplace(|v| (v.asinh() / 2.0).exp()),
            _ => column.mapv_inplace(|v| v * v * v),
        }
    }
    out
}

/// A Gaussian family with correlation matrix `corr`.
fn gaussian(corr: &Array2<f64>) -> Family {
    let l = crate::to_nalgebra(corr).cholesky().expect("positive definite").l();
    let d = corr.nrows();
    // X = G Lᵀ has covariance L Lᵀ.
    let a = Array2::from_shape_fn((d, d), |(i, j)| l[(j, i)]);
    Family::Gaussian { a, shift: Array1::zeros(d) }
}

/// Equal correlation `off` between every two of `d` coordinates.
fn dense(d: usize, off: f64) -> Array2<f64> {
    Array2::from_shape_fn((d, d), |(i, j)| if i == j { 1.0 } else { off })
}

/// `X` and `Y` independent standard normals but for two pairs `(Xᵢ, Yᵢ)`, `i < 2`,
/// with correlation 0.8 (the benchmark's sparse model with strength 2: 4 / (4 + 1)).
fn two_pair(dx: usize, dy: usize) -> Array2<f64> {
    let mut c = Array2::eye(dx + dy);
    for i in 0..2 {
        c[(i, dx + i)] = 0.8;
        c[(dx + i, i)] = 0.8;
    }
    c
}

/// The Beyond-Normal suite: 40 mutual-information tasks, truths in closed form.
///
/// | family | tasks |
/// |---|---|
/// | 1 × 1 | normal (ρ = 0.75), its normal CDF (uniform margins), additive uniform noise (ε = 0.1, 0.75), bimodal, wiggly, half-cube, Student-t (1 dof), its asinh |
/// | embedding | Swiss roll 2 × 1 |
/// | multinormal | dense (correlation 0.5) 2 × 2 to 50 × 50; two pairs (ρ = 0.8) 2 × 2 to 25 × 25 |
/// | Student-t | identity dispersion, 2 × 2 to 5 × 5, 1 to 3 dof |
/// | transformed | normal CDF, half-cube, spiral and spiral ∘ normal CDF of the two-pair 3 × 3, 5 × 5 and 25 × 25; asinh of Student-t 2 × 2 to 5 × 5 |
///
/// ```
/// let suite = rbig_tasks::beyond_normal_suite();
/// assert_eq!(suite.len(), 40);
/// let roll = suite.iter().find(|t| t.name == "Swiss roll 2 × 1").unwrap();
/// assert_eq!(roll.sample(10, 0).ncols(), 3);
/// ```
pub fn beyond_normal_suite() -> Vec<Task> {
    use Transform::*;
    let mut tasks = Vec::new();
    let mut add = |name: String, p: Family, split: usize, truth: f64, transforms: Vec<Transform>| {
        let dim = p.dim() + usize::from(transforms.contains(&SwissRoll));
        let split = split + usize::from(transforms.contains(&SwissRoll));
        let quantity = Quantity::MutualInformation { split };
        tasks.push(Task { name, dim, quantity, truth, p, q: None, transforms });
    };
    let binormal = dense(2, 0.75);
    let binormal_mi = gaussian_mi(&binormal, 1);
    let student_mi = |nu: f64, dx: usize, dy: usize| {
        student_t_entropy(nu, dx) + student_t_entropy(nu, dy) - student_t_entropy(nu, dx + dy)
    };
    let one = |name: &str| format!("{name} 1 × 1");
    add(one("Normal"), gaussian(&binormal), 1, binormal_mi, vec![]);
    add(one("Uniform (normal CDF)"), gaussian(&binormal), 1, binormal_mi, vec![NormalCdf]);
    for epsilon in [0.1f64, 0.75] {
        let mi = if epsilon > 0.5 { 0.25 / epsilon } else { epsilon - (2.0 * epsilon).ln() };
        add(format!("Additive noise ε = {epsilon} 1 × 1"), Family::AdditiveUniform { epsilon }, 1, mi, vec![]);
    }
    add(one("Bimodal"), gaussian(&binormal), 1, binormal_mi, vec![NormalCdf, Bimodal]);
    add(one("Wiggly"), gaussian(&binormal), 1, binormal_mi, vec![Wiggly]);
    add(one("Half-cube"), gaussian(&binormal), 1, binormal_mi, vec![HalfCube]);
    add(one("Student-t dof 1"), Family::StudentT { nu: 1.0, d: 2 }, 1, student_mi(1.0, 1, 1), vec![]);
    add(one("Asinh Student-t dof 1"), Family::StudentT { nu: 1.0, d: 2 }, 1, student_mi(1.0, 1, 1), vec![Asinh]);
    add("Swiss roll 2 × 1".into(), gaussian(&binormal), 1, binormal_mi, vec![NormalCdf, SwissRoll]);
    for d in [2, 3, 5, 25, 50] {
        let c = dense(2 * d, 0.5);
        add(format!("Multinormal dense {d} × {d}"), gaussian(&c), d, gaussian_mi(&c, d), vec![]);
    }
    for d in [2, 3, 5, 25] {
        let c = two_pair(d, d);
        add(format!("Multinormal 2-pair {d} × {d}"), gaussian(&c), d, gaussian_mi(&c, d), vec![]);
    }
    for (d, nu) in [(2, 1.0), (2, 2.0), (3, 2.0), (3, 3.0), (5, 2.0), (5, 3.0)] {
        let p = Family::StudentT { nu, d: 2 * d };
        add(format!("Student-t dof {nu} {d} × {d}"), p, d, student_mi(nu, d, d), vec![]);
    }
    for (label, transforms) in [
        ("Normal CDF", vec![NormalCdf]),
        ("Half-cube", vec![HalfCube]),
        ("Spiral", vec![Spiral]),
        ("Spiral normal CDF", vec![NormalCdf, Spiral]),
    ] {
        for d in [3, 5, 25] {
            let c = two_pair(d, d);
            add(format!("{label} 2-pair {d} × {d}"), gaussian(&c), d, gaussian_mi(&c, d), transforms.clone());
        }
    }
    for (d, nu) in [(2, 1.0), (3, 2.0), (5, 2.0)] {
        let p = Family::StudentT { nu, d: 2 * d };
        add(format!("Asinh Student-t dof {nu} {d} × {d}"), p, d, student_mi(nu, d, d), vec![Asinh]);
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixture_quantile_inverts_the_cdf() {
        let comps = [(0.3, 0.0), (0.7, 5.0)];
        for u in [1e-6, 0.1, 0.3, 0.5, 0.9, 1.0 - 1e-6] {
            let x = mixture_quantile(u, &comps);
            let cdf: f64 = comps.iter().map(|&(w, m)| w * normal_cdf(x - m)).sum();
            assert!((cdf - u).abs() < 1e-12, "{u}: {cdf}");
        }
    }

    #[test]
    fn spiral_and_swiss_roll_are_injective_and_keep_norms() {
        // A rotation keeps the norm; the Swiss roll's radius t/21 recovers the uniform.
        let x = ndarray::array![[0.3, -1.2, 0.5, 2.0, -0.7, 0.1]];
        let y = Transform::Spiral.apply(x.clone(), 3);
        for (a, b) in [(0, 3), (3, 6)] {
            let n = |m: &Array2<f64>| m.slice(s![0, a..b]).iter().map(|v| v * v).sum::<f64>();
            assert!((n(&x) - n(&y)).abs() < 1e-12);
        }
        let u = ndarray::array![[0.25, 1.0], [0.75, 2.0]];
        let rolled = Transform::SwissRoll.apply(u.clone(), 1);
        for (row, &u) in rolled.rows().into_iter().zip(u.column(0)) {
            let t = 21.0 * (row[0] * row[0] + row[1] * row[1]).sqrt();
            assert!((t - 1.5 * std::f64::consts::PI * (1.0 + 2.0 * u)).abs() < 1e-9);
        }
    }

    #[test]
    fn truths_match_the_benchmark_package() {
        // `task.mutual_information` of every task of benchmark-mi 0.1.3's list, in its
        // order (scripts/beyond_normal_crosscheck.py prints them), to its 4 decimals.
        let published = [
            0.4133, 0.4133, 1.7094, 0.3333, 0.4133, 0.4133, 0.4133, 0.2242, 0.2242, 0.4133, 0.2939, 0.4133, 0.5928,
            1.2922, 1.6243, 1.0217, 1.0217, 1.0217, 1.0217, 0.4319, 0.1931, 0.2909, 0.1787, 0.4482, 0.2985, 1.0217,
            1.0217, 1.0217, 1.0217, 1.0217, 1.0217, 1.0217, 1.0217, 1.0217, 1.0217, 1.0217, 1.0217, 0.4319, 0.2909,
            0.4482,
        ];
        let suite = beyond_normal_suite();
        assert_eq!(suite.len(), published.len());
        for (task, value) in suite.iter().zip(published) {
            assert!((task.truth - value).abs() < 5e-5, "{}: {} vs {value}", task.name, task.truth);
        }
    }

    /// Column means and median absolute deviations of 200,000 samples of every task, to
    /// hold against the same figures of benchmark-mi's samplers, printed by
    /// scripts/beyond_normal_crosscheck.py.
    #[test]
    #[ignore = "prints a table to compare by eye with the benchmark package's"]
    fn beyond_normal_moments() {
        for task in beyond_normal_suite() {
            let x = task.sample(200_000, 0);
            let cols: Vec<_> = x.columns().into_iter().take(4).collect();
            let median = |v: &mut Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            let mads: Vec<f64> = cols
                .iter()
                .map(|c| {
                    let m = median(&mut c.to_vec());
                    median(&mut c.iter().map(|v| (v - m).abs()).collect())
                })
                .collect();
            let means: Vec<String> = cols.iter().map(|c| format!("{:.3}", c.mean().unwrap())).collect();
            let mads: Vec<String> = mads.iter().map(|m| format!("{m:.3}")).collect();
            println!("{:45} MI {:.4}  mean {}  MAD {}", task.name, task.truth, means.join(" "), mads.join(" "));
        }
    }
}
