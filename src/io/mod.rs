//! Reading and writing data matrices (CSV, TSV, `.npy`), and writing files atomically.
//! The model file is the model's own (see [`crate::Rbig::save`]).

mod atomic;
mod matrix;
mod memory;

pub(crate) use atomic::write_atomic;
pub use atomic::{remove_unfinished_outputs, OutputFile};
pub use matrix::{format_number, read_matrix, read_table, write_csv, write_matrix, write_table, Header, Table};
#[cfg(feature = "internals")]
pub use matrix::{parse_csv_bytes, parse_npy_bytes};
pub use memory::available_memory;

use std::path::Path;

use crate::error::RbigError;

/// An I/O failure on `path`.
pub(crate) fn io_error(path: &Path, source: std::io::Error) -> RbigError {
    RbigError::Io { path: path.to_path_buf(), source }
}
