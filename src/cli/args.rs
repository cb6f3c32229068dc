//! The command line: what each command takes.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use rbig::information::Units;
use rbig::{Knots, MixtureStart, RotationKind, Whitening};

const EXAMPLES: &str = "\
Examples:
  rbig fit data/magic/train.csv -o magic.rbig
  rbig score magic.rbig data/magic/test.csv -o test_logp.csv
  rbig sample magic.rbig -n 1000 --seed 1 -o draws.npy
  rbig mi data.csv --x age,income --y spend --units bits
  rbig anomalies magic.rbig data/magic/test.csv --rate 0.01
  rbig plot density magic.rbig --data data/magic/test.csv -o pairs.png

Data files: CSV or TSV (# comment lines skipped; a first row of names is read as the
header, and a blank first name, as pandas writes its index, drops that column) or .npy
(floats, integers or booleans), rows = samples; - reads standard input. --columns picks
columns by name or by number (from 1). Results go to stdout as CSV unless -o names a
file; an -o path ending in .npy writes .npy. CSV outputs carry a header when the input
or the model has names. Existing files are never replaced without --force.

Threads: --threads N, else the RAYON_NUM_THREADS environment variable, else every core.
The results do not depend on the number of threads.

Exit codes: 0 success; 2 bad input or usage (a bad cell, a ragged row, wrong
dimensions, an existing output file without --force); 1 any other failure (unreadable
or foreign model file, I/O error).";

/// Density estimation and information measures by Rotation-Based Iterative
/// Gaussianization.
#[derive(Parser)]
#[command(name = "rbig", version, about, after_help = EXAMPLES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// No progress bar.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// Worker threads (default: RAYON_NUM_THREADS if set, else every core). Results
    /// are the same for any number.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: Option<u16>,
}

#[derive(Args)]
pub(crate) struct FitArgs {
    /// Upper bound on the number of layers.
    #[arg(long)]
    pub(crate) max_layers: Option<usize>,
    /// Seed of the random rotations.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Knots of each marginal map: `auto` (1.25·n^(1/3) at the samples' normal scores,
    /// the default), `smooth` (twice as many, at a kernel-smoothed CDF's normal scores:
    /// better held-out density on smooth data), or a number.
    #[arg(long, value_parser = parse_knots)]
    pub(crate) knots: Option<Knots>,
    /// Refuse up front a fit needing more memory than this beyond the loaded data, in
    /// bytes or with a K, M or G suffix (default: the memory available when the fit
    /// starts, from /proc/meminfo).
    #[arg(long, value_parser = parse_size)]
    pub(crate) memory_limit: Option<u64>,
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

#[derive(Args)]
pub(crate) struct EstimatorArgs {
    /// Rotation of the models behind the estimate.
    #[arg(long, value_enum, default_value = "ica")]
    pub(crate) rotation: RotationKind,
    /// Units of the result.
    #[arg(long, value_enum, default_value = "nats")]
    pub(crate) units: Units,
    #[command(flatten)]
    pub(crate) fit: FitArgs,
}

/// How a data file's columns are read and chosen.
#[derive(Args, Clone, Default)]
pub(crate) struct DataArgs {
    /// Use these columns, by header name or by number from 1, comma separated (e.g.
    /// `--columns age,income` or `--columns 1,3`).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub(crate) columns: Option<Vec<String>>,
    /// The first row is a header of names, whatever it looks like (no pandas-index
    /// detection).
    #[arg(long, conflicts_with = "no_header")]
    pub(crate) header: bool,
    /// The first row is data (an error if it is not numbers).
    #[arg(long)]
    pub(crate) no_header: bool,
}

#[derive(Args)]
pub(crate) struct OutputArgs {
    /// Output file (.npy or CSV); CSV on stdout when absent or `-`.
    #[arg(short, long)]
    pub(crate) output: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Fit a model to DATA and save it to MODEL; prints a JSON summary.
    ///
    /// Example: rbig fit data/magic/train.csv -o magic.rbig --rotation random --seed 3
    ///
    /// For the best held-out density: rbig fit data/magic/train.csv -o magic.rbig --density
    Fit {
        /// Training data (rows = samples).
        data: PathBuf,
        #[command(flatten)]
        cols: DataArgs,
        /// Where to save the model.
        #[arg(short, long)]
        output: PathBuf,
        /// Rotation used by every layer.
        #[arg(long, value_enum, default_value = "pca")]
        rotation: RotationKind,
        #[command(flatten)]
        fit: FitArgs,
        /// Fit on the data plus uniform noise over each tied column's bin width (its
        /// lattice step), seeded by --seed: the standard treatment of integer or rounded
        /// data; score such data with `rbig score --dequantize`.
        #[arg(long)]
        dequantize: bool,
        /// Fit for density estimation: compare PCA and random rotations, each with `auto`
        /// and `smooth` knots, and ICA with `smooth` knots after a whitening and after a
        /// Gaussian mixture, on a fifth of the rows held out, choosing each one's depth
        /// there too, and refit the best on all rows (six fits and the refit). Replaces
        /// --rotation, --knots, --whiten and --mixture.
        #[arg(long, conflicts_with_all = ["rotation", "knots", "whiten", "mixture"])]
        density: bool,
        /// Start with a Gaussian mixture's Rosenblatt transform, the layers refining it:
        /// for data made of clusters. `--mixture` (or `--mixture=bic`) lets BIC choose the
        /// number of components (`--density` chooses it on its held-out rows);
        /// `--mixture=K` fixes it. Replaces the whitening. For a
        /// density: pair it with held-out depth selection (`--density` tries it).
        #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "bic", value_parser = parse_mixture)]
        mixture: Option<MixtureStart>,
        /// Start with an exact affine whitening (the data's mean and covariance), after
        /// which columns that look Gaussian get affine maps: `--whiten` (or
        /// `--whiten=always`), `--whiten=never`, or `auto`, which fits both and keeps the
        /// one expected to score new rows better. Tables whose columns are near-linear
        /// functions of others need it; skewed columns can lose by it.
        #[arg(
            long,
            value_enum,
            default_value = "auto",
            num_args = 0..=1,
            require_equals = true,
            default_missing_value = "always"
        )]
        whiten: Whitening,
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
        /// Data to map (columns matched to the model's by name when both have names).
        data: PathBuf,
        #[command(flatten)]
        cols: DataArgs,
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
        cols: DataArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Log-density (nats) of each row of DATA under MODEL, in the same order.
    ///
    /// Example: rbig score magic.rbig data/magic/test.csv
    Score {
        /// A saved model.
        model: PathBuf,
        /// Rows to score (columns matched to the model's by name when both have names).
        data: PathBuf,
        #[command(flatten)]
        cols: DataArgs,
        /// Add a `tail` column: the fraction of the training rows that score lower (a
        /// tail probability: small for anomalies, uniform on rows like the training data).
        #[arg(long)]
        tail: bool,
        /// Score discrete data: the dequantized log-likelihood, a log-probability of
        /// each row's lattice cell (mean of ln p over uniform jitter plus Σ ln width).
        /// Alone, it uses the bin widths stored by `rbig fit --dequantize`; WIDTHS
        /// overrides them (comma separated; 0 for a continuous column).
        #[arg(long, value_name = "WIDTHS", num_args = 0..=1)]
        dequantize: Option<Option<String>>,
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
        cols: DataArgs,
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
        cols: DataArgs,
        #[command(flatten)]
        est: EstimatorArgs,
    },
    /// Mutual information between X and Y (same rows); between the first K columns of X
    /// and the rest with --split K; or between two groups of X's columns with --x and --y.
    ///
    /// Examples: rbig mi x.csv y.csv; rbig mi data.csv --split 2; rbig mi data.csv --x a,b --y c
    Mi {
        /// First block (or all the data with --split, or --x and --y).
        x: PathBuf,
        /// Second block.
        #[arg(required_unless_present_any = ["split", "x_columns"], conflicts_with_all = ["split", "x_columns"])]
        y: Option<PathBuf>,
        /// Use the first K columns of X as the first block, the rest as the second.
        #[arg(long, value_name = "K", conflicts_with = "x_columns")]
        split: Option<usize>,
        /// The first block's columns of X, by name or number from 1 (with --y).
        #[arg(long = "x", value_name = "LIST", value_delimiter = ',', requires = "y_columns")]
        x_columns: Option<Vec<String>>,
        /// The second block's columns of X, by name or number from 1 (with --x).
        #[arg(long = "y", value_name = "LIST", value_delimiter = ',', requires = "x_columns")]
        y_columns: Option<Vec<String>>,
        #[command(flatten)]
        cols: DataArgs,
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
        cols: DataArgs,
        #[command(flatten)]
        est: EstimatorArgs,
    },
    /// Rows of DATA whose log-density under MODEL is below the RATE quantile of the
    /// training rows' log-densities: each with its row number (from 1), its values, its
    /// log-density and its tail probability (the fraction of training rows scoring lower).
    ///
    /// Example: rbig anomalies magic.rbig data/magic/test.csv --rate 0.01 -o odd.csv
    Anomalies {
        /// A saved model (fitted by this version: it stores its training scores).
        model: PathBuf,
        /// Rows to check.
        data: PathBuf,
        /// The fraction of training rows that would be flagged.
        #[arg(long, default_value_t = 0.01)]
        rate: f64,
        #[command(flatten)]
        cols: DataArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Draw a picture of a model (PNG, or SVG by the output's extension).
    #[command(subcommand)]
    Plot(PlotCommand),
    /// Print a shell completion script (e.g. `rbig completions bash > /etc/bash_completion.d/rbig`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The pictures `rbig plot` draws.
#[derive(Subcommand)]
pub(crate) enum PlotCommand {
    /// Total correlation removed per layer and in all, with the noise band the stopping
    /// rule used; for models whose depth was chosen on held-out rows, the held-out
    /// log-likelihood per depth and the chosen depth.
    ///
    /// Example: rbig plot convergence magic.rbig -o tc.png
    Convergence {
        /// A saved model.
        model: PathBuf,
        #[command(flatten)]
        out: PlotOutput,
    },
    /// For 2 columns, the log-density as filled contours, with data on top; for more, a
    /// grid of column pairs (data against the model's samples) with each column's
    /// histogram and the model's marginal density on the diagonal.
    ///
    /// Example: rbig plot density magic.rbig --data data/magic/test.csv -o pairs.png
    Density {
        /// A saved model.
        model: PathBuf,
        /// Data to draw on top (by default, only the model's own samples).
        #[arg(long)]
        data: Option<PathBuf>,
        /// The columns of the pair grid, by name or number from 1 (default: the first 4).
        #[arg(long, value_name = "LIST", value_delimiter = ',')]
        columns: Option<Vec<String>>,
        /// Seed of the model's samples.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[command(flatten)]
        out: PlotOutput,
    },
    /// The distribution of the log-densities of DATA, with the training rows' quantiles
    /// marked.
    ///
    /// Example: rbig plot scores magic.rbig data/magic/test.csv -o scores.png
    Scores {
        /// A saved model.
        model: PathBuf,
        /// Rows to score.
        data: PathBuf,
        #[command(flatten)]
        cols: DataArgs,
        #[command(flatten)]
        out: PlotOutput,
    },
}

/// Where a picture goes.
#[derive(Args)]
pub(crate) struct PlotOutput {
    /// The picture: `.png` or `.svg`.
    #[arg(short, long)]
    pub(crate) output: PathBuf,
    /// Width and height in pixels.
    #[arg(long, value_name = "WxH", default_value = "900x700", value_parser = parse_size_px)]
    pub(crate) size: (u32, u32),
    /// Replace an existing file.
    #[arg(long)]
    pub(crate) force: bool,
}

/// `900x700` to (900, 700), each between 200 and 8000.
fn parse_size_px(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{text:?} is not a size such as 900x700 (each side 200 to 8000 pixels)");
    let (w, h) = text.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.trim().parse().map_err(|_| bad())?, h.trim().parse().map_err(|_| bad())?);
    if !(200..=8000).contains(&w) || !(200..=8000).contains(&h) {
        return Err(bad());
    }
    Ok((w, h))
}

/// `--mixture`'s value: `bic` or a number of components (at least 1).
fn parse_mixture(s: &str) -> Result<MixtureStart, String> {
    if s.eq_ignore_ascii_case("bic") {
        return Ok(MixtureStart::Bic);
    }
    match s.parse::<usize>() {
        Ok(k) if k >= 1 => Ok(MixtureStart::Components(k)),
        _ => Err(format!("expected `bic` or a number of components (at least 1), got `{s}`")),
    }
}
