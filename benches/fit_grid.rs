//! The cost of one layer as a multiple of sorting every column once, then fit to
//! convergence over a grid of sizes, on a correlated Gaussian (total correlation
//! known) and on linearly mixed non-Gaussian sources (entropy known). Prints a Markdown
//! table: layers fitted and kept, seconds (median of repeated cold fits), seconds per
//! fitted layer as a multiple of sorting every column once (measured in the same run),
//! the estimate's error, and the model's size on disk.
//!
//! ```text
//! cargo bench --bench fit_grid -- [MAX-N] [ROTATION]
//! ```
//! Defaults: MAX-N = 1000000, ROTATION = pca (or ica, random). About 10 minutes with
//! the defaults, 1 minute with MAX-N = 100000.

use std::time::Instant;

use rbig::internals::{clear_null_cache, sort_rows, LayerStages};
use rbig::{ParamGuard, Rbig, RotationKind};
use rbig_tasks::{factor_gaussian, power_mixed, Quantity, Task};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Times and figures as a first run on a machine gets them: no null simulation read
    // from an earlier process's disk cache.
    rbig::internals::use_disk_cache(false);
    // `cargo bench` adds flags such as `--bench`; the positional arguments are ours.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let max_n: usize = args.first().map(|a| a.parse()).transpose()?.unwrap_or(1_000_000);
    let rotation = match args.get(1).map(String::as_str) {
        None | Some("pca") => RotationKind::Pca,
        Some("ica") => RotationKind::Ica,
        Some("random") => RotationKind::Random,
        Some(other) => return Err(format!("unknown rotation {other}").into()),
    };
    // The layers' own cost: no whitening start, so no second fit to choose it.
    let params = Rbig::params().rotation(rotation).whiten(false).check()?;
    println!("Per-layer cost against sorting every column once (PCA layer; medians of 15 paired runs)\n");
    println!("| n | d | sort every column (ms) | one layer (ms) | ratio |");
    println!("|---|---|---|---|---|");
    for d in [10, 50] {
        layer_ratio(100_000, d);
    }
    println!("\n{rotation:?} rotations, {} threads; seconds are medians of cold fits\n", rayon::current_num_threads());
    println!("| task | n | layers fitted / kept | fit (s) | s per layer | per layer / sort | estimate − truth (nats) | model (KiB) |");
    println!("|---|---|---|---|---|---|---|---|");
    for d in [2usize, 10, 50] {
        for task in [factor_gaussian(d, 0), power_mixed(d, 0)] {
            for n in [1_000usize, 10_000, 100_000, 1_000_000].into_iter().filter(|&n| n <= max_n) {
                row(&task, n, &params)?;
            }
        }
    }
    Ok(())
}

/// Times sorting every column and one whole layer alternately, so both see the same
/// machine load, and prints the medians and the median of the paired ratios.
fn layer_ratio(n: usize, d: usize) {
    let x = factor_gaussian(d, 0).sample(n, 0);
    let stages = LayerStages::new(x.view());
    let (mut sorts, mut layers, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..15 {
        let start = Instant::now();
        std::hint::black_box(stages.sort());
        let sort = start.elapsed().as_secs_f64();
        let mut work = stages.input();
        let start = Instant::now();
        std::hint::black_box(stages.layer(&mut work));
        let layer = start.elapsed().as_secs_f64();
        sorts.push(sort);
        layers.push(layer);
        ratios.push(layer / sort);
    }
    println!("| {n} | {d} | {:.1} | {:.1} | {:.2} |", median(sorts) * 1e3, median(layers) * 1e3, median(ratios));
}

fn row(task: &Task, n: usize, params: &rbig::RbigValidParams) -> Result<(), Box<dyn std::error::Error>> {
    let x = task.sample(n, 0);
    let repeats = if n >= 1_000_000 {
        1
    } else if n >= 100_000 {
        3
    } else {
        5
    };
    let dim_major = x.t().as_standard_layout().into_owned();
    let sort_seconds = median(
        (0..repeats.max(3))
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(sort_rows(dim_major.view()));
                start.elapsed().as_secs_f64()
            })
            .collect(),
    );
    drop(dim_major);
    let mut fitted = 0;
    let mut seconds = Vec::new();
    let mut model = None;
    for _ in 0..repeats {
        clear_null_cache();
        fitted = 0;
        let start = Instant::now();
        let m = params.fit_observed(&x, |_| fitted += 1)?;
        seconds.push(start.elapsed().as_secs_f64());
        model = Some(m);
    }
    let model = model.expect("at least one repeat");
    let estimate = match task.quantity {
        Quantity::TotalCorrelation => model.total_correlation(),
        Quantity::Entropy => model.entropy(),
        _ => unreachable!("grid tasks measure TC or H"),
    };
    let seconds = median(seconds);
    let per_layer = seconds / (fitted + 1) as f64;
    println!(
        "| {} | {n} | {fitted} / {} | {seconds:.3} | {per_layer:.4} | {:.1} | {:+.4} | {:.0} |",
        task.name,
        model.diagnostics().len(),
        per_layer / sort_seconds,
        estimate - task.truth,
        model.to_bytes().len() as f64 / 1024.0
    );
    Ok(())
}
