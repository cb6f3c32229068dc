//! The `rbig` command-line tool: a thin layer over the library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ndarray::{s, Array2, Axis};
use rand::SeedableRng;
use rbig::dequantize::{jitter, resolution};
use rbig::information::{self, InformationEstimate, Units};
use rbig::io::{read_matrix, write_csv, write_matrix, FORMAT_VERSION};
use rbig::{Knots, ParamGuard, Rbig, RbigError, RbigParams, RotationKind};
use serde_json::json;

const EXAMPLES: &str = "\
Examples:
  rbig fit data/magic/train.csv -o magic.rbig
  rbig score magic.rbig data/magic/test.csv -o test_logp.csv
  rbig sample magic.rbig -n 1000 --seed 1 -o draws.npy
  rbig mi data.csv --split 3 --units bits
  rbig entropy data.npy

Data files: CSV or TSV (a header row and # comment lines are skipped) or .npy (f64 or
f32), rows = samples. Results go to stdout as CSV unless -o is given; an -o path ending
in .npy writes .npy. Existing files are never replaced without --force.

Exit codes: 0 success; 2 bad input or usage (a bad cell, a ragged row, wrong
dimensions, an existing output file without --force); 1 any other failure (unreadable
or foreign model file, I/O error).";

/// Density estimation and information measures by Rotation-Based Iterative
/// Gaussianization.
#[derive(Parser)]
#[command(name = "rbig", version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// No progress bar.
    #[arg(short, long, global = true)]
    quiet: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Rotation {
    /// Principal axes: fewest layers on nearly Gaussian data.
    Pca,
    /// Haar-random orthogonal matrices, seeded.
    Random,
    /// Linear unmixing, radial Gaussianization, then ICA rotations: the most accurate
    /// for information measures, slower.
    Ica,
}

impl From<Rotation> for RotationKind {
    fn from(r: Rotation) -> Self {
        match r {
            Rotation::Pca => RotationKind::Pca,
            Rotation::Random => RotationKind::Random,
            Rotation::Ica => RotationKind::Ica,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum UnitArg {
    Nats,
    Bits,
}

#[derive(Args)]
struct FitArgs {
    /// Upper bound on the number of layers.
    #[arg(long)]
    max_layers: Option<usize>,
    /// Seed of the random rotations.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Knots of each marginal map: `auto` (1.25·n^(1/3) at the samples' normal scores,
    /// the default), `smooth` (twice as many, at a kernel-smoothed CDF's normal scores:
    /// better held-out density on smooth data), or a number.
    #[arg(long, value_parser = parse_knots)]
    knots: Option<Knots>,
    /// Refuse up front a fit needing more memory than this beyond the loaded data, in
    /// bytes or with a K, M or G suffix (default: the memory available when the fit
    /// starts, from /proc/meminfo).
    #[arg(long, value_parser = parse_size)]
    memory_limit: Option<u64>,
}

/// `auto`, `smooth` or a number of knots (at least 2).
fn parse_knots(text: &str) -> Result<Knots, String> {
    match text {
        "auto" => Ok(Knots::Auto),
        "smooth" => Ok(Knots::Smooth),
        n => match n.parse::<usize>() {
            Ok(k) if k >= 2 => Ok(Knots::Fixed(k)),
            _ => Err(format!("{text:?} is not `auto`, `smooth` or a number of knots of at least 2")),
        },
    }
}

/// `123`, `64K`, `512M`, `4G` (powers of 1024) to bytes.
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c.to_ascii_uppercase()),
        _ => (t, 'B'),
    };
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        'T' => 40,
        other => return Err(format!("unknown size suffix {other:?} (use K, M, G or T)")),
    };
    let value: u64 = digits.trim().parse().map_err(|_| format!("{text:?} is not a size such as 512M or 4G"))?;
    value.checked_mul(1 << shift).ok_or_else(|| format!("{text} is too large"))
}

/// `MemAvailable` from /proc/meminfo, in bytes (Linux).
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[derive(Args)]
struct EstimatorArgs {
    /// Rotation of the models behind the estimate.
    #[arg(long, value_enum, default_value = "ica")]
    rotation: Rotation,
    /// Units of the result.
    #[arg(long, value_enum, default_value = "nats")]
    units: UnitArg,
    #[command(flatten)]
    fit: FitArgs,
}

#[derive(Args)]
struct OutputArgs {
    /// Output file (.npy or CSV); CSV on stdout when absent.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Fit a model to DATA and save it to MODEL; prints a JSON summary.
    ///
    /// Example: rbig fit data/magic/train.csv -o magic.rbig --rotation random --seed 3
    ///
    /// For the best held-out density: rbig fit data/magic/train.csv -o magic.rbig --density
    Fit {
        /// Training data (rows = samples).
        data: PathBuf,
        /// Where to save the model.
        #[arg(short, long)]
        output: PathBuf,
        /// Rotation used by every layer.
        #[arg(long, value_enum, default_value = "pca")]
        rotation: Rotation,
        #[command(flatten)]
        fit: FitArgs,
        /// Fit on the data plus uniform noise over each tied column's bin width (its
        /// lattice step), seeded by --seed: the standard treatment of integer or rounded
        /// data; score such data with `rbig score --dequantize`.
        #[arg(long)]
        dequantize: bool,
        /// Fit for density estimation: compare PCA, random and ICA rotations, each with
        /// `auto` and `smooth` knots, on a fifth of the rows held out, choosing each one's
        /// depth there too, and refit the best on all rows (about seven fits). Replaces
        /// --rotation and --knots.
        #[arg(long, conflicts_with_all = ["rotation", "knots"])]
        density: bool,
        /// Replace an existing model file.
        #[arg(long)]
        force: bool,
    },
    /// Map DATA to the Gaussianized space of MODEL.
    ///
    /// Example: rbig transform magic.rbig data/magic/test.csv -o z.npy
    Transform {
        /// A saved model.
        model: PathBuf,
        /// Data to map.
        data: PathBuf,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Map Gaussianized points back to data space (the inverse of transform).
    ///
    /// Example: rbig inverse magic.rbig z.npy -o x.csv
    Inverse {
        /// A saved model.
        model: PathBuf,
        /// Points in the Gaussianized space.
        data: PathBuf,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Log-density (nats) of each row of DATA under MODEL, in the same order.
    ///
    /// Example: rbig score magic.rbig data/magic/test.csv
    Score {
        /// A saved model.
        model: PathBuf,
        /// Rows to score.
        data: PathBuf,
        /// Score discrete data: the dequantized log-likelihood, a log-probability of
        /// each row's lattice cell (mean of ln p over uniform jitter plus Σ ln width).
        /// WIDTHS: the bin widths the model was fitted with, as `rbig fit --dequantize`
        /// prints them (comma separated; 0 for a continuous column).
        #[arg(long, value_name = "WIDTHS")]
        dequantize: Option<String>,
        /// Jitter draws per row for --dequantize.
        #[arg(long, default_value_t = 16)]
        draws: usize,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Draw N samples from MODEL.
    ///
    /// Example: rbig sample magic.rbig -n 500 --seed 7 -o draws.csv
    Sample {
        /// A saved model.
        model: PathBuf,
        /// Number of samples.
        #[arg(short, long)]
        n: usize,
        /// Seed of the draws.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Describe a saved model as JSON.
    ///
    /// Example: rbig info magic.rbig
    Info {
        /// A saved model.
        model: PathBuf,
    },
    /// Joint differential entropy of DATA.
    ///
    /// Example: rbig entropy data.csv --units bits
    Entropy {
        /// Data (rows = samples).
        data: PathBuf,
        #[command(flatten)]
        est: EstimatorArgs,
    },
    /// Total correlation (multi-information) of the columns of DATA.
    ///
    /// Example: rbig tc data.npy
    Tc {
        /// Data (rows = samples).
        data: PathBuf,
        #[command(flatten)]
        est: EstimatorArgs,
    },
    /// Mutual information between X and Y (same rows), or between the first K columns
    /// of X and the rest with --split K.
    ///
    /// Examples: rbig mi x.csv y.csv; rbig mi data.csv --split 2
    Mi {
        /// First block (or all the data with --split).
        x: PathBuf,
        /// Second block.
        #[arg(required_unless_present = "split", conflicts_with = "split")]
        y: Option<PathBuf>,
        /// Use the first K columns of X as the first block, the rest as the second.
        #[arg(long, value_name = "K")]
        split: Option<usize>,
        #[command(flatten)]
        est: EstimatorArgs,
    },
    /// Kullback-Leibler divergence D(P || Q) from samples of P and of Q.
    ///
    /// Example: rbig kld p.csv q.csv
    Kld {
        /// Samples of P.
        p: PathBuf,
        /// Samples of Q (same columns).
        q: PathBuf,
        #[command(flatten)]
        est: EstimatorArgs,
    },
}

/// An error with its exit code.
struct Failure {
    message: String,
    code: u8,
}

impl From<RbigError> for Failure {
    fn from(e: RbigError) -> Self {
        let code = match e {
            RbigError::NotAModel
            | RbigError::UnsupportedVersion { .. }
            | RbigError::CorruptModel(_)
            | RbigError::Io { .. } => 1,
            _ => 2,
        };
        Failure { message: e.to_string(), code }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure { message: message.into(), code: 2 }
}

fn load_model(path: &Path) -> Result<Rbig, Failure> {
    Rbig::load(path).map_err(|e| match e {
        // Name the file: these errors do not carry it.
        RbigError::NotAModel | RbigError::UnsupportedVersion { .. } | RbigError::CorruptModel(_) => {
            Failure { message: format!("{}: {e}", path.display()), code: 1 }
        }
        other => other.into(),
    })
}

/// The parameter builder the flags describe.
fn builder(rotation: Rotation, fit: &FitArgs) -> RbigParams {
    let mut p = with_fit_args(Rbig::params().rotation(rotation.into()), fit);
    if let Some(k) = fit.knots {
        p = p.knots(k);
    }
    p
}

/// `p` with the seed, layer bound and memory limit the flags give.
fn with_fit_args(mut p: RbigParams, fit: &FitArgs) -> RbigParams {
    p = p.seed(fit.seed);
    if let Some(m) = fit.max_layers {
        p = p.max_layers(m);
    }
    if let Some(limit) = fit.memory_limit.or_else(available_memory) {
        p = p.memory_limit(limit);
    }
    p
}

/// A progress display on stderr that appears only once a fit has run for a second, and
/// only on a terminal.
struct Progress {
    bar: ProgressBar,
    start: Instant,
    shown: bool,
    enabled: bool,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} layer {pos}: {msg}").expect("valid template"));
        Self { bar, start: Instant::now(), shown: false, enabled: !quiet && std::io::stderr().is_terminal() }
    }

    fn layer(&mut self, tc: f64) {
        self.bar.inc(1);
        self.bar.set_message(format!("total correlation {tc:.4} nats"));
        if self.enabled && !self.shown && self.start.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn emit(out: &OutputArgs, x: &Array2<f64>) -> Result<(), Failure> {
    match &out.output {
        Some(path) => Ok(write_matrix(path, x.view(), out.force)?),
        None => match write_csv(std::io::stdout().lock(), x.view()) {
            // A closed pipe (`| head`) is the reader's choice, not a failure.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure { message: e.to_string(), code: 1 }),
            _ => Ok(()),
        },
    }
}

/// Refuses early, before any work, to replace an existing output file.
fn check_output(path: Option<&Path>, force: bool) -> Result<(), Failure> {
    match path {
        Some(p) if !force && p.exists() => Err(RbigError::FileExists(p.to_path_buf()).into()),
        _ => Ok(()),
    }
}

/// Warns on stderr about columns where one value holds most rows: a point mass, which a
/// density model can only smear out (the fit dequantizes ties at the data's resolution,
/// but a spike of that size still dominates every estimate).
fn warn_point_masses(path: &Path, x: &Array2<f64>, quiet: bool) {
    if quiet {
        return;
    }
    for (j, col) in x.columns().into_iter().enumerate() {
        let mut v = col.to_vec();
        v.sort_unstable_by(f64::total_cmp);
        let (mut best, mut run, mut value) = (0usize, 0usize, v[0]);
        for (i, &a) in v.iter().enumerate() {
            run = if i > 0 && a == v[i - 1] { run + 1 } else { 1 };
            if run > best {
                best = run;
                value = a;
            }
        }
        let share = best as f64 / v.len() as f64;
        if share > 0.5 {
            eprintln!(
                "rbig: warning: {}: column {} has {:.1}% of its rows at {value}; estimates treat it as continuous \
                 (ties are spread over the data's resolution) and may be meaningless; consider dropping it",
                path.display(),
                j + 1,
                100.0 * share
            );
        }
    }
}

fn knots_json(knots: Knots) -> serde_json::Value {
    match knots {
        Knots::Auto => json!("auto"),
        Knots::Fixed(k) => json!(k),
        Knots::Smooth => json!("smooth"),
    }
}

fn estimate_json(key: &str, est: InformationEstimate, units: UnitArg, seconds: f64) -> serde_json::Value {
    let est = est.in_units(match units {
        UnitArg::Nats => Units::Nats,
        UnitArg::Bits => Units::Bits,
    });
    json!({ key: est.value(), "units": est.units().name(), "layers": est.layers(), "seconds": seconds })
}

fn run(cli: Cli) -> Result<(), Failure> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Fit { data, output, rotation, fit, dequantize, density, force } => {
            check_output(Some(&output), force)?;
            let p = builder(rotation, &fit).check()?;
            let mut x = read_matrix(&data)?;
            warn_point_masses(&data, &x, quiet);
            let widths = dequantize.then(|| resolution(&x));
            if let Some(w) = &widths {
                x = jitter(&x, w, fit.seed)?;
            }
            let start = Instant::now();
            let mut progress = Progress::new(quiet);
            let mut tc = 0.0;
            let model = if density {
                let candidates: Vec<RbigParams> =
                    rbig::density_candidates().into_iter().map(|c| with_fit_args(c, &fit)).collect();
                rbig::select(&x, &candidates).map(|s| s.model)
            } else {
                p.fit_observed(&x, |layer| {
                    tc += layer.tc_reduction;
                    progress.layer(tc);
                })
            };
            progress.finish();
            let model = model?;
            let seconds = start.elapsed().as_secs_f64();
            if force {
                model.save_overwrite(&output)?;
            } else {
                model.save(&output)?;
            }
            let mut summary = json!({
                "n": model.n_train(),
                "d": model.dim(),
                "layers": model.n_layers(),
                "total_correlation": model.total_correlation(),
                "units": "nats",
                "seconds": seconds,
            });
            if let Some(score) = model.held_out_log_likelihood() {
                let p = model.hyperparameters();
                summary["held_out_log_likelihood"] = json!(score);
                summary["rotation"] = json!(format!("{:?}", p.rotation()).to_lowercase());
                summary["knots"] = knots_json(p.knots());
            }
            if let Some(w) = widths {
                // What `rbig score --dequantize` needs to score discrete data.
                summary["dequantized_widths"] = json!(w);
            }
            println!("{summary}");
        }
        Command::Transform { model, data, out } => {
            check_output(out.output.as_deref(), out.force)?;
            let m = load_model(&model)?;
            let z = m.transform(&read_matrix(&data)?)?;
            emit(&out, &z)?;
        }
        Command::Inverse { model, data, out } => {
            check_output(out.output.as_deref(), out.force)?;
            let m = load_model(&model)?;
            let x = m.inverse_transform(&read_matrix(&data)?)?;
            emit(&out, &x)?;
        }
        Command::Score { model, data, dequantize, draws, out } => {
            check_output(out.output.as_deref(), out.force)?;
            let m = load_model(&model)?;
            let x = read_matrix(&data)?;
            let lp = match dequantize.as_deref() {
                None => m.log_density(&x)?,
                Some(list) => {
                    let widths: Vec<f64> =
                        list.split(',')
                            .map(|w| w.trim().parse::<f64>())
                            .collect::<Result<_, _>>()
                            .map_err(|_| usage(format!("--dequantize {list:?}: expected bin widths like 1,1,0.5")))?;
                    m.dequantized_log_likelihood(&x, &widths, draws, 0)?
                }
            };
            emit(&out, &lp.insert_axis(Axis(1)))?;
        }
        Command::Sample { model, n, seed, out } => {
            check_output(out.output.as_deref(), out.force)?;
            let m = load_model(&model)?;
            let draws = m.sample(n, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
            emit(&out, &draws)?;
        }
        Command::Info { model } => {
            let m = load_model(&model)?;
            let p = m.hyperparameters();
            let pre = m.pre_steps();
            let knots = knots_json(p.knots());
            let info = json!({
                "format_version": FORMAT_VERSION,
                "n": m.n_train(),
                "d": m.dim(),
                "layers": m.n_layers(),
                "tc_reductions": m.diagnostics().iter().map(|l| l.tc_reduction).collect::<Vec<_>>(),
                "pre_steps": {
                    "unmixing_steps": pre.unmixing_steps,
                    "refined": pre.refined,
                    "radial": pre.radial,
                    "tc_reduction": pre.tc_reduction,
                },
                "total_correlation": m.total_correlation(),
                "entropy": m.entropy(),
                "units": "nats",
                "params": {
                    "rotation": format!("{:?}", p.rotation()).to_lowercase(),
                    "max_layers": p.max_layers(),
                    "patience": p.patience(),
                    "significance": p.significance(),
                    "knots": knots,
                    "seed": p.seed(),
                    "shrinkage": p.shrinkage(),
                    "validation": p.validation().map(|v| json!({"fraction": v.fraction, "patience": v.patience})),
                },
                "held_out_log_likelihood": m.held_out_log_likelihood(),
            });
            println!("{info}");
        }
        Command::Entropy { data, est } => {
            let x = read_matrix(&data)?;
            warn_point_masses(&data, &x, quiet);
            let (value, seconds) = timed(|| information::entropy(&x, &builder(est.rotation, &est.fit)))?;
            println!("{}", estimate_json("entropy", value, est.units, seconds));
        }
        Command::Tc { data, est } => {
            let x = read_matrix(&data)?;
            warn_point_masses(&data, &x, quiet);
            let (value, seconds) = timed(|| information::total_correlation(&x, &builder(est.rotation, &est.fit)))?;
            println!("{}", estimate_json("total_correlation", value, est.units, seconds));
        }
        Command::Mi { x, y, split, est } => {
            let a = read_matrix(&x)?;
            let (a, b) = match (y, split) {
                (Some(y), None) => (a, read_matrix(&y)?),
                (None, Some(k)) if k >= 1 && k < a.ncols() => {
                    (a.slice(s![.., ..k]).to_owned(), a.slice(s![.., k..]).to_owned())
                }
                (None, Some(k)) => {
                    return Err(usage(format!(
                        "--split {k}: {} has {} columns; K must be between 1 and {}",
                        x.display(),
                        a.ncols(),
                        a.ncols().saturating_sub(1)
                    )))
                }
                _ => return Err(usage("give a second data file or --split K")),
            };
            if a.nrows() != b.nrows() {
                return Err(RbigError::RowMismatch { first: a.nrows(), second: b.nrows() }.into());
            }
            let (value, seconds) = timed(|| information::mutual_information(&a, &b, &builder(est.rotation, &est.fit)))?;
            println!("{}", estimate_json("mutual_information", value, est.units, seconds));
        }
        Command::Kld { p, q, est } => {
            let (xp, xq) = (read_matrix(&p)?, read_matrix(&q)?);
            let (value, seconds) = timed(|| information::kl_divergence(&xp, &xq, &builder(est.rotation, &est.fit)))?;
            println!("{}", estimate_json("kl_divergence", value, est.units, seconds));
        }
    }
    Ok(())
}

fn timed<T>(f: impl FnOnce() -> Result<T, RbigError>) -> Result<(T, f64), Failure> {
    let start = Instant::now();
    let value = f()?;
    Ok((value, start.elapsed().as_secs_f64()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("rbig: error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
