//! Runs the ground-truth suite of `rbig_tasks` and prints a Markdown table: task,
//! truth, and for each rotation the mean estimate over seeds, its mean standard error
//! and the seconds per estimate; then, per rotation, how often the error is within two
//! standard errors.
//!
//! ```text
//! cargo bench --bench information_suite -- [N] [SEEDS] [NAME-FILTER] [ROTATIONS]
//! ```
//! Defaults: N = 10000, SEEDS = 3, every task, ROTATIONS = all (or e.g. `ica,pca`).

use std::time::Instant;

use rbig::{Rbig, RotationKind};
use rbig_tasks::suite;

#[path = "../tests/common/estimator.rs"]
mod estimator;
use estimator::RbigEstimator;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Times and figures as a first run on a machine gets them: no null simulation read
    // from an earlier process's disk cache.
    rbig::internals::use_disk_cache(false);
    // `cargo bench` adds flags such as `--bench`; the positional arguments are ours.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let n: usize = args.first().map(|a| a.parse()).transpose()?.unwrap_or(10_000);
    let seeds: u64 = args.get(1).map(|a| a.parse()).transpose()?.unwrap_or(3);
    let filter = args.get(2).cloned().unwrap_or_default();
    let rotations: Vec<RotationKind> = match args.get(3).map(String::as_str) {
        None | Some("all") => vec![RotationKind::Pca, RotationKind::Ica, RotationKind::Random],
        Some(list) => list
            .split(',')
            .map(|r| match r {
                "pca" => Ok(RotationKind::Pca),
                "ica" => Ok(RotationKind::Ica),
                "random" => Ok(RotationKind::Random),
                other => Err(format!("unknown rotation {other:?}")),
            })
            .collect::<Result<_, _>>()?,
    };
    println!("n = {n}, mean over {seeds} seeds; estimate (error) ± standard error and seconds per estimate, in nats\n");
    let names: Vec<String> = rotations.iter().map(|r| format!("{r:?}")).collect();
    println!("| task | d | truth | {} |", names.iter().map(|r| format!("{r} | s")).collect::<Vec<_>>().join(" | "));
    println!("|---|---|---|{}", "---|---|".repeat(rotations.len()));
    // Per rotation: every (task, seed)'s |error| and standard error.
    let mut calibration = vec![Vec::new(); rotations.len()];
    for task in suite().into_iter().filter(|t| t.name.contains(&filter)) {
        let mut row = format!("| {} | {} | {:.4} |", task.name, task.dim, task.truth);
        for (rotation, calibration) in rotations.iter().zip(&mut calibration) {
            let params = Rbig::params().rotation(*rotation);
            let start = Instant::now();
            let (mut sum, mut se_sum) = (0.0, 0.0);
            for seed in 0..seeds {
                let e = task.estimate(n, seed, &RbigEstimator(&params))?;
                let se = e.standard_error.expect("rbig gives standard errors");
                calibration.push(((e.value - task.truth).abs(), se));
                sum += e.value;
                se_sum += se;
            }
            let seconds = start.elapsed().as_secs_f64() / seeds as f64;
            let (est, se) = (sum / seeds as f64, se_sum / seeds as f64);
            row += &format!(" {est:.4} ({:+.4}) ± {se:.4} | {seconds:.2} |", est - task.truth);
        }
        println!("{row}");
    }
    println!();
    for (name, rows) in names.iter().zip(&calibration) {
        let covered = rows.iter().filter(|(err, se)| *err <= 2.0 * se).count();
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (err, se) = (median(rows.iter().map(|r| r.0).collect()), median(rows.iter().map(|r| r.1).collect()));
        println!(
            "{name}: |error| <= 2 SE on {covered} of {} estimates ({:.0}%); median SE {se:.4}, median |error| {err:.4} (ratio {:.2})",
            rows.len(),
            100.0 * covered as f64 / rows.len() as f64,
            se / err
        );
    }
    Ok(())
}
