//! Data files: CSV/TSV text and NumPy `.npy`, rows = samples.
//!
//! Text files may start with a header row of column names (by default, a first row in
//! which no cell is a number; see [`Header`]) and contain `#` comment lines; the delimiter is a tab for `.tsv`/`.tab`
//! files or when the first line has tabs but no commas, a comma otherwise. `.npy` files
//! may hold floats (`f64`, `f32`), integers or booleans, in C or Fortran order, 2-D (or
//! 1-D: one column). `-` is standard input.
//!
//! Every value must be a finite number: an empty cell, `NaN`, `inf` or text is an error
//! naming the file, line and column. Written numbers use the shortest representation
//! that reads back to the same `f64`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use ndarray::{Array1, Array2, ArrayView2, Axis};
use ndarray_npy::{ReadNpyError, ReadNpyExt, ReadableElement, WriteNpyExt};

use crate::error::{RbigError, Result};
use crate::io::{io_error, OutputFile};

fn unreadable(path: &Path, reason: impl std::fmt::Display) -> RbigError {
    RbigError::UnreadableData { path: path.to_path_buf(), reason: reason.to_string() }
}

fn is_npy(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

/// Whether a text file's first row holds column names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Header {
    /// A first row in which no cell is a number holds names. When its first cell is
    /// blank and every other is not, as pandas writes a frame with its index
    /// (`df.to_csv()`), the first column is the index: dropped, and reported in
    /// [`Table::index_dropped`].
    #[default]
    Detect,
    /// The first row holds names, whatever they look like (no index detection).
    Present,
    /// Every row is data.
    Absent,
}

/// A data file read with its column names.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The values, rows = samples.
    pub data: Array2<f64>,
    /// The header's names, one per column of `data`, when the file has a header (a
    /// blank name becomes `column<j>`, counted from 1).
    pub names: Option<Vec<String>>,
    /// Whether a pandas index column (blank header cell) was dropped.
    pub index_dropped: bool,
}

/// Reads a data file into an `n × d` matrix: `.npy` by extension or by its magic
/// bytes, CSV/TSV otherwise. `-` reads standard input; pipes and FIFOs are read once,
/// front to back, so they give exactly what the same bytes in a file give.
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
/// rows; a `.npy` that is malformed, not 1-D or 2-D, of an unsupported element type, or
/// whose declared shape does not match its length; a `.npz` archive) and
/// [`RbigError::Io`].
pub fn read_matrix(path: impl AsRef<Path>) -> Result<Array2<f64>> {
    read_table(path, Header::Detect).map(|t| t.data)
}

/// Reads a data file as [`read_matrix`] does, with the column names of a text file's
/// header (`.npy` files have none).
///
/// ```
/// use rbig::io::{read_table, Header};
/// let dir = std::env::temp_dir().join(format!("rbig-doc-table-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("frame.csv");
/// std::fs::write(&path, ",height,weight\n0,1.5,60\n1,1.8,82.5\n")?; // pandas' to_csv()
/// let table = read_table(&path, Header::Detect)?;
/// assert_eq!(table.names.unwrap(), ["height", "weight"]);
/// assert!(table.index_dropped);
/// assert_eq!(table.data, ndarray::array![[1.5, 60.0], [1.8, 82.5]]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`read_matrix`]; with [`Header::Absent`], a first row that is not numbers is a
/// [`RbigError::BadCell`].
pub fn read_table(path: impl AsRef<Path>, header: Header) -> Result<Table> {
    let path = path.as_ref();
    let mut input = open_input(path)?;
    let magic = input.read_prefix(NPY_MAGIC.len() as u64, path)?;
    if magic.starts_with(ZIP_MAGIC) {
        return Err(unreadable(
            path,
            "a zip archive (.npz?): save one array with numpy.save (np.save('x.npy', np.load(f)['name']))",
        ));
    }
    if is_npy(path) || magic == NPY_MAGIC {
        decode_npy(input, magic, path).map(|data| Table { data, names: None, index_dropped: false })
    } else {
        read_text(input, magic, path, header)
    }
}

/// An input opened once: a file, or standard input for `-`. Whatever is read to sniff
/// the format is handed back in front of the rest, so pipes and FIFOs (which cannot be
/// reopened) lose nothing.
struct Input {
    reader: Box<dyn Read>,
    /// Bytes left to read, when the input is a regular file (its length is known).
    remaining: Option<u64>,
}

fn open_input(path: &Path) -> Result<Input> {
    if path == Path::new("-") {
        return Ok(Input { reader: Box::new(std::io::stdin().lock()), remaining: None });
    }
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    if meta.is_dir() {
        return Err(unreadable(path, "a directory, not a data file"));
    }
    let remaining = meta.is_file().then_some(meta.len());
    Ok(Input { reader: Box::new(file), remaining })
}

impl Input {
    /// Reads up to `n` bytes (fewer only at the end of the input), allocating only what
    /// arrives: `n` may come from a corrupt header.
    fn read_prefix(&mut self, n: u64, path: &Path) -> Result<Vec<u8>> {
        let mut prefix = Vec::new();
        (&mut self.reader).take(n).read_to_end(&mut prefix).map_err(|source| io_error(path, source))?;
        if let Some(r) = &mut self.remaining {
            *r = r.saturating_sub(prefix.len() as u64);
        }
        Ok(prefix)
    }

    /// The whole input again, `consumed` first.
    fn rewound(self, consumed: Vec<u8>) -> impl Read {
        std::io::Cursor::new(consumed).chain(self.reader)
    }
}

const NPY_MAGIC: &[u8] = b"\x93NUMPY";
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// Largest `.npy` header accepted (NumPy writes a few hundred bytes).
const MAX_NPY_HEADER: u64 = 1 << 20;

/// Parses the bytes of a `.npy` file as [`read_matrix`] does (for fuzzing the parser).
#[cfg(feature = "internals")]
pub fn parse_npy_bytes(bytes: &[u8]) -> Result<Array2<f64>> {
    let path = Path::new("<bytes>");
    let mut input =
        Input { reader: Box::new(std::io::Cursor::new(bytes.to_vec())), remaining: Some(bytes.len() as u64) };
    let magic = input.read_prefix(NPY_MAGIC.len() as u64, path)?;
    decode_npy(input, magic, path)
}

/// The `.npy` element types read (and converted to `f64`).
#[derive(Debug, Clone, Copy)]
enum Element {
    F64,
    F32,
    I64,
    I32,
    I16,
    I8,
    U64,
    U32,
    U16,
    U8,
    Bool,
}

impl Element {
    /// Bytes per element.
    fn size(self) -> u64 {
        use Element::*;
        match self {
            F64 | I64 | U64 => 8,
            F32 | I32 | U32 => 4,
            I16 | U16 => 2,
            I8 | U8 | Bool => 1,
        }
    }
}

/// What a `.npy` header declares.
struct NpyHeader {
    descr: String,
    shape: Vec<usize>,
}

impl NpyHeader {
    /// Parses the header dictionary, e.g. `{'descr': '<f8', 'fortran_order': False,
    /// 'shape': (3, 2), }`.
    fn parse(text: &str) -> std::result::Result<Self, String> {
        let value_after = |key: &str| {
            let at = text.find(&format!("'{key}'")).ok_or(format!("no '{key}' in the header"))?;
            let rest = text[at + key.len() + 2..].trim_start();
            rest.strip_prefix(':').map(str::trim_start).ok_or(format!("malformed '{key}' in the header"))
        };
        let descr = value_after("descr")?;
        let descr = descr
            .strip_prefix('\'')
            .and_then(|d| d.split_once('\''))
            .map(|(d, _)| d.to_string())
            .ok_or("the element type is not a simple type (a structured array?)")?;
        let shape = value_after("shape")?;
        let inner = shape
            .strip_prefix('(')
            .and_then(|s| s.split_once(')'))
            .map(|(s, _)| s)
            .ok_or("malformed 'shape' in the header")?;
        let shape = inner
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_end_matches('L').parse::<usize>().map_err(|_| format!("bad dimension '{s}' in the shape")))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Self { descr, shape })
    }

    /// The element type, if it is one this reader converts to `f64`.
    fn element(&self) -> Option<Element> {
        use Element::*;
        Some(match self.descr.trim_start_matches(['<', '>', '|', '=']) {
            "f8" => F64,
            "f4" => F32,
            "i8" => I64,
            "i4" => I32,
            "i2" => I16,
            "i1" | "b" => I8,
            "u8" => U64,
            "u4" => U32,
            "u2" => U16,
            "u1" | "B" => U8,
            "b1" | "?" => Bool,
            _ => return None,
        })
    }

    fn shape_text(&self) -> String {
        let dims: Vec<String> = self.shape.iter().map(usize::to_string).collect();
        format!("({})", dims.join(", "))
    }
}

/// Reads a `.npy` file whose first bytes, `magic`, have been read. The header is
/// checked before any data: the declared shape must be 1-D or 2-D, its element type
/// one of the real types, and its size what the file holds (a corrupt or hostile header
/// cannot make the reader allocate what is not there).
fn decode_npy(mut input: Input, magic: Vec<u8>, path: &Path) -> Result<Array2<f64>> {
    if magic != NPY_MAGIC {
        return Err(unreadable(path, "not a .npy file (it does not start with the NumPy magic bytes)"));
    }
    let version = input.read_prefix(2, path)?;
    let len_bytes = match version.first() {
        Some(1) => 2,
        Some(2 | 3) => 4,
        _ => return Err(unreadable(path, "unknown .npy format version")),
    };
    let len_field = input.read_prefix(len_bytes, path)?;
    if len_field.len() as u64 != len_bytes {
        return Err(unreadable(path, "the .npy header is cut short"));
    }
    let header_len = len_field.iter().rev().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    if header_len > MAX_NPY_HEADER {
        return Err(unreadable(path, format!("the .npy header claims {header_len} bytes: the file is corrupt")));
    }
    let header = input.read_prefix(header_len, path)?;
    if header.len() as u64 != header_len {
        return Err(unreadable(path, "the .npy header is cut short"));
    }
    let text = std::str::from_utf8(&header).map_err(|_| unreadable(path, "the .npy header is not text"))?;
    let declared = NpyHeader::parse(text).map_err(|e| unreadable(path, format!("malformed .npy header: {e}")))?;
    let shape = declared.shape_text();
    if declared.shape.is_empty() || declared.shape.len() > 2 {
        return Err(unreadable(
            path,
            format!(
                "a {}-D array of shape {shape}: save a 2-D array (rows = samples) or a 1-D one",
                declared.shape.len()
            ),
        ));
    }
    let element = declared.element().ok_or_else(|| {
        unreadable(
            path,
            format!("element type '{}' is not supported: save floats, integers or booleans", declared.descr),
        )
    })?;
    let item = element.size();
    let data_len = declared
        .shape
        .iter()
        .try_fold(item, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| unreadable(path, format!("the declared shape {shape} overflows")))?;
    let mismatch = |found: u64| {
        unreadable(
            path,
            format!(
                "declares shape {shape} of '{}' ({data_len} bytes) but holds {found} bytes of data",
                declared.descr
            ),
        )
    };
    if let Some(found) = input.remaining.filter(|&found| found != data_len) {
        return Err(mismatch(found));
    }
    // The matrix of f64 it becomes (beside the file's own elements, if they convert).
    let needed = (data_len / item).saturating_mul(8).saturating_add(if item == 8 { 0 } else { data_len });
    if let Some(available) = crate::io::available_memory().filter(|&a| needed > a) {
        return Err(unreadable(
            path,
            format!(
                "holds {shape} values, {:.1} GB as f64, more than the {:.1} GB of memory available",
                needed as f64 / 1e9,
                available as f64 / 1e9
            ),
        ));
    }
    let mut consumed = magic;
    consumed.extend_from_slice(&version);
    consumed.extend_from_slice(&len_field);
    consumed.extend_from_slice(&header);
    let one_d = declared.shape.len() == 1;
    let decoded = match input.remaining {
        Some(_) => decode_npy_data(input.rewound(consumed), element, one_d),
        None => {
            // A pipe's length is known only by reading it: read at most what is declared
            // (and one byte more, to tell that it is longer), growing as bytes arrive.
            let data = input.read_prefix(data_len.saturating_add(1), path)?;
            if data.len() as u64 != data_len {
                return Err(mismatch(data.len() as u64));
            }
            decode_npy_data(std::io::Cursor::new(consumed).chain(std::io::Cursor::new(data)), element, one_d)
        }
    };
    let matrix = decoded.map_err(|e| unreadable(path, format!("malformed .npy file: {e}")))?;
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

/// Decodes a whole `.npy` stream whose header has been checked, converting its
/// elements to `f64` (integers beyond 2⁵³ round; booleans are 0 and 1).
fn decode_npy_data(reader: impl Read, element: Element, one_d: bool) -> std::result::Result<Array2<f64>, ReadNpyError> {
    fn read<T: ReadableElement + Clone>(
        reader: impl Read,
        one_d: bool,
        to_f64: fn(T) -> f64,
    ) -> std::result::Result<Array2<f64>, ReadNpyError> {
        if one_d {
            Array1::<T>::read_npy(reader).map(|v| v.mapv(to_f64).insert_axis(Axis(1)))
        } else {
            Array2::<T>::read_npy(reader).map(|m| m.mapv(to_f64))
        }
    }
    match element {
        // Straight into the array: a large file is never held twice.
        Element::F64 if one_d => Array1::<f64>::read_npy(reader).map(|v| v.insert_axis(Axis(1))),
        Element::F64 => Array2::<f64>::read_npy(reader),
        Element::F32 => read(reader, one_d, |v: f32| f64::from(v)),
        Element::I64 => read(reader, one_d, |v: i64| v as f64),
        Element::I32 => read(reader, one_d, |v: i32| f64::from(v)),
        Element::I16 => read(reader, one_d, |v: i16| f64::from(v)),
        Element::I8 => read(reader, one_d, |v: i8| f64::from(v)),
        Element::U64 => read(reader, one_d, |v: u64| v as f64),
        Element::U32 => read(reader, one_d, |v: u32| f64::from(v)),
        Element::U16 => read(reader, one_d, |v: u16| f64::from(v)),
        Element::U8 => read(reader, one_d, |v: u8| f64::from(v)),
        Element::Bool => read(reader, one_d, |v: bool| f64::from(u8::from(v))),
    }
}

/// The delimiter of a text file: a tab for `.tsv`/`.tab` files or when the first data
/// line has tabs but no commas, a comma otherwise.
fn text_delimiter(path: &Path, first_line: &[u8]) -> u8 {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv") || e.eq_ignore_ascii_case("tab")) {
        return b'\t';
    }
    if first_line.contains(&b'\t') && !first_line.contains(&b',') {
        b'\t'
    } else {
        b','
    }
}

/// A bad cell as an error shows it: whole if short, else its start and its length (a
/// 100 MB cell is not echoed into a terminal).
fn excerpt(cell: &str) -> String {
    const SHOWN: usize = 40;
    match cell.char_indices().nth(SHOWN) {
        None => cell.to_string(),
        Some((end, _)) => format!("{}… ({} bytes)", &cell[..end], cell.len()),
    }
}

fn parse_cell(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Reads CSV/TSV text whose first bytes, `start`, have been read: the lines up to the
/// first data line are read to choose the delimiter, then everything is parsed from
/// the start.
fn read_text(input: Input, start: Vec<u8>, path: &Path, header: Header) -> Result<Table> {
    let mut reader = BufReader::new(input.reader);
    let mut consumed = start;
    let mut line_start = 0;
    // The line the sniffed prefix ends in continues in the reader.
    let first_line = loop {
        if let Some(end) = consumed[line_start..].iter().position(|&b| b == b'\n') {
            let line = consumed[line_start..line_start + end].trim_ascii();
            line_start += end + 1;
            if !line.is_empty() && !line.starts_with(b"#") {
                break line.to_vec();
            }
            continue;
        }
        let before = consumed.len();
        reader.read_until(b'\n', &mut consumed).map_err(|source| io_error(path, source))?;
        if consumed.len() == before {
            // The end: the last line, unterminated, if any.
            break consumed[line_start..].trim_ascii().to_vec();
        }
    };
    let delim = text_delimiter(path, &first_line);
    decode_text(std::io::Cursor::new(consumed).chain(reader), delim, path, header)
}

/// Parses CSV text as [`read_matrix`] does for a `.csv` file (for fuzzing the parser).
#[cfg(feature = "internals")]
pub fn parse_csv_bytes(bytes: &[u8]) -> Result<Array2<f64>> {
    decode_text(bytes, b',', Path::new("<bytes>"), Header::Detect).map(|t| t.data)
}

fn decode_text(input: impl std::io::Read, delim: u8, path: &Path, header: Header) -> Result<Table> {
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
    let mut names = None;
    let mut index_dropped = false;
    for record in reader.records() {
        let record = record.map_err(|e| unreadable(path, e))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record[0].is_empty() {
            continue; // blank line
        }
        if std::mem::take(&mut first) {
            let words = record.iter().all(|c| parse_cell(c).is_none() && c.parse::<f64>().is_err());
            if header == Header::Present || header == Header::Detect && words {
                let mut cells: Vec<&str> = record.iter().collect();
                index_dropped = header == Header::Detect
                    && cells.len() > 1
                    && cells[0].is_empty()
                    && cells[1..].iter().all(|c| !c.is_empty());
                if index_dropped {
                    cells.remove(0);
                }
                let named = cells.iter().enumerate();
                names = Some(
                    named.map(|(j, c)| if c.is_empty() { format!("column{}", j + 1) } else { c.to_string() }).collect(),
                );
                continue;
            }
        }
        let cells = record.iter().skip(usize::from(index_dropped));
        let found = record.len() - usize::from(index_dropped);
        let expected = *width.get_or_insert(found);
        if found != expected {
            let shift = usize::from(index_dropped);
            return Err(RbigError::RaggedRow {
                path: path.to_path_buf(),
                line,
                expected: expected + shift,
                found: record.len(),
            });
        }
        for (c, cell) in cells.enumerate() {
            let v = parse_cell(cell).ok_or_else(|| RbigError::BadCell {
                path: path.to_path_buf(),
                line,
                column: c + 1 + usize::from(index_dropped),
                content: excerpt(cell),
            })?;
            values.push(v);
        }
    }
    let width = width.ok_or_else(|| unreadable(path, "no data rows"))?;
    if let Some(n) = names.as_ref().map(Vec::len).filter(|&n| n != width) {
        return Err(unreadable(path, format!("the header names {n} columns, the rows have {width}")));
    }
    let data = Array2::from_shape_vec((values.len() / width, width), values).map_err(|e| unreadable(path, e))?;
    Ok(Table { data, names, index_dropped })
}

/// The shortest text that reads back to `v`: positional between 1e-5 and 1e16 (as
/// people write them), with an exponent beyond (`1e200`, not 201 digits).
///
/// ```
/// assert_eq!(rbig::io::format_number(0.25), "0.25");
/// assert_eq!(rbig::io::format_number(-1.7e308), "-1.7e308");
/// ```
pub fn format_number(v: f64) -> String {
    let magnitude = v.abs();
    if magnitude == 0.0 || (1e-5..1e16).contains(&magnitude) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// Writes a matrix as CSV text (one row per line, shortest round-trip numbers).
pub fn write_csv<W: Write>(out: W, x: ArrayView2<'_, f64>) -> std::io::Result<()> {
    write_table(out, x, None)
}

/// Writes a matrix as CSV text as [`write_csv`] does, after a header line of `names`
/// when given (quoted where CSV needs it).
///
/// ```
/// let mut out = Vec::new();
/// let names = ["a".to_string(), "b, c".to_string()];
/// rbig::io::write_table(&mut out, ndarray::array![[1.0, 0.5]].view(), Some(&names))?;
/// assert_eq!(String::from_utf8(out).unwrap(), "a,\"b, c\"\n1,0.5\n");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_table<W: Write>(mut out: W, x: ArrayView2<'_, f64>, names: Option<&[String]>) -> std::io::Result<()> {
    if let Some(names) = names {
        let mut header = csv::Writer::from_writer(Vec::new());
        header.write_record(names).map_err(std::io::Error::other)?;
        out.write_all(&header.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?)?;
    }
    let mut line = String::new();
    for row in x.rows() {
        line.clear();
        for (j, v) in row.iter().enumerate() {
            if j > 0 {
                line.push(',');
            }
            line.push_str(&format_number(*v));
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

/// Writes a matrix to `path`: `.npy` (f64, C order) by extension, CSV otherwise.
/// Atomic (temporary file, then rename); an existing file is replaced only with
/// `overwrite` ([`RbigError::FileExists`] otherwise). See [`OutputFile`].
pub fn write_matrix(path: impl AsRef<Path>, x: ArrayView2<'_, f64>, overwrite: bool) -> Result<()> {
    OutputFile::create(path, overwrite)?.commit_matrix(x)
}

impl OutputFile {
    /// Writes `x` as [`write_matrix`] does (`.npy` if the target's name ends in `.npy`,
    /// CSV otherwise) and moves it into place.
    ///
    /// # Errors
    /// As [`OutputFile::commit`].
    pub fn commit_matrix(self, x: ArrayView2<'_, f64>) -> Result<()> {
        self.commit_table(x, None)
    }

    /// Writes `x` as [`OutputFile::commit_matrix`] does, a CSV file with a header of
    /// `names` when given (`.npy` has no place for names).
    ///
    /// # Errors
    /// As [`OutputFile::commit`].
    pub fn commit_table(self, x: ArrayView2<'_, f64>, names: Option<&[String]>) -> Result<()> {
        let mut bytes = Vec::new();
        if is_npy(self.path()) {
            x.as_standard_layout().write_npy(&mut bytes).map_err(|e| unreadable(self.path(), e))?;
        } else {
            write_table(&mut bytes, x, names).map_err(|e| io_error(self.path(), e))?;
        }
        self.commit(&bytes)
    }
}
