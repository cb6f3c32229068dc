//! The foundations every stage stands on: sorting floats, sums of logarithms, the
//! standard normal, the 1-D spacing entropy, sample moments, linear-algebra glue, tied
//! values, and the cache and shipped tables of simulated null distributions.

mod linalg;
mod ln_sum;
pub(crate) mod normal;
mod null_cache;
pub(crate) mod null_table;
mod sort;
mod spacing;
mod stats;
mod ties;

pub(crate) use linalg::{apply_affine, descending_eigen, from_nalgebra, full_rank, linearly_dependent, to_nalgebra};
pub(crate) use ln_sum::LnSum;
#[cfg(feature = "internals")]
pub(crate) use null_cache::registry::clear_null_caches;
#[cfg(feature = "internals")]
pub(crate) use null_cache::use_disk_cache;
pub(crate) use null_cache::NullCache;
pub(crate) use null_table::between_sizes;
pub(crate) use sort::{argsort_floats, sort_floats};
pub(crate) use spacing::{spacing_entropy, spacing_floor, spacing_window};
pub(crate) use stats::{
    correlation, ln_sd, mean_and_covariance, mean_var, population_mean_var, row_magnitudes, variance_about,
};
pub(crate) use ties::{equal_runs, lattice_step, spread_ties, spread_ties_keeping_relations};

/// Samples per parallel work item in the per-sample loops. Fixed (not derived from the
/// thread count) so results never depend on how many threads run.
pub(crate) const CHUNK: usize = 4096;
