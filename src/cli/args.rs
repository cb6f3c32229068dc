//! The command line: what each command takes.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use rbig::information::Units;
use rbig::{Knots, RotationKind};

const EXAMPLES: &str = "\
Examples:
  rbig fit data/magic/train.csv -o magic.rbig
  rbig score magic.rbig data/magic/test.csv -o test_logp.csv
  rbig sample magic.rbig -n 1000 --seed 1 -o draws.npy
  rbig mi data.csv --split 3 --units bits
  rbig entropy data.npy

Data files: CSV or TSV (a header row and # comment lines are skipped) or .npy (floats,
integers or booleans), rows = samples; - reads standard input. Results go to stdout as
CSV unless -o names a file; an -o path ending in .npy writes .npy. Existing files are
never replaced without --force.

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
