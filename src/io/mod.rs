//! Reading and writing files: data matrices (CSV, TSV, `.npy`) and model files.

mod matrix;
pub(crate) mod model_file;

pub use matrix::{read_matrix, write_csv, write_matrix};
pub(crate) use model_file::write_atomic;
pub use model_file::FORMAT_VERSION;
