//! Small numeric kernels the hot loops share: sorting floats and summing logarithms.

mod ln_sum;
mod sort;

pub(crate) use ln_sum::LnSum;
pub(crate) use sort::{argsort_floats, sort_floats};
