//! Discrete and rounded data: uniform dequantization and the matching log-likelihood.
//!
//! A density model cannot put mass on single values, and integer or rounded data are
//! nothing but. Two ways to fit them:
//!
//! * **The default.** [`Rbig::fit`] spreads every block of tied values evenly over the
//!   column's resolution (the median gap between neighbouring distinct values), in a
//!   seeded order. Deterministic, never an infinite density or a non-invertible map.
//! * **Uniform dequantization** (this module), the standard treatment of discrete data
//!   in density estimation: fit on `x + u` with `u ~ U(−w/2, w/2)` per value, `w` the
//!   column's bin width ([`jitter`]), and score with
//!   [`Rbig::dequantized_log_likelihood`].
//!
//! The log-likelihood correction: a value `x` observed on a lattice of widths `w`
//! stands for the cell `x + [−w/2, w/2]^d`, whose probability under the model is
//! `P(x) = ∫_cell p = (Π w_j) · E_u[p(x + u)]`. By Jensen's inequality
//! `ln P(x) ≥ E_u[ln p(x + u)] + Σ_j ln w_j`, the quantity
//! [`Rbig::dequantized_log_likelihood`] estimates by Monte Carlo: a log-probability in
//! nats, comparable with any discrete model's, and close to `ln P(x)` when the density
//! varies little within a cell.
//!
//! ```
//! use rbig::dequantize::{jitter, resolution};
//! use rbig::Rbig;
//!
//! // Counts: integers, heavily tied.
//! let x = ndarray::Array2::from_shape_fn((2000, 2), |(i, j)| ((i * (3 + j)) % 17 + i % 5) as f64);
//! let widths = resolution(&x);
//! assert_eq!(widths, vec![1.0, 1.0]);
//! let model = Rbig::fit(&jitter(&x, &widths, 0)?)?;
//! let log_p = model.dequantized_log_likelihood(&x, &widths, 8, 1)?;
//! assert!(log_p.iter().all(|v| v.is_finite() && *v < 0.0)); // log-probabilities
//! # Ok::<(), rbig::RbigError>(())
//! ```

use ndarray::{Array1, Array2, ArrayBase, Axis, Data, Ix2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{RbigError, Result};
use crate::model::{beyond_range, check_widths, Rbig};
use crate::numeric::{equal_runs, lattice_step, sort_floats};

/// The bin width of each column: the median gap between neighbouring distinct values
/// when the column has tied values (the lattice step of rounded data), 0 when every
/// value is distinct (continuous data, nothing to dequantize).
///
/// ```
/// let x = ndarray::array![[1.0, 0.5], [2.0, 0.25], [2.0, 0.125], [3.0, 1.0]];
/// assert_eq!(rbig::dequantize::resolution(&x), vec![1.0, 0.0]);
/// ```
pub fn resolution<S: Data<Elem = f64>>(x: &ArrayBase<S, Ix2>) -> Vec<f64> {
    x.axis_iter(Axis(1)).map(|column| lattice_step(&sort_floats(column.to_vec())).unwrap_or(0.0)).collect()
}

/// A value that holds a large share of a column's rows: a point mass, which a density
/// model can only smear out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointMass {
    /// The column (0-based).
    pub column: usize,
    /// The value.
    pub value: f64,
    /// The fraction of the rows at that value.
    pub share: f64,
}

/// The columns of `x` where one value holds more than `min_share` of the rows, each
/// with its most frequent value (the smallest of equally frequent ones).
///
/// The fit spreads ties over the data's resolution, but a spike that large still
/// dominates every estimate: such a column is better dropped, or modelled as discrete.
///
/// ```
/// let x = ndarray::array![[0.0, 1.5], [0.0, 2.5], [0.0, 0.5], [3.0, 1.0]];
/// let masses = rbig::dequantize::point_masses(&x, 0.5);
/// assert_eq!(masses, vec![rbig::dequantize::PointMass { column: 0, value: 0.0, share: 0.75 }]);
/// ```
pub fn point_masses<S: Data<Elem = f64>>(x: &ArrayBase<S, Ix2>, min_share: f64) -> Vec<PointMass> {
    x.axis_iter(Axis(1))
        .enumerate()
        .filter_map(|(column, values)| {
            let sorted = sort_floats(values.to_vec());
            let longest = equal_runs(&sorted).fold(0..0, |best, run| if run.len() > best.len() { run } else { best });
            let share = longest.len() as f64 / sorted.len() as f64;
            (share > min_share).then(|| PointMass { column, value: sorted[longest.start], share })
        })
        .collect()
}

/// `x` plus independent `U(−w/2, w/2)` noise in each column of bin width `w` (columns
/// of width 0 are copied as they are), drawn from `seed`.
///
/// # Errors
/// [`RbigError::InvalidParameter`] if `widths` does not have one entry per column or has
/// a negative or NaN one; [`RbigError::NumericOverflow`] if a width is infinite or the
/// jittered values leave the floating-point range.
pub fn jitter<S: Data<Elem = f64>>(x: &ArrayBase<S, Ix2>, widths: &[f64], seed: u64) -> Result<Array2<f64>> {
    check_widths(widths, x.ncols())?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = x.to_owned();
    for mut row in out.rows_mut() {
        for (v, &w) in row.iter_mut().zip(widths) {
            if w > 0.0 {
                *v += w * (rng.gen::<f64>() - 0.5);
            }
        }
    }
    if let Some((_, c)) = out.indexed_iter().find(|(_, v)| !v.is_finite()).map(|(at, _)| at) {
        return Err(beyond_range(c));
    }
    Ok(out)
}

/// Most Monte Carlo draws per row: beyond, the estimate's Monte Carlo error is already
/// under 0.3 % of one draw's spread, and the time is unbounded.
const MAX_DRAWS: usize = 100_000;

impl Rbig {
    /// The dequantized log-likelihood of each row of discrete data `x`, in nats:
    /// `(1/draws) Σ_k ln p(x + u_k) + Σ_j ln w_j`, with `u_k ~ U(−w/2, w/2)` drawn from
    /// `seed` — a Monte Carlo estimate of a lower bound on the log-probability of the
    /// row's lattice cell (see the [module documentation](crate::dequantize)). Columns
    /// of width 0 are continuous: they enter as densities, without jitter.
    ///
    /// # Errors
    /// As [`Rbig::log_density`] and [`jitter`]; [`RbigError::InvalidParameter`] also for
    /// `draws` outside `1..=100_000` (each draw scores every row once).
    pub fn dequantized_log_likelihood<S: Data<Elem = f64>>(
        &self,
        x: &ArrayBase<S, Ix2>,
        widths: &[f64],
        draws: usize,
        seed: u64,
    ) -> Result<Array1<f64>> {
        check_widths(widths, self.dim())?;
        if !(1..=MAX_DRAWS).contains(&draws) {
            return Err(RbigError::InvalidParameter {
                name: "draws",
                reason: format!("must lie between 1 and {MAX_DRAWS}: the Monte Carlo error falls as 1/√draws"),
            });
        }
        let ln_cell: f64 = widths.iter().filter(|w| **w > 0.0).map(|w| w.ln()).sum();
        let mut total = Array1::<f64>::zeros(x.nrows());
        for k in 0..draws {
            let noisy = jitter(x, widths, seed.wrapping_add(k as u64))?;
            total += &self.log_density(&noisy)?;
        }
        Ok(total / draws as f64 + ln_cell)
    }
}
