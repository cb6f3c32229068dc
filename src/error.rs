//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong in `rbig`: bad input, bad parameters, bad model files.
///
/// Every variant names the problem precisely enough to fix it (row and column of a bad
/// value, the expected and found dimensions, the file format version, ...). Indices in
/// the fields are zero-based, as in the arrays; messages count rows and columns from 1,
/// as files and spreadsheets do.
///
/// ```
/// use ndarray::array;
/// use rbig::{Rbig, RbigError};
///
/// let x = array![[1.0, f64::NAN], [2.0, 3.0], [0.5, 1.5]];
/// match Rbig::fit(&x) {
///     Err(RbigError::NonFinite { row, column, .. }) => assert_eq!((row, column), (0, 1)),
///     other => panic!("expected a NonFinite error, got {other:?}"),
/// }
/// ```
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RbigError {
    /// Fitting `d` columns needs at least `d + 1` rows (samples): fewer points always
    /// lie on a lower-dimensional subspace, where no density exists.
    #[error("need at least {needed} rows (samples) to fit {columns} column(s), got {rows}")]
    TooFewRows {
        /// Number of rows received.
        rows: usize,
        /// Number of columns.
        columns: usize,
        /// Rows needed: columns + 1.
        needed: usize,
    },
    /// The data has no columns.
    #[error("the data has no columns")]
    NoColumns,
    /// A value is NaN or infinite.
    #[error("non-finite value {value} at row {}, column {}", .row + 1, .column + 1)]
    NonFinite {
        /// Zero-based row of the offending value.
        row: usize,
        /// Zero-based column of the offending value.
        column: usize,
        /// The value itself (NaN, inf or -inf).
        value: f64,
    },
    /// A column of the training data takes a single value, so it has no density.
    #[error(
        "column {} is constant (every row is {value}): a point mass has no density; \
         drop the column or add noise (dequantize) before fitting",
        .column + 1
    )]
    ConstantColumn {
        /// Zero-based column index.
        column: usize,
        /// The constant value.
        value: f64,
    },
    /// A column's values differ, but by less than floating point can scale (its spread
    /// is in the subnormal range, below about 2e-308).
    #[error(
        "column {} spans only {range:e}, too narrow to work with in floating point; \
         rescale it (multiply by a large constant) before fitting",
        .column + 1
    )]
    NarrowColumn {
        /// Zero-based column index.
        column: usize,
        /// Its range, maximum minus minimum.
        range: f64,
    },
    /// A column's values lie at scales so different (a few outliers hundreds of orders
    /// of magnitude away from the rest) that floating point cannot resolve the bulk on
    /// the outliers' scale.
    #[error(
        "column {} spans from {min:e} to {max:e}, scales too far apart to resolve in \
         floating point; transform it first (a logarithm, or clipping the outliers)",
        .column + 1
    )]
    UnresolvableColumn {
        /// Zero-based column index.
        column: usize,
        /// Its smallest value.
        min: f64,
        /// Its largest value.
        max: f64,
    },
    /// The data lie on a lower-dimensional subspace: a rotated direction had zero spread.
    #[error(
        "the data are degenerate: after layer {layer} a direction has zero spread \
         (columns are exactly collinear or duplicated, or in a small sample one column's \
         ranks determine another's); remove the redundant columns or add samples"
    )]
    Degenerate {
        /// Zero-based layer index where the degeneracy appeared.
        layer: usize,
    },
    /// A result overflowed floating point: the data's values are too large or too far
    /// apart for the arithmetic of a fit (moments near 1e308 overflow).
    #[error(
        "the fit overflowed floating point ({reason}): values this large or this far apart cannot be \
         modelled; rescale the columns (e.g. to unit standard deviation) and fit again"
    )]
    NumericOverflow {
        /// What came out non-finite.
        reason: String,
    },
    /// The number of columns does not match the fitted model.
    #[error("dimension mismatch: the model has {expected} columns, the data has {found}")]
    DimensionMismatch {
        /// Columns the model was fitted on.
        expected: usize,
        /// Columns of the data passed in.
        found: usize,
    },
    /// A row lies so far outside the data the model has seen that its image under the
    /// model leaves the range of `f64` (its density underflows: `log_density` gives
    /// −∞ for it instead of this error).
    #[error(
        "row {} is too far outside the model's data: its transform overflows the \
         range of floating-point numbers",
        .row + 1
    )]
    OutOfRange {
        /// Zero-based index of the first such row.
        row: usize,
    },
    /// The fit would need more memory than the configured limit.
    #[error(
        "the fit needs about {needed} bytes beyond its input, more than the limit of {limit} \
         bytes; use fewer rows or columns, or raise the limit"
    )]
    MemoryLimit {
        /// Estimated bytes needed.
        needed: u64,
        /// The limit.
        limit: u64,
    },
    /// The fit was stopped through its cancel flag (see [`crate::RbigParams::cancel_flag`]).
    #[error("the fit was cancelled")]
    Cancelled,
    /// Two blocks that must share rows do not.
    #[error("row count mismatch: {first} rows versus {second} rows")]
    RowMismatch {
        /// Rows of the first block.
        first: usize,
        /// Rows of the second block.
        second: usize,
    },
    /// Two samples that must share columns do not.
    #[error("column count mismatch: the samples have {first} and {second} columns")]
    ColumnMismatch {
        /// Columns of the first sample.
        first: usize,
        /// Columns of the second sample.
        second: usize,
    },
    /// A parameter is out of its valid range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter's name as in the builder.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The file is not an rbig model file (wrong magic bytes).
    #[error("not an rbig model file (the magic header is missing)")]
    NotAModel,
    /// The model file was written by a newer (or unknown) format version.
    #[error("unsupported model format version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// Version this build reads and writes.
        supported: u32,
    },
    /// The model file is truncated or corrupted.
    #[error("corrupt model file: {0}")]
    CorruptModel(String),
    /// An I/O error, with the path involved.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A cell of a data file is not a finite number.
    #[error("{path}: line {line}, column {column}: {content:?} is not a finite number")]
    BadCell {
        /// The data file.
        path: std::path::PathBuf,
        /// 1-based line of the file (for `.npy`, the 1-based row).
        line: u64,
        /// 1-based column.
        column: usize,
        /// The cell as written (its first 40 characters and its length, if longer).
        content: String,
    },
    /// A row of a data file has a different number of cells than the first one.
    #[error("{path}: line {line} has {found} cells, the first row has {expected}")]
    RaggedRow {
        /// The data file.
        path: std::path::PathBuf,
        /// 1-based line of the file.
        line: u64,
        /// Cells in the first data row.
        expected: usize,
        /// Cells in this row.
        found: usize,
    },
    /// A data file cannot be read as a matrix of numbers.
    #[error("{path}: {reason}")]
    UnreadableData {
        /// The data file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The target file exists and overwriting was not requested.
    #[error("{0}: file exists; refusing to overwrite it")]
    FileExists(std::path::PathBuf),
    /// An error reported by linfa.
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

/// Shorthand for results in this crate.
pub type Result<T> = std::result::Result<T, RbigError>;
