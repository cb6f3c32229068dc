//! Fits RBIG to a CSV file (no header, rows = samples) and reports, as one JSON line,
//! the model size, the total correlation and the mean log-density of the training rows
//! and, if a second file is given, of held-out rows.
//!
//! ```text
//! cargo run --release --example fit_csv -- data/magic/train.csv data/magic/test.csv
//! ```

use std::time::Instant;

use ndarray::Array2;
use rbig::Rbig;

fn read_csv(path: &str) -> Result<Array2<f64>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut values = Vec::new();
    let mut cols = None;
    for (line_no, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let row: Vec<f64> = line
            .split(',')
            .enumerate()
            .map(|(c, cell)| {
                cell.trim().parse::<f64>().map_err(|e| format!("{path}: line {}, column {}: {e}", line_no + 1, c + 1))
            })
            .collect::<Result<_, _>>()?;
        if *cols.get_or_insert(row.len()) != row.len() {
            return Err(
                format!("{path}: line {} has {} cells, expected {}", line_no + 1, row.len(), cols.unwrap()).into()
            );
        }
        values.extend(row);
    }
    let cols = cols.ok_or_else(|| format!("{path}: no data"))?;
    Ok(Array2::from_shape_vec((values.len() / cols, cols), values)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(train_path) = args.first() else {
        return Err("usage: fit_csv TRAIN.csv [TEST.csv]".into());
    };
    let train = read_csv(train_path)?;
    let start = Instant::now();
    let model = Rbig::fit(&train)?;
    let seconds = start.elapsed().as_secs_f64();
    let mut report = serde_json::json!({
        "n": train.nrows(),
        "d": train.ncols(),
        "layers": model.n_layers(),
        "total_correlation": model.total_correlation(),
        "units": "nats",
        "train_mean_log_density": model.log_density(&train)?.mean(),
        "seconds": seconds,
    });
    if let Some(test_path) = args.get(1) {
        let test = read_csv(test_path)?;
        report["test_mean_log_density"] = serde_json::json!(model.log_density(&test)?.mean());
    }
    println!("{report}");
    Ok(())
}
