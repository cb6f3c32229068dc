//! What the commands print: JSON summaries, warnings and the progress display.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ndarray::Array2;
use rbig::dequantize::point_masses;
use rbig::information::{InformationEstimate, Units};
use rbig::io::format_number;
use rbig::{Knots, Rbig};
use serde_json::{json, Value};

/// A progress display on stderr that appears only once a fit has run for a second, and
/// only on a terminal.
pub(crate) struct Progress {
    bar: ProgressBar,
    start: Instant,
    shown: bool,
    enabled: bool,
}

impl Progress {
    pub(crate) fn new(quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} layer {pos}: {msg}").expect("valid template"));
        Self { bar, start: Instant::now(), shown: false, enabled: !quiet && std::io::stderr().is_terminal() }
    }

    pub(crate) fn layer(&mut self, tc: f64) {
        self.bar.inc(1);
        self.bar.set_message(format!("total correlation {tc:.4} nats"));
        if self.enabled && !self.shown && self.start.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Warns on stderr about columns where one value holds most rows: a point mass, which a
/// density model can only smear out (the fit dequantizes ties at the data's resolution,
/// but a spike of that size still dominates every estimate).
pub(crate) fn warn_point_masses(path: &Path, x: &Array2<f64>, quiet: bool) {
    // With no more rows than columns the fit refuses the data anyway: a warning per
    // column would only bury that error.
    if quiet || x.nrows() <= x.ncols() {
        return;
    }
    const SHOWN: usize = 5;
    let masses = point_masses(x, 0.5);
    for mass in masses.iter().take(SHOWN) {
        eprintln!(
            "rbig: warning: {}: column {} has {:.1}% of its rows at {}; estimates treat it as continuous \
             (ties are spread over the data's resolution) and may be meaningless; consider dropping it",
            path.display(),
            mass.column + 1,
            100.0 * mass.share,
            format_number(mass.value)
        );
    }
    if masses.len() > SHOWN {
        eprintln!("rbig: warning: {}: and {} more columns like these", path.display(), masses.len() - SHOWN);
    }
}

/// Warns on stderr when `rows` are too few for `columns`: with fewer than 20 rows per
/// column (where ICA mode falls back to PCA) estimates of dependence are dominated by
/// sampling noise (200 independent Gaussian columns with 201 rows showed a total
/// correlation of 51 nats).
pub(crate) fn warn_few_rows(path: &Path, rows: usize, columns: usize, quiet: bool) {
    if !quiet && columns > 1 && rows > columns && rows < 20 * columns {
        eprintln!(
            "rbig: warning: {}: {rows} rows for {columns} columns (fewer than 20 per column): estimates of \
             dependence are dominated by sampling noise and may be far off",
            path.display()
        );
    }
}

/// Warns on stderr about the column where most of `p`'s rows fall outside the range of
/// `q`'s sample, if more than 1 % do: where Q has no mass D(P ‖ Q) is infinite, and
/// the estimate only extrapolates Q's fitted tails.
pub(crate) fn warn_outside_support(p: &Array2<f64>, q: &Array2<f64>, quiet: bool) {
    if quiet {
        return;
    }
    let outside = |c: usize| {
        let column = q.column(c);
        let (lo, hi) = column.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        p.column(c).iter().filter(|&&v| v < lo || v > hi).count() as f64 / p.nrows() as f64
    };
    let worst = (0..p.ncols().min(q.ncols())).map(|c| (c, outside(c))).max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((column, share)) = worst.filter(|&(_, share)| share > 0.01) {
        eprintln!(
            "rbig: warning: {:.1}% of P's rows lie outside Q's range in column {}: where Q has no mass the \
             divergence is infinite, and the estimate only extrapolates Q's tails",
            100.0 * share,
            column + 1
        );
    }
}

fn knots_json(knots: Knots) -> Value {
    match knots {
        Knots::Auto => json!("auto"),
        Knots::Fixed(k) => json!(k),
        Knots::Smooth => json!("smooth"),
    }
}

fn rotation_json(model: &Rbig) -> Value {
    json!(format!("{:?}", model.hyperparameters().rotation()).to_lowercase())
}

/// What `fit` and `info` both say of a model.
fn model_json(model: &Rbig) -> Value {
    json!({
        "n": model.n_train(),
        "d": model.dim(),
        "layers": model.n_layers(),
        "total_correlation": model.total_correlation(),
        "units": "nats",
    })
}

/// `fit`'s summary: the model, the time, what the held-out rows chose, and the bin
/// widths the data were dequantized with (stored in the model too).
pub(crate) fn fit_json(model: &Rbig, seconds: f64) -> Value {
    let mut summary = model_json(model);
    summary["seconds"] = json!(seconds);
    if let Some(score) = model.held_out_log_likelihood() {
        summary["held_out_log_likelihood"] = json!(score);
        summary["rotation"] = rotation_json(model);
        summary["knots"] = knots_json(model.hyperparameters().knots());
        summary["whiten"] = json!(model.hyperparameters().whiten());
        summary["mixture_components"] = json!(model.pre_steps().mixture_components);
    }
    if let Some(w) = model.dequantization_widths() {
        summary["dequantized_widths"] = json!(w);
    }
    summary
}

/// `info`'s description of a saved model.
pub(crate) fn info_json(model: &Rbig, format_version: u32) -> Value {
    let p = model.hyperparameters();
    let pre = model.pre_steps();
    let mut info = model_json(model);
    info["format_version"] = json!(format_version);
    info["dequantized_widths"] = json!(model.dequantization_widths());
    info["tc_reductions"] = json!(model.diagnostics().iter().map(|l| l.tc_reduction).collect::<Vec<_>>());
    info["pre_steps"] = json!({
        "unmixing_steps": pre.unmixing_steps,
        "refined": pre.refined,
        "radial": pre.radial,
        "mixture_components": pre.mixture_components,
        "tc_reduction": pre.tc_reduction,
    });
    info["entropy"] = json!(model.entropy());
    info["params"] = json!({
        "rotation": rotation_json(model),
        "max_layers": p.max_layers(),
        "patience": p.patience(),
        "significance": p.significance(),
        "knots": knots_json(p.knots()),
        "seed": p.seed(),
        "shrinkage": p.shrinkage(),
        "whiten": p.whiten(),
        "validation": p.validation().map(|v| json!({"fraction": v.fraction, "patience": v.patience})),
    });
    info["held_out_log_likelihood"] = json!(model.held_out_log_likelihood());
    info["held_out_curve"] = json!(model.held_out_curve());
    info["column_names"] = json!(model.column_names());
    // The training rows' score quantiles behind `anomalies` and `score --tail`.
    info["training_score_quantiles"] = json!(model
        .tail_probability(0.0)
        .map(|_| { [0.01, 0.05, 0.5, 0.95].map(|p| json!({"p": p, "log_density": model.score_quantile(p)})) }));
    info
}

/// An information estimate as JSON under `key`, in `units`.
pub(crate) fn estimate_json(key: &str, est: InformationEstimate, units: Units, seconds: f64) -> Value {
    let est = est.in_units(units);
    json!({
        key: est.value(),
        "standard_error": est.standard_error(),
        "units": est.units().name(),
        "method": est.method().name(),
        "layers": est.layers(),
        "seconds": seconds,
    })
}
