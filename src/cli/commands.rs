//! The commands: read the inputs, call the library, write or print the results.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::{s, Array2, Axis};
use rand::SeedableRng;
use rbig::dequantize::{jitter, resolution};
use rbig::information::{self, InformationEstimate};
use rbig::io::{available_memory, write_table, OutputFile};
use rbig::{ParamGuard, Rbig, RbigError, RbigParams, RotationKind};

use crate::args::{Cli, Command, DataArgs, EstimatorArgs, FitArgs, OutputArgs};
use crate::data::{read, read_for_model, Data};
use crate::report::{
    estimate_json, fit_json, info_json, warn_few_rows, warn_outside_support, warn_point_masses, Progress,
};

/// An error with its exit code.
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) code: u8,
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
        let message = match e {
            RbigError::FileExists(_) => format!("{e} (pass --force to replace it)"),
            _ => e.to_string(),
        };
        Failure { message, code }
    }
}

pub(crate) fn usage(message: impl Into<String>) -> Failure {
    Failure { message: message.into(), code: 2 }
}

/// `-`, standard input or output.
fn is_dash(path: &Path) -> bool {
    path == Path::new("-")
}

/// The result of writing to standard output: a reader that has gone away (`| head`) is
/// its choice, not a failure; any other error (a full disk) is one.
fn stdout_result(written: std::io::Result<()>) -> Result<(), Failure> {
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure { message: format!("writing standard output: {e}"), code: 1 })
        }
        _ => Ok(()),
    }
}

/// Prints one line (a JSON report) on standard output.
fn print_line(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    stdout_result(writeln!(out, "{text}").and_then(|()| out.flush()))
}

/// Refuses to read standard input twice (the second read would see nothing).
fn read_stdin_once(paths: [&Path; 2]) -> Result<(), Failure> {
    if paths.iter().all(|p| is_dash(p)) {
        return Err(usage("standard input can be read once: give at most one data file as -"));
    }
    Ok(())
}

pub(crate) fn load_model(path: &Path) -> Result<Rbig, Failure> {
    load_model_with_format(path).map(|(model, _)| model)
}

/// A model and the format version of its file.
fn load_model_with_format(path: &Path) -> Result<(Rbig, u32), Failure> {
    Rbig::load_with_format(path).map_err(|e| match e {
        // Name the file: these errors do not carry it.
        RbigError::NotAModel | RbigError::UnsupportedVersion { .. } | RbigError::CorruptModel(_) => {
            Failure { message: format!("{}: {e}", path.display()), code: 1 }
        }
        other => other.into(),
    })
}

/// The parameter builder the flags describe.
fn builder(rotation: RotationKind, fit: &FitArgs) -> RbigParams {
    let mut p = with_fit_args(Rbig::params().rotation(rotation), fit);
    if let Some(k) = fit.knots {
        p = p.knots(k);
    }
    p
}

/// `p` with the seed and layer bound the flags give.
fn with_fit_args(mut p: RbigParams, fit: &FitArgs) -> RbigParams {
    p = p.seed(fit.seed);
    if let Some(m) = fit.max_layers {
        p = p.max_layers(m);
    }
    p
}

/// `p` with the fit's memory guard: `--memory-limit`, or the memory left now. Called
/// once the data are loaded, so the guard counts them as used.
fn guarded(p: RbigParams, fit: &FitArgs) -> RbigParams {
    match fit.memory_limit.or_else(available_memory) {
        Some(limit) => p.memory_limit(limit),
        None => p,
    }
}

/// Refuses up front an output of `rows × columns` numbers that memory cannot hold (each
/// is held as a float twice and as CSV text once).
fn check_output_size(flag: &str, rows: usize, columns: usize) -> Result<(), Failure> {
    const BYTES_PER_VALUE: u64 = 48;
    let needed = (rows as u64).saturating_mul(columns as u64).saturating_mul(BYTES_PER_VALUE);
    match available_memory() {
        Some(available) if needed > available => Err(usage(format!(
            "{flag}: {rows} rows of {columns} columns need about {:.1} GB, more than the {:.1} GB available; \
             draw fewer (several runs with different --seed)",
            needed as f64 / 1e9,
            available as f64 / 1e9
        ))),
        _ => Ok(()),
    }
}

/// Runs the command line.
pub(crate) fn run(cli: Cli) -> Result<(), Failure> {
    let quiet = cli.quiet;
    if let Some(n) = cli.threads {
        // Before any parallel work; the results do not depend on the count.
        rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build_global()
            .map_err(|e| Failure { message: format!("--threads {n}: {e}"), code: 1 })?;
    }
    match cli.command {
        Command::Fit { data, cols, output, rotation, fit: args, dequantize, density, whiten, mixture, force } => {
            let params = builder(rotation, &args).whitening(whiten).mixture(mixture.unwrap_or_default());
            fit(&data, &cols, &output, params, &args, dequantize, density, force, quiet)
        }
        Command::Transform { model, data, cols, out } => {
            let sink = Sink::reserve(&out)?;
            let model = load_model(&model)?;
            let input = read_for_model(&data, &cols, &model, "", quiet)?;
            let z = model.transform(&input.x)?;
            let names = model.column_names().map(<[String]>::to_vec).or(input.names);
            sink.emit(&z, names.map(|n| n.iter().map(|c| format!("z_{c}")).collect()))
        }
        Command::Inverse { model, data, cols, out } => {
            let sink = Sink::reserve(&out)?;
            let model = load_model(&model)?;
            let input = read_for_model(&data, &cols, &model, "z_", quiet)?;
            let x = model.inverse_transform(&input.x)?;
            let unprefixed =
                input.names.map(|n| n.iter().map(|c| c.strip_prefix("z_").unwrap_or(c).to_string()).collect());
            sink.emit(&x, model.column_names().map(<[String]>::to_vec).or(unprefixed))
        }
        Command::Score { model, data, cols, tail, dequantize, draws, out } => {
            let sink = Sink::reserve(&out)?;
            let m = load_model(&model)?;
            if tail {
                reference_scores(&m, "--tail")?;
            }
            let input = read_for_model(&data, &cols, &m, "", quiet)?;
            let x = input.x;
            let lp = match dequantize {
                None => m.log_density(&x)?,
                Some(None) => {
                    let widths = m.dequantization_widths().ok_or_else(|| {
                        usage("--dequantize: the model stores no bin widths (it was not fitted with --dequantize); give them, e.g. --dequantize 1,1")
                    })?;
                    m.dequantized_log_likelihood(&x, widths, draws, 0)?
                }
                Some(Some(list)) => {
                    let widths: Vec<f64> =
                        list.split(',')
                            .map(|w| w.trim().parse::<f64>())
                            .collect::<Result<_, _>>()
                            .map_err(|_| usage(format!("--dequantize {list:?}: expected bin widths like 1,1,0.5")))?;
                    m.dequantized_log_likelihood(&x, &widths, draws, 0)?
                }
            };
            let headed = input.names.is_some() || m.column_names().is_some();
            let mut names = vec!["log_density".to_string()];
            let table = if tail {
                names.push("tail".into());
                let t = lp.mapv(|s| m.tail_probability(s).expect("checked above"));
                ndarray::stack![Axis(1), lp, t]
            } else {
                lp.insert_axis(Axis(1))
            };
            sink.emit(&table, headed.then_some(names))
        }
        Command::Sample { model, n, seed, out } => {
            let sink = Sink::reserve(&out)?;
            let model = load_model(&model)?;
            check_output_size("-n", n, model.dim())?;
            let draws = model.sample(n, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed))?;
            sink.emit(&draws, model.column_names().map(<[String]>::to_vec))
        }
        Command::Info { model } => {
            let (model, version) = load_model_with_format(&model)?;
            print_line(&info_json(&model, version).to_string())
        }
        Command::Entropy { data, cols, est } => {
            let x = read(&data, &cols, quiet)?.x;
            warn_point_masses(&data, &x, quiet);
            warn_few_rows(&data, x.nrows(), x.ncols(), quiet);
            estimate("entropy", &est, |p| information::entropy(&x, p))
        }
        Command::Tc { data, cols, est } => {
            let x = read(&data, &cols, quiet)?.x;
            warn_point_masses(&data, &x, quiet);
            warn_few_rows(&data, x.nrows(), x.ncols(), quiet);
            estimate("total_correlation", &est, |p| information::total_correlation(&x, p))
        }
        Command::Mi { x, y, split, x_columns, y_columns, cols, est } => {
            if let Some(y) = &y {
                read_stdin_once([&x, y])?;
            }
            let (a, b) = match (x_columns, y_columns) {
                (Some(xs), Some(ys)) => {
                    let data = read(&x, &cols, quiet)?;
                    let block = |list: &[String], flag| Ok::<_, Failure>(data.pick(&data.resolve(list, &x, flag)?).x);
                    (block(&xs, "--x")?, block(&ys, "--y")?)
                }
                _ => blocks(&x, y, split, &cols, quiet)?,
            };
            warn_few_rows(&x, a.nrows(), a.ncols() + b.ncols(), quiet);
            estimate("mutual_information", &est, |p| information::mutual_information(&a, &b, p))
        }
        Command::Kld { p, q, cols, est } => {
            read_stdin_once([&p, &q])?;
            let (xp, xq) = (read(&p, &cols, quiet)?.x, read(&q, &cols, quiet)?.x);
            warn_few_rows(&p, xp.nrows(), xp.ncols(), quiet);
            warn_few_rows(&q, xq.nrows(), xq.ncols(), quiet);
            warn_outside_support(&xp, &xq, quiet);
            estimate("kl_divergence", &est, |params| information::kl_divergence(&xp, &xq, params))
        }
        Command::Anomalies { model, data, rate, cols, out } => {
            let sink = Sink::reserve(&out)?;
            let m = load_model(&model)?;
            anomalies(&m, &data, rate, &cols, sink, quiet)
        }
        Command::Plot(plot) => crate::plot::run(plot, quiet),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "rbig", &mut out);
            stdout_result(std::io::Write::write_all(&mut std::io::stdout().lock(), &out))
        }
    }
}

/// Fails, naming `flag`, for a model that stores no training scores.
pub(crate) fn reference_scores(model: &Rbig, flag: &str) -> Result<(), Failure> {
    match model.tail_probability(0.0) {
        Some(_) => Ok(()),
        None => Err(usage(format!(
            "{flag}: the model stores no training scores (a file of format 4 or older); refit it with this version"
        ))),
    }
}

/// `rbig anomalies`: the rows scoring below the `rate` quantile of the training scores.
fn anomalies(model: &Rbig, data: &Path, rate: f64, cols: &DataArgs, sink: Sink, quiet: bool) -> Result<(), Failure> {
    reference_scores(model, "anomalies")?;
    if !(rate > 0.0 && rate < 1.0) {
        return Err(usage(format!("--rate {rate}: must lie strictly between 0 and 1")));
    }
    let threshold = model.score_quantile(rate).expect("checked above");
    let input = read_for_model(data, cols, model, "", quiet)?;
    let scores = model.log_density(&input.x)?;
    let flagged: Vec<usize> = (0..scores.len()).filter(|&i| scores[i] < threshold).collect();
    let d = input.x.ncols();
    let table = Array2::from_shape_fn((flagged.len(), d + 3), |(r, c)| {
        let i = flagged[r];
        match c {
            0 => (i + 1) as f64,
            c if c <= d => input.x[(i, c - 1)],
            c if c == d + 1 => scores[i],
            _ => model.tail_probability(scores[i]).expect("checked above"),
        }
    });
    let names = model
        .column_names()
        .map(<[String]>::to_vec)
        .or(input.names)
        .unwrap_or_else(|| (1..=d).map(|j| format!("x{j}")).collect());
    let header = std::iter::once("row".to_string()).chain(names).chain(["log_density".into(), "tail".into()]).collect();
    if !quiet {
        eprintln!(
            "rbig: {} of {} rows below the {rate} quantile of the training scores ({})",
            flagged.len(),
            scores.len(),
            rbig::io::format_number(threshold)
        );
    }
    sink.emit(&table, Some(header))
}

/// `rbig fit`: fits (or selects, with `density`) a model and saves it.
#[allow(clippy::too_many_arguments)]
fn fit(
    data: &Path,
    cols: &DataArgs,
    output: &Path,
    params: RbigParams,
    args: &FitArgs,
    dequantize: bool,
    density: bool,
    force: bool,
    quiet: bool,
) -> Result<(), Failure> {
    if is_dash(output) {
        return Err(usage("-o -: a model file is binary and does not go to standard output; give it a file name"));
    }
    let out = OutputFile::create(output, force)?;
    params.check_ref()?;
    let Data { mut x, names } = read(data, cols, quiet)?;
    warn_point_masses(data, &x, quiet);
    warn_few_rows(data, x.nrows(), x.ncols(), quiet);
    let widths = dequantize.then(|| resolution(&x));
    if let Some(w) = &widths {
        x = jitter(&x, w, args.seed)?;
    }
    let p = guarded(params, args).check()?;
    let start = Instant::now();
    let mut progress = Progress::new(quiet);
    let mut tc = 0.0;
    let model = if density {
        let candidates: Vec<RbigParams> =
            rbig::density_candidates().into_iter().map(|c| guarded(with_fit_args(c, args), args)).collect();
        rbig::select(&x, &candidates).map(|s| s.model)
    } else {
        p.fit_observed(&x, |layer| {
            tc += layer.tc_reduction;
            progress.layer(tc);
        })
    };
    progress.finish();
    let mut model = match &widths {
        Some(w) => model?.with_dequantization_widths(w.clone())?,
        None => model?,
    };
    if let Some(names) = names {
        model = model.with_column_names(names)?;
    }
    let seconds = start.elapsed().as_secs_f64();
    out.commit(&model.to_bytes())?;
    print_line(&fit_json(&model, seconds).to_string())
}

/// The two blocks of `rbig mi`: two files, or one file split after `split` columns.
fn blocks(
    x: &Path,
    y: Option<PathBuf>,
    split: Option<usize>,
    cols: &DataArgs,
    quiet: bool,
) -> Result<(Array2<f64>, Array2<f64>), Failure> {
    let a = read(x, cols, quiet)?.x;
    let (a, b) = match (y, split) {
        (Some(y), None) => (a, read(&y, cols, quiet)?.x),
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
        _ => return Err(usage("give a second data file, --split K, or --x and --y")),
    };
    if a.nrows() != b.nrows() {
        return Err(RbigError::RowMismatch { first: a.nrows(), second: b.nrows() }.into());
    }
    Ok((a, b))
}

/// Runs an estimator with the parameters the flags describe and prints its JSON.
fn estimate(
    key: &str,
    est: &EstimatorArgs,
    f: impl FnOnce(&RbigParams) -> Result<InformationEstimate, RbigError>,
) -> Result<(), Failure> {
    let start = Instant::now();
    let value = f(&guarded(builder(est.rotation, &est.fit), &est.fit))?;
    print_line(&estimate_json(key, value, est.units, start.elapsed().as_secs_f64()).to_string())
}

/// Where a command's table goes: standard output, or a file reserved before the work.
enum Sink {
    Stdout,
    File(OutputFile),
}

impl Sink {
    fn reserve(out: &OutputArgs) -> Result<Self, Failure> {
        Ok(match &out.output {
            Some(path) if !is_dash(path) => Sink::File(OutputFile::create(path, out.force)?),
            _ => Sink::Stdout,
        })
    }

    /// Writes `x`, with a header of `names` in CSV.
    fn emit(self, x: &Array2<f64>, names: Option<Vec<String>>) -> Result<(), Failure> {
        let names = names.as_deref();
        match self {
            Sink::File(file) => Ok(file.commit_table(x.view(), names)?),
            Sink::Stdout => stdout_result(write_table(std::io::stdout().lock(), x.view(), names)),
        }
    }
}
