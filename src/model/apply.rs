//! Running the steps: transforms, log-densities and samples.

use ndarray::{Array1, Array2, ArrayBase, ArrayView2, ArrayViewMut, ArrayViewMut2, Axis, Data, Dimension, Ix2};
use rand::Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::Rbig;
use crate::bijector::par_inverse;
use crate::error::{RbigError, Result};
use crate::io::available_memory;
use crate::numeric::normal::add_std_normal_ln_pdf;
use crate::numeric::CHUNK;

impl Rbig {
    /// Runs `f` on the rows of `x` (rows = samples) in blocks of [`CHUNK`], in parallel:
    /// each block is copied into the dimension-major layout the steps work on, checked
    /// for non-finite values, and handed to `f` with the matching block of `out`; `f`
    /// reports a row whose result overflowed by its index in the block. A
    /// block then goes through the whole stack while it is in cache, instead of every
    /// step sweeping the whole data set.
    ///
    /// # Errors
    /// A column count different from the model's, or a NaN or infinite value (the first
    /// in row order).
    fn per_block<S, O>(
        &self,
        x: &ArrayBase<S, Ix2>,
        mut out: ArrayViewMut<'_, f64, O>,
        f: impl Fn(ArrayViewMut2<'_, f64>, ArrayViewMut<'_, f64, O>) -> std::result::Result<(), usize> + Sync,
    ) -> Result<()>
    where
        S: Data<Elem = f64>,
        O: Dimension,
    {
        if x.ncols() != self.dim {
            return Err(RbigError::DimensionMismatch { expected: self.dim, found: x.ncols() });
        }
        let blocks: Vec<_> = x.axis_chunks_iter(Axis(0), CHUNK).zip(out.axis_chunks_iter_mut(Axis(0), CHUNK)).collect();
        let checked: Vec<Result<()>> = blocks
            .into_par_iter()
            .enumerate()
            .map(|(b, (rows, out))| {
                let mut work = Array2::<f64>::zeros((self.dim, rows.nrows()));
                for (i, row) in rows.axis_iter(Axis(0)).enumerate() {
                    for (column, &value) in row.iter().enumerate() {
                        if !value.is_finite() {
                            return Err(RbigError::NonFinite { row: b * CHUNK + i, column, value });
                        }
                        work[(column, i)] = value;
                    }
                }
                f(work.view_mut(), out).map_err(|i| RbigError::OutOfRange { row: b * CHUNK + i })
            })
            .collect();
        checked.into_iter().collect()
    }

    /// Maps data (rows = samples) to the Gaussianized space.
    ///
    /// # Errors
    /// A column count different from the model's, or a NaN or infinite value.
    pub fn transform<S: Data<Elem = f64>>(&self, x: &ArrayBase<S, Ix2>) -> Result<Array2<f64>> {
        self.map_points(x, |mut work| self.bijectors().for_each(|step| step.forward(work.view_mut(), None)))
    }

    /// Maps Gaussianized points back to data space: the exact inverse of [`Rbig::transform`].
    ///
    /// # Errors
    /// A column count different from the model's, or a NaN or infinite value.
    pub fn inverse_transform<S: Data<Elem = f64>>(&self, z: &ArrayBase<S, Ix2>) -> Result<Array2<f64>> {
        self.map_points(z, |mut work| self.bijectors().rev().for_each(|step| step.inverse(work.view_mut())))
    }

    /// The rows of `x` mapped by `f`, which works in place on a dimension-major block; a
    /// row whose image is not finite is an error.
    fn map_points<S: Data<Elem = f64>>(
        &self,
        x: &ArrayBase<S, Ix2>,
        f: impl Fn(ArrayViewMut2<'_, f64>) + Sync,
    ) -> Result<Array2<f64>> {
        let mut out = Array2::<f64>::zeros(x.dim());
        self.per_block(x, out.view_mut(), |mut work, mut out| {
            f(work.view_mut());
            out.assign(&work.t());
            first_non_finite_row(out.view())
        })?;
        Ok(out)
    }

    /// Log-density of each row under the model, in nats:
    /// `ln p(x) = ln N(f(x); 0, I) + ln |det J_f(x)|`.
    ///
    /// # Errors
    /// A column count different from the model's, or a NaN or infinite value.
    pub fn log_density<S: Data<Elem = f64>>(&self, x: &ArrayBase<S, Ix2>) -> Result<Array1<f64>> {
        let mut log_p = Array1::<f64>::zeros(x.nrows());
        self.per_block(x, log_p.view_mut(), |mut work, mut out| {
            for step in self.bijectors() {
                step.forward(work.view_mut(), Some(out.view_mut()));
            }
            add_std_normal_ln_pdf(work.view(), out.view_mut());
            // A point so far out that its image overflows has a density below the
            // smallest float: −∞ is its correctly rounded logarithm (and the arithmetic
            // on infinities would otherwise leave a NaN).
            for (acc, z) in out.iter_mut().zip(work.axis_iter(Axis(1))) {
                if acc.is_nan() || z.iter().any(|v| !v.is_finite()) {
                    *acc = f64::NEG_INFINITY;
                }
            }
            Ok(())
        })?;
        Ok(log_p)
    }

    /// Draws `n` samples (rows) from the model.
    ///
    /// # Errors
    /// [`RbigError::InvalidParameter`] if `n` rows of the model's width cannot be held
    /// in memory at all (more than `isize::MAX` bytes), or not in the memory available
    /// now ([`crate::io::available_memory`]): refused before allocating, since a failed
    /// allocation would end the process.
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Result<Array2<f64>> {
        let bytes = n.checked_mul(self.dim).and_then(|v| v.checked_mul(std::mem::size_of::<f64>()));
        let refuse = |why: String| RbigError::InvalidParameter {
            name: "n",
            reason: format!("{n} rows of {} columns {why}", self.dim),
        };
        let Some(bytes) = bytes.filter(|&b| b <= isize::MAX as usize) else {
            return Err(refuse("cannot be held in memory".into()));
        };
        // The draws are held twice: dimension-major while the steps run, then by rows.
        let needed = 2 * bytes as u64;
        if let Some(available) = available_memory().filter(|&a| needed > a) {
            return Err(refuse(format!(
                "need about {:.1} GB, more than the {:.1} GB of memory available; draw fewer at a time",
                needed as f64 / 1e9,
                available as f64 / 1e9
            )));
        }
        let mut work = Array2::from_shape_simple_fn((self.dim, n), || rng.sample::<f64, _>(StandardNormal));
        for step in self.bijectors().rev() {
            par_inverse(step, work.view_mut());
        }
        Ok(to_sample_major(work))
    }
}

/// The index of the first row of `x` with a non-finite value.
fn first_non_finite_row(x: ArrayView2<'_, f64>) -> std::result::Result<(), usize> {
    match x.axis_iter(Axis(0)).position(|row| row.iter().any(|v| !v.is_finite())) {
        Some(i) => Err(i),
        None => Ok(()),
    }
}

fn to_sample_major(x: Array2<f64>) -> Array2<f64> {
    x.reversed_axes().as_standard_layout().into_owned()
}

/// linfa integration: a fitted model transforms records into the Gaussianized space.
///
/// ```
/// use linfa::prelude::*;
/// use ndarray::Array2;
/// use rbig::Rbig;
///
/// let x = Array2::from_shape_fn((500, 3), |(i, j)| ((i * (j + 2)) as f64 * 0.37).sin() + j as f64 * (i as f64 * 0.01));
/// let model = Rbig::params().check()?.fit(&DatasetBase::from(x.clone()))?;
/// let z = model.transform(&x)?; // the linfa Transformer and the inherent method agree
/// assert_eq!(z.dim(), (500, 3));
/// # Ok::<(), rbig::RbigError>(())
/// ```
impl<S: Data<Elem = f64>> linfa::traits::Transformer<&ArrayBase<S, Ix2>, Result<Array2<f64>>> for Rbig {
    fn transform(&self, x: &ArrayBase<S, Ix2>) -> Result<Array2<f64>> {
        Rbig::transform(self, x)
    }
}
