//! Mutual information on the Beyond-Normal suite (`rbig_tasks::beyond_normal_suite`,
//! the 40 tasks of benchmark-mi): for each task, the mean RBIG estimate over seeds with
//! its standard error, the same on the rows after `rbig_tasks::monotone_maps` (which
//! leaves the truth unchanged), the seconds per estimate, and KSG on the same samples.
//!
//! ```text
//! cargo bench --bench beyond_normal -- [N] [SEEDS] [NAME-FILTER]
//! cargo bench --bench beyond_normal -- --export DIR     # the samples, as .npy, for KSG
//! ```
//! Defaults: N = 5000, SEEDS = 3. The KSG column comes from
//! `benches/beyond_normal_ksg.json`, written by `scripts/beyond_normal_ksg.py` (benchmark-mi's
//! KSG, k = 10) on the exported samples.

use std::path::Path;
use std::time::Instant;

use ndarray::{s, Array2};
use rbig::information::mutual_information;
use rbig::{Rbig, RotationKind};
use rbig_tasks::{beyond_normal_suite, monotone_maps, Quantity, Task};

fn split(task: &Task) -> usize {
    match task.quantity {
        Quantity::MutualInformation { split } => split,
        _ => unreachable!("the suite measures mutual information"),
    }
}

/// File-name form of a task's name.
fn slug(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect()
}

fn export(dir: &Path, n: usize, seeds: u64) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let mut index = Vec::new();
    for task in beyond_normal_suite() {
        for seed in 0..seeds {
            let x = task.sample(n, seed);
            let (a, b) = (x.slice(s![.., ..split(&task)]), x.slice(s![.., split(&task)..]));
            let stem = format!("{}-{seed}", slug(&task.name));
            rbig::io::write_matrix(dir.join(format!("{stem}.x.npy")), a, true)?;
            rbig::io::write_matrix(dir.join(format!("{stem}.y.npy")), b, true)?;
            index.push(serde_json::json!({ "task": task.name, "seed": seed, "stem": stem, "truth": task.truth }));
        }
    }
    std::fs::write(dir.join("index.json"), serde_json::to_string_pretty(&index)?)?;
    println!("exported {n} rows × {seeds} seeds of every task to {}", dir.display());
    Ok(())
}

fn ksg() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/beyond_normal_ksg.json");
    std::fs::read_to_string(path).ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Times and figures as a first run on a machine gets them: no null simulation read
    // from an earlier process's disk cache.
    rbig::internals::use_disk_cache(false);
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let n: usize = positional.first().map(|a| a.parse()).transpose()?.unwrap_or(5000);
    let seeds: u64 = positional.get(1).map(|a| a.parse()).transpose()?.unwrap_or(3);
    if let Some(i) = args.iter().position(|a| a == "--export") {
        return export(Path::new(args.get(i + 1).ok_or("--export DIR")?), n, seeds);
    }
    let filter = positional.get(2).map(|s| s.as_str()).unwrap_or_default();
    let params = Rbig::params().rotation(RotationKind::Ica);
    let ksg = ksg();
    println!("n = {n}, mean over {seeds} seeds, nats. RBIG: default estimator (ICA); mapped: the same rows");
    println!("after an increasing map of every column; KSG: benchmark-mi's KSG (k = 10) on the same samples.\n");
    println!("| task | truth | RBIG (error) ± SE | mapped − RBIG | s | KSG (error) |");
    println!("|---|---|---|---|---|---|");
    let (mut abs_errors, mut ksg_errors, mut worse_than_ksg, mut max_shift) = (Vec::new(), Vec::new(), 0, 0.0f64);
    let (mut covered, mut total) = (0, 0);
    for task in beyond_normal_suite().into_iter().filter(|t| t.name.contains(filter)) {
        let k = split(&task);
        let estimate = |x: &Array2<f64>| mutual_information(&x.slice(s![.., ..k]), &x.slice(s![.., k..]), &params);
        let (mut sum, mut se_sum, mut shift_sum, mut seconds) = (0.0, 0.0, 0.0, 0.0);
        for seed in 0..seeds {
            let x = task.sample(n, seed);
            let start = Instant::now();
            let e = estimate(&x)?;
            seconds += start.elapsed().as_secs_f64();
            let mapped = estimate(&monotone_maps(&x))?;
            sum += e.value();
            se_sum += e.standard_error();
            shift_sum += mapped.value() - e.value();
            max_shift = max_shift.max((mapped.value() - e.value()).abs());
            total += 1;
            covered += usize::from((e.value() - task.truth).abs() <= 2.0 * e.standard_error());
        }
        let k = seeds as f64;
        let (est, se, shift) = (sum / k, se_sum / k, shift_sum / k);
        let error = est - task.truth;
        abs_errors.push(error.abs());
        let ksg_cell = match ksg[&task.name].as_f64() {
            Some(v) => {
                ksg_errors.push((v - task.truth).abs());
                if error.abs() > (v - task.truth).abs().max(0.05) {
                    worse_than_ksg += 1;
                }
                format!("{v:.3} ({:+.3})", v - task.truth)
            }
            None => "–".into(),
        };
        println!(
            "| {} | {:.3} | {est:.3} ({error:+.3}) ± {se:.3} | {shift:+.4} | {:.2} | {ksg_cell} |",
            task.name,
            task.truth,
            seconds / k
        );
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    println!(
        "\nRBIG: mean |error| {:.3} over {} tasks; worse than max(0.05, KSG's error) on {worse_than_ksg}; \
         largest |mapped − RBIG| {max_shift:.4}; |error| <= 2 SE on {covered} of {total} estimates",
        mean(&abs_errors),
        abs_errors.len()
    );
    if !ksg_errors.is_empty() {
        println!("KSG: mean |error| {:.3} over {} tasks", mean(&ksg_errors), ksg_errors.len());
    }
    Ok(())
}
