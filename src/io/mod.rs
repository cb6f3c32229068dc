//! Reading and writing data matrices (CSV, TSV, `.npy`), and writing files atomically.
//! The model file is the model's own (see [`crate::Rbig::save`]).

mod atomic;
mod matrix;

pub(crate) use atomic::write_atomic;
pub use atomic::{remove_unfinished_outputs, OutputFile};
#[cfg(feature = "internals")]
pub use matrix::{parse_csv_bytes, parse_npy_bytes};
pub use matrix::{read_matrix, write_csv, write_matrix};
