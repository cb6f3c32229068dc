//! Runs the ground-truth suite of `rbig::tasks` and prints a Markdown table: task, truth,
//! mean estimate over seeds, error, relative error, seconds per estimate.
//!
//! ```text
//! cargo run --release --example information_suite -- [N] [SEEDS] [NAME-FILTER]
//! ```
//! Defaults: N = 10000, SEEDS = 3, every task.

use std::time::Instant;

use rbig::tasks::suite;
use rbig::Rbig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().map(|a| a.parse()).transpose()?.unwrap_or(10_000);
    let seeds: u64 = args.get(1).map(|a| a.parse()).transpose()?.unwrap_or(3);
    let filter = args.get(2).cloned().unwrap_or_default();
    let rotation = match args.get(3).map(String::as_str) {
        Some("random") => rbig::RotationKind::Random,
        Some("ica") => rbig::RotationKind::Ica,
        _ => rbig::RotationKind::Pca,
    };
    let patience: usize = args.get(4).map(|a| a.parse()).transpose()?.unwrap_or(5);
    let params = Rbig::params().rotation(rotation).patience(patience);
    println!("| task | d | truth (nats) | estimate | error | rel. error | seconds |");
    println!("|---|---|---|---|---|---|---|");
    for task in suite().into_iter().filter(|t| t.name.contains(&filter)) {
        let start = Instant::now();
        let mut sum = 0.0;
        for seed in 0..seeds {
            sum += task.estimate(n, seed, &params)?;
        }
        let seconds = start.elapsed().as_secs_f64() / seeds as f64;
        let est = sum / seeds as f64;
        let err = est - task.truth;
        let rel = if task.truth.abs() > 1e-9 { format!("{:+.1}%", 100.0 * err / task.truth.abs()) } else { "-".into() };
        println!(
            "| {} | {} | {:.4} | {:.4} | {:+.4} | {} | {:.3} |",
            task.name, task.dim, task.truth, est, err, rel, seconds
        );
    }
    Ok(())
}
