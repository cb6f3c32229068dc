//! Runs the ground-truth suite of `rbig_tasks` and prints a Markdown table: task,
//! truth, and for each rotation the mean estimate over seeds and the seconds per
//! estimate.
//!
//! ```text
//! cargo bench --bench information_suite -- [N] [SEEDS] [NAME-FILTER]
//! ```
//! Defaults: N = 10000, SEEDS = 3, every task.

use std::time::Instant;

use rbig::{Rbig, RotationKind};
use rbig_tasks::suite;

#[path = "../tests/common/estimator.rs"]
mod estimator;
use estimator::RbigEstimator;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` adds flags such as `--bench`; the positional arguments are ours.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let n: usize = args.first().map(|a| a.parse()).transpose()?.unwrap_or(10_000);
    let seeds: u64 = args.get(1).map(|a| a.parse()).transpose()?.unwrap_or(3);
    let filter = args.get(2).cloned().unwrap_or_default();
    let rotations = [RotationKind::Pca, RotationKind::Ica, RotationKind::Random];
    println!("n = {n}, mean over {seeds} seeds; estimate (error) and seconds per estimate, in nats\n");
    println!("| task | d | truth | PCA | s | ICA | s | random | s |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for task in suite().into_iter().filter(|t| t.name.contains(&filter)) {
        let mut row = format!("| {} | {} | {:.4} |", task.name, task.dim, task.truth);
        for rotation in rotations {
            let params = Rbig::params().rotation(rotation);
            let start = Instant::now();
            let mut sum = 0.0;
            for seed in 0..seeds {
                sum += task.estimate(n, seed, &RbigEstimator(&params))?;
            }
            let seconds = start.elapsed().as_secs_f64() / seeds as f64;
            let est = sum / seeds as f64;
            row += &format!(" {est:.4} ({:+.4}) | {seconds:.2} |", est - task.truth);
        }
        println!("{row}");
    }
    Ok(())
}
