//! A large fit: the correlated Gaussian of `rbig_tasks::factor_gaussian` with n = 1e6
//! rows and d = 100 columns (800 MB), printing each layer as it is fitted, the total
//! time, and the peak memory of the fit as a multiple of the input's size.
//!
//! ```text
//! cargo bench --bench large_fit -- [N] [D] [ROTATION] [WHITENING]
//! ```
//! Defaults: N = 1000000, D = 100, ROTATION = pca (or ica, random), WHITENING = auto
//! (or always, never). Linux only (reads
//! the peak resident size from `/proc/self/status`).

use std::time::Instant;

use rbig::{ParamGuard, Rbig, RotationKind, Whitening};
use rbig_tasks::factor_gaussian;

/// A size field of `/proc/self/status` (`VmHWM`: peak resident, `VmRSS`: current), in
/// bytes.
fn status_bytes(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Times and figures as a first run on a machine gets them: no null simulation read
    // from an earlier process's disk cache.
    rbig::internals::use_disk_cache(false);
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let n: usize = args.first().map(|a| a.parse()).transpose()?.unwrap_or(1_000_000);
    let d: usize = args.get(1).map(|a| a.parse()).transpose()?.unwrap_or(100);
    let rotation = match args.get(2).map(String::as_str) {
        None | Some("pca") => RotationKind::Pca,
        Some("ica") => RotationKind::Ica,
        Some("random") => RotationKind::Random,
        Some(other) => return Err(format!("unknown rotation {other}").into()),
    };
    let task = factor_gaussian(d, 0);
    let x = task.sample(n, 0);
    let input = (x.len() * std::mem::size_of::<f64>()) as f64;
    // Forget the peak of generating the data (Linux: writing 5 to clear_refs resets
    // VmHWM to the current resident size).
    std::fs::write("/proc/self/clear_refs", "5")?;
    let before = status_bytes("VmRSS:").unwrap_or(0.0);
    println!(
        "{rotation:?}, n = {n}, d = {d}: input {:.0} MB, resident before the fit {:.0} MB",
        input / 1e6,
        before / 1e6
    );
    let whitening = match args.get(3).map(String::as_str) {
        None | Some("auto") => Whitening::Auto,
        Some("always") => Whitening::Always,
        Some("never") => Whitening::Never,
        Some(other) => return Err(format!("unknown whitening {other}").into()),
    };
    let params = Rbig::params().rotation(rotation).whitening(whitening).check()?;
    let start = Instant::now();
    let mut fitted = 0;
    let model = params.fit_observed(&x, |layer| {
        fitted += 1;
        println!(
            "  layer {fitted:3}: reduction {:+.4} nats{}, {:.1} s",
            layer.tc_reduction,
            if layer.significant { " (significant)" } else { "" },
            start.elapsed().as_secs_f64()
        );
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let peak = status_bytes("VmHWM:").unwrap_or(f64::NAN);
    let model_bytes = model.to_bytes().len() as f64;
    println!(
        "fit: {seconds:.1} s, {fitted} layers fitted, {} kept; TC {:.4} (truth {:.4}, error {:+.4})",
        model.diagnostics().len(),
        model.total_correlation(),
        task.truth,
        model.total_correlation() - task.truth
    );
    println!(
        "peak resident {:.0} MB = input x {:.2} (the input itself included); model {:.1} MB",
        peak / 1e6,
        peak / input,
        model_bytes / 1e6
    );
    Ok(())
}
