//! Reading and writing files: data matrices (CSV, TSV, `.npy`) and model files.

mod atomic;
mod matrix;
pub(crate) mod model_file;

pub(crate) use atomic::write_atomic;
#[doc(hidden)]
pub use matrix::{parse_csv_bytes, parse_npy_bytes};
pub use matrix::{read_matrix, write_csv, write_matrix};
pub use model_file::FORMAT_VERSION;
