//! Reading a command's data: the header's names, `--columns`, and matching a data file's
//! columns to a model's by name.

use std::path::Path;

use ndarray::{Array2, Axis};
use rbig::io::{read_table, Header};
use rbig::Rbig;

use crate::args::DataArgs;
use crate::commands::{usage, Failure};

/// A data file's values and, when it has a header, its column names.
pub(crate) struct Data {
    pub(crate) x: Array2<f64>,
    pub(crate) names: Option<Vec<String>>,
}

impl Data {
    /// The columns at `indices` (zero-based), in that order.
    pub(crate) fn pick(&self, indices: &[usize]) -> Data {
        Data {
            x: self.x.select(Axis(1), indices),
            names: self.names.as_ref().map(|n| indices.iter().map(|&i| n[i].clone()).collect()),
        }
    }

    /// Zero-based indices of the columns named in `list` (see [`resolve`]).
    pub(crate) fn resolve(&self, list: &[String], path: &Path, flag: &str) -> Result<Vec<usize>, Failure> {
        resolve(self.names.as_deref(), self.x.ncols(), list, path, flag)
    }
}

/// Reads `path` as `args` say: the header mode, then `--columns`. A dropped pandas
/// index column is reported on stderr (unless `quiet`).
pub(crate) fn read(path: &Path, args: &DataArgs, quiet: bool) -> Result<Data, Failure> {
    let mode = match (args.header, args.no_header) {
        (true, _) => Header::Present,
        (_, true) => Header::Absent,
        _ => Header::Detect,
    };
    let table = read_table(path, mode)?;
    if table.index_dropped && !quiet {
        eprintln!(
            "rbig: note: {}: the first column has a blank header, as pandas writes its index: left out (--header keeps it)",
            path.display()
        );
    }
    let data = Data { x: table.data, names: table.names };
    match &args.columns {
        Some(list) => Ok(data.pick(&data.resolve(list, path, "--columns")?)),
        None => Ok(data),
    }
}

/// Zero-based indices of the columns named in `list`, among `d` columns with `names`:
/// header names, or numbers counted from 1.
pub(crate) fn resolve(
    names: Option<&[String]>,
    d: usize,
    list: &[String],
    path: &Path,
    flag: &str,
) -> Result<Vec<usize>, Failure> {
    let mut indices = Vec::with_capacity(list.len());
    for item in list.iter().map(|s| s.trim()) {
        let by_name = names.and_then(|n| n.iter().position(|name| name == item));
        let by_number = || item.parse::<usize>().ok().filter(|&k| (1..=d).contains(&k)).map(|k| k - 1);
        let Some(i) = by_name.or_else(by_number) else {
            let known = match names {
                Some(n) => format!("its columns: {}, or numbers 1 to {d}", n.join(", ")),
                None => format!("it has no header; columns are numbered 1 to {d}"),
            };
            return Err(usage(format!("{flag}: {} has no column {item:?} ({known})", path.display())));
        };
        if indices.contains(&i) {
            return Err(usage(format!("{flag}: column {item:?} is chosen twice")));
        }
        indices.push(i);
    }
    if indices.is_empty() {
        return Err(usage(format!("{flag}: no columns given")));
    }
    Ok(indices)
}

/// Reads `path` for use with `model`: when both have names and no `--columns` is
/// given, the model's columns are found by name (prefixed by `prefix`: `z_` for the
/// output of `transform`), whatever their order in the file; otherwise by position.
pub(crate) fn read_for_model(
    path: &Path,
    args: &DataArgs,
    model: &Rbig,
    prefix: &str,
    quiet: bool,
) -> Result<Data, Failure> {
    let data = read(path, args, quiet)?;
    let (Some(wanted), Some(header)) = (model.column_names(), &data.names) else {
        return Ok(data);
    };
    if args.columns.is_some() {
        return Ok(data);
    }
    let wanted: Vec<String> = wanted.iter().map(|n| format!("{prefix}{n}")).collect();
    if header == &wanted {
        return Ok(data);
    }
    let missing: Vec<&str> = wanted.iter().filter(|w| !header.contains(w)).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(usage(format!(
            "{}: no column named {} (the model's columns are {}); choose columns by number with --columns, \
             or read the file without its header with --no-header",
            path.display(),
            missing.join(", "),
            wanted.join(", ")
        )));
    }
    if !quiet {
        eprintln!("rbig: note: {}: the model's columns taken by name ({})", path.display(), wanted.join(", "));
    }
    Ok(data.pick(&data.resolve(&wanted, path, "the model's columns")?))
}
