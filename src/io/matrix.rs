//! Data files: CSV/TSV text and NumPy `.npy`, rows = samples.
//!
//! Text files may start with a header row (a first row in which no cell is a number is
//! skipped) and contain `#` comment lines; the delimiter is a tab for `.tsv`/`.tab`
//! files or when the first line has tabs but no commas, a comma otherwise. `.npy` files
//! may hold `f64` or `f32`, in C or Fortran order, 2-D (or 1-D: one column).
//!
//! Every value must be a finite number: an empty cell, `NaN`, `inf` or text is an error
//! naming the file, line and column. Written numbers use the shortest representation
//! that reads back to the same `f64`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use ndarray::{Array1, Array2, ArrayView2};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};

use crate::error::{RbigError, Result};
use crate::io::write_atomic;

fn unreadable(path: &Path, reason: impl std::fmt::Display) -> RbigError {
    RbigError::UnreadableData { path: path.to_path_buf(), reason: reason.to_string() }
}

fn is_npy(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

/// Reads a data file (`.npy` by extension, CSV/TSV otherwise) into an `n × d` matrix.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("rbig-doc-read-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("x.csv");
/// std::fs::write(&path, "# a comment\nheight,weight\n1.5,60\n1.8,82.5\n")?;
/// let x = rbig::io::read_matrix(&path)?;
/// assert_eq!(x, ndarray::array![[1.5, 60.0], [1.8, 82.5]]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`RbigError::BadCell`], [`RbigError::RaggedRow`], [`RbigError::UnreadableData`] (no
/// rows, malformed `.npy`, wrong element type) and [`RbigError::Io`].
pub fn read_matrix(path: impl AsRef<Path>) -> Result<Array2<f64>> {
    let path = path.as_ref();
    if is_npy(path) {
        read_npy(path)
    } else {
        read_text(path)
    }
}

fn read_npy(path: &Path) -> Result<Array2<f64>> {
    // Straight from the file into the array: a large file is never held twice (once as
    // bytes, once parsed). Each element type is tried on a fresh reader; a wrong type
    // is detected in the header, before any data are read.
    let open = || {
        std::fs::File::open(path)
            .map(BufReader::new)
            .map_err(|source| RbigError::Io { path: path.to_path_buf(), source })
    };
    decode_npy(open, path)
}

/// Parses the bytes of a `.npy` file as [`read_matrix`] does (for fuzzing the parser).
#[cfg(feature = "internals")]
pub fn parse_npy_bytes(bytes: &[u8]) -> Result<Array2<f64>> {
    decode_npy(|| Ok(bytes), Path::new("<bytes>"))
}

fn decode_npy<R: std::io::Read>(mut open: impl FnMut() -> Result<R>, path: &Path) -> Result<Array2<f64>> {
    let column = |v: Array1<f64>| v.insert_axis(ndarray::Axis(1));
    let mut last_error = String::new();
    let mut matrix = None;
    for kind in 0..4 {
        let reader = open()?;
        let decoded = match kind {
            0 => Array2::<f64>::read_npy(reader),
            1 => Array2::<f32>::read_npy(reader).map(|m| m.mapv(f64::from)),
            2 => Array1::<f64>::read_npy(reader).map(column),
            _ => Array1::<f32>::read_npy(reader).map(|v| column(v.mapv(f64::from))),
        };
        match decoded {
            Ok(m) => {
                matrix = Some(m);
                break;
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    let matrix =
        matrix.ok_or_else(|| unreadable(path, format!("not a 1-D or 2-D .npy array of f64 or f32 ({last_error})")))?;
    if let Some(((r, c), v)) = matrix.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(RbigError::BadCell {
            path: path.to_path_buf(),
            line: r as u64 + 1,
            column: c + 1,
            content: v.to_string(),
        });
    }
    if matrix.nrows() == 0 || matrix.ncols() == 0 {
        return Err(unreadable(path, "no data"));
    }
    // A Fortran-order array is returned as it is (every consumer takes any layout):
    // converting it would hold a second copy.
    Ok(matrix)
}

fn delimiter(path: &Path) -> Result<u8> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv") || e.eq_ignore_ascii_case("tab")) {
        return Ok(b'\t');
    }
    let file = std::fs::File::open(path).map_err(|source| RbigError::Io { path: path.to_path_buf(), source })?;
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|source| RbigError::Io { path: path.to_path_buf(), source })?;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        return Ok(if t.contains('\t') && !t.contains(',') { b'\t' } else { b',' });
    }
    Ok(b',')
}

fn parse_cell(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn read_text(path: &Path) -> Result<Array2<f64>> {
    let delim = delimiter(path)?;
    let file = std::fs::File::open(path).map_err(|source| RbigError::Io { path: path.to_path_buf(), source })?;
    decode_text(file, delim, path)
}

/// Parses CSV text as [`read_matrix`] does for a `.csv` file (for fuzzing the parser).
#[cfg(feature = "internals")]
pub fn parse_csv_bytes(bytes: &[u8]) -> Result<Array2<f64>> {
    decode_text(bytes, b',', Path::new("<bytes>"))
}

fn decode_text(input: impl std::io::Read, delim: u8, path: &Path) -> Result<Array2<f64>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delim)
        .comment(Some(b'#'))
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let mut values = Vec::new();
    let mut width = None;
    let mut first = true;
    for record in reader.records() {
        let record = record.map_err(|e| unreadable(path, e))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record[0].is_empty() {
            continue; // blank line
        }
        if std::mem::take(&mut first) && record.iter().all(|c| parse_cell(c).is_none() && c.parse::<f64>().is_err()) {
            continue; // header
        }
        let expected = *width.get_or_insert(record.len());
        if record.len() != expected {
            return Err(RbigError::RaggedRow { path: path.to_path_buf(), line, expected, found: record.len() });
        }
        for (c, cell) in record.iter().enumerate() {
            let v = parse_cell(cell).ok_or_else(|| RbigError::BadCell {
                path: path.to_path_buf(),
                line,
                column: c + 1,
                content: cell.to_string(),
            })?;
            values.push(v);
        }
    }
    let width = width.ok_or_else(|| unreadable(path, "no data rows"))?;
    Array2::from_shape_vec((values.len() / width, width), values).map_err(|e| unreadable(path, e))
}

/// Writes a matrix as CSV text (one row per line, shortest round-trip numbers).
pub fn write_csv<W: Write>(mut out: W, x: ArrayView2<'_, f64>) -> std::io::Result<()> {
    let mut line = String::new();
    for row in x.rows() {
        line.clear();
        for (j, v) in row.iter().enumerate() {
            if j > 0 {
                line.push(',');
            }
            line.push_str(&v.to_string());
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

/// Writes a matrix to `path`: `.npy` (f64, C order) by extension, CSV otherwise.
/// Atomic (temporary file, then rename); an existing file is replaced only with
/// `overwrite` ([`RbigError::FileExists`] otherwise).
pub fn write_matrix(path: impl AsRef<Path>, x: ArrayView2<'_, f64>, overwrite: bool) -> Result<()> {
    let path = path.as_ref();
    let mut bytes = Vec::new();
    if is_npy(path) {
        x.as_standard_layout().write_npy(&mut bytes).map_err(|e| unreadable(path, e))?;
    } else {
        write_csv(&mut bytes, x).expect("writing to memory cannot fail");
    }
    write_atomic(path, &bytes, overwrite)
}
