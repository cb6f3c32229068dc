//! The library's errors as Python exceptions of the `rbig.exceptions` hierarchy.
//!
//! The classes are defined in Python (`rbig/exceptions.py`), where multiple inheritance
//! is natural: a data problem is both an `rbig.RbigError` and a `ValueError`, so
//! `except ValueError` works as scikit-learn users expect.

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use rbig::RbigError;

/// The Python exception for `error`: its class from `rbig.exceptions`, its message the
/// library's, and for a non-finite input cell the zero-based `row` and `column`.
pub(crate) fn to_py(error: RbigError) -> PyErr {
    if matches!(error, RbigError::Cancelled) {
        return PyKeyboardInterrupt::new_err("rbig: interrupted");
    }
    Python::attach(|py| build(py, &error).unwrap_or_else(|e| e))
}

fn build(py: Python<'_>, error: &RbigError) -> PyResult<PyErr> {
    let class_name = match error {
        RbigError::TooFewRows { .. }
        | RbigError::NoColumns
        | RbigError::NonFinite { .. }
        | RbigError::ConstantColumn { .. }
        | RbigError::NarrowColumn { .. }
        | RbigError::UnresolvableColumn { .. }
        | RbigError::Degenerate { .. }
        | RbigError::NumericOverflow { .. }
        | RbigError::DimensionMismatch { .. }
        | RbigError::OutOfRange { .. }
        | RbigError::RowMismatch { .. }
        | RbigError::ColumnMismatch { .. } => "DataError",
        RbigError::InvalidParameter { .. } | RbigError::Linfa(_) => "ParameterError",
        RbigError::NotAModel | RbigError::UnsupportedVersion { .. } | RbigError::CorruptModel(_) => "ModelFileError",
        RbigError::MemoryLimit { .. } => "MemoryLimitError",
        RbigError::FileExists(_) => "ModelExistsError",
        RbigError::Io { .. }
        | RbigError::BadCell { .. }
        | RbigError::RaggedRow { .. }
        | RbigError::UnreadableData { .. } => "RbigOSError",
        // Variants added to the library later: still an `rbig.RbigError`.
        _ => "RbigError",
    };
    let class = py.import("rbig.exceptions")?.getattr(class_name)?;
    let message = match error {
        RbigError::NonFinite { row, column, .. } => format!("{error} (X[{row}, {column}])"),
        _ => error.to_string(),
    };
    let instance = class.call1((message,))?;
    if let RbigError::NonFinite { row, column, .. } = error {
        instance.setattr("row", row)?;
        instance.setattr("column", column)?;
    }
    Ok(PyErr::from_value(instance))
}
