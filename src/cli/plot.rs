//! `rbig plot`: pictures of a model, drawn with plotters into memory (PNG or SVG) and
//! written through the tool's one output path, so a picture is never half-written.

use std::path::Path;

use image::ImageEncoder as _;
use ndarray::{Array1, Array2, ArrayView1, Axis};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use rand::SeedableRng;
use rbig::io::OutputFile;
use rbig::Rbig;

use crate::args::{DataArgs, PlotCommand, PlotOutput};
use crate::commands::{load_model, usage, Failure};
use crate::data::{read_for_model, resolve, Data};

/// The font every picture's text is set in, bundled so that drawing needs no system
/// library or installed font (DejaVu Sans, Bitstream Vera licence: `assets/fonts`).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Rows of data drawn as points at most (evenly spaced through the file).
const MAX_POINTS: usize = 2000;
/// Model samples behind a pair grid's points and diagonal densities.
const MODEL_DRAWS: usize = 20_000;

type DrawResult = Result<(), String>;

/// A picture that can be drawn on any plotters backend.
trait Picture {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult;
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

pub(crate) fn run(command: PlotCommand, quiet: bool) -> Result<(), Failure> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| Failure { message: "the bundled font cannot be read".into(), code: 1 })?;
    match command {
        PlotCommand::Convergence { model, out } => {
            let file = reserve(&out)?;
            let model = load_model(&model)?;
            write(file, &out, &Convergence { model: &model })
        }
        PlotCommand::Density { model, data, columns, seed, out } => {
            let file = reserve(&out)?;
            let model = load_model(&model)?;
            let data = match &data {
                Some(path) => {
                    let name =
                        path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into());
                    Some((read_for_model(path, &DataArgs::default(), &model, "", quiet)?, name))
                }
                None => None,
            };
            let picture = DensityPicture::new(&model, data, columns.as_deref(), seed)?;
            write(file, &out, &picture)
        }
        PlotCommand::Scores { model, data, cols, out } => {
            let file = reserve(&out)?;
            let model = load_model(&model)?;
            let input = read_for_model(&data, &cols, &model, "", quiet)?;
            let scores = model.log_density(&input.x)?;
            write(file, &out, &Scores { model: &model, scores })
        }
    }
}

/// PNG or SVG, by the output's extension.
fn is_svg(path: &Path) -> Result<bool, Failure> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("png") => Ok(false),
        Some("svg") => Ok(true),
        _ => Err(usage(format!("-o {}: name a .png or .svg file", path.display()))),
    }
}

fn reserve(out: &PlotOutput) -> Result<OutputFile, Failure> {
    is_svg(&out.output)?;
    Ok(OutputFile::create(&out.output, out.force)?)
}

fn write(file: OutputFile, out: &PlotOutput, picture: &impl Picture) -> Result<(), Failure> {
    let bytes = render(picture, out.size, is_svg(&out.output)?)
        .map_err(|e| Failure { message: format!("drawing {}: {e}", out.output.display()), code: 1 })?;
    Ok(file.commit(&bytes)?)
}

/// The picture's file bytes.
fn render(picture: &impl Picture, (w, h): (u32, u32), svg: bool) -> Result<Vec<u8>, String> {
    if svg {
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, (w, h)).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            picture.draw(&root)?;
            root.present().map_err(err)?;
        }
        return Ok(text.into_bytes());
    }
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        picture.draw(&root)?;
        root.present().map_err(err)?;
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png).write_image(&rgb, w, h, image::ColorType::Rgb8).map_err(err)?;
    Ok(png)
}

/// A note in place of a panel that has nothing to show.
fn note<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, title: &str, text: &str) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Rectangle::new([(0, 0), (w as i32 - 1, h as i32 - 1)], BLACK.mix(0.3))).map_err(err)?;
    area.draw_text(title, &("sans-serif", 17).into_font().color(&BLACK), (10, 8)).map_err(err)?;
    area.draw_text(text, &("sans-serif", 14).into_font().color(&BLACK.mix(0.7)), (10, h as i32 / 2)).map_err(err)
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The chart's series labels, boxed on white.
fn legend<'a, DB: DrawingBackend + 'a>(chart: &mut Chart<'a, DB>) -> DrawResult {
    chart.configure_series_labels().background_style(WHITE.mix(0.85)).border_style(BLACK).draw().map_err(err)
}

/// Histogram bars of `heights` over equal bins `width` wide from `lo`.
fn bars(heights: &[f64], lo: f64, width: f64, colour: RGBColor) -> impl Iterator<Item = Rectangle<(f64, f64)>> + '_ {
    heights.iter().enumerate().map(move |(i, &h)| {
        let x = lo + i as f64 * width;
        Rectangle::new([(x, 0.0), (x + width, h)], colour.filled())
    })
}

/// A layer count on an axis.
fn whole(v: &f64) -> String {
    format!("{v:.0}")
}

/// `(lo, hi)` of the finite values, widened by `pad` of the span (and to a unit span
/// when all are equal).
fn range(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (-1.0, 1.0);
    }
    let span = if hi > lo { hi - lo } else { 1.0 };
    (lo - pad * span, hi + pad * span)
}

/// The `p` quantile of `values` (sorted copy; nearest rank).
fn quantile(values: &[f64], p: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Counts of `values` in `bins` equal bins over `[lo, hi)`, as densities.
fn histogram(values: ArrayView1<'_, f64>, lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0.0; bins];
    for &v in values {
        if v >= lo && v < hi {
            counts[(((v - lo) / width) as usize).min(bins - 1)] += 1.0;
        }
    }
    let total = values.len().max(1) as f64;
    counts.iter().map(|c| c / (total * width)).collect()
}

/// Total correlation removed per layer, in all, and the held-out curve.
struct Convergence<'a> {
    model: &'a Rbig,
}

impl Picture for Convergence<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let m = self.model;
        let panels = root.split_evenly((3, 1));
        let layers = m.diagnostics();
        let band = m.significance_threshold();
        let n = layers.len();
        if n == 0 {
            note(
                &panels[0],
                "Total correlation removed per layer",
                "no rotating layers: the columns were found independent (nothing to remove)",
            )?;
        } else {
            let reductions: Vec<f64> = layers.iter().map(|l| l.tc_reduction).collect();
            let (lo, hi) = range(reductions.iter().copied().chain([band, -band, 0.0]), 0.08);
            let mut chart = ChartBuilder::on(&panels[0])
                .caption("Total correlation removed per layer (nats)", ("sans-serif", 17))
                .margin(8)
                .x_label_area_size(28)
                .y_label_area_size(56)
                .build_cartesian_2d(0.5..n as f64 + 0.5, lo..hi)
                .map_err(err)?;
            chart.configure_mesh().x_desc("layer").disable_x_mesh().x_label_formatter(&whole).draw().map_err(err)?;
            chart
                .draw_series([Rectangle::new(
                    [(0.5, -band), (n as f64 + 0.5, band)],
                    RGBColor(253, 174, 97).mix(0.35).filled(),
                )])
                .map_err(err)?
                .label(format!("noise band: ±{} × layer noise sd", m.hyperparameters().significance()))
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], RGBColor(253, 174, 97).mix(0.6).filled())
                });
            chart
                .draw_series(layers.iter().enumerate().map(|(k, l)| {
                    let colour = if l.significant { RGBColor(49, 130, 189) } else { RGBColor(160, 160, 160) };
                    let x = (k + 1) as f64;
                    Rectangle::new([(x - 0.4, 0.0), (x + 0.4, l.tc_reduction)], colour.filled())
                }))
                .map_err(err)?
                .label("layer's reduction (grey: within the noise)")
                .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], RGBColor(49, 130, 189).filled()));
            legend(&mut chart)?;
        }
        let pre = m.pre_steps().tc_reduction;
        let cumulative: Vec<(f64, f64)> = std::iter::once((0.0, pre))
            .chain(layers.iter().enumerate().scan(pre, |acc, (k, l)| {
                *acc += l.tc_reduction;
                Some(((k + 1) as f64, *acc))
            }))
            .collect();
        let (lo, hi) = range(cumulative.iter().map(|p| p.1).chain([0.0]), 0.08);
        let mut chart = ChartBuilder::on(&panels[1])
            .caption(format!("Total correlation removed in all: {:.4} nats", m.total_correlation()), ("sans-serif", 17))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5..n as f64 + 0.5, lo..hi)
            .map_err(err)?;
        chart.configure_mesh().x_desc("layers").x_label_formatter(&whole).draw().map_err(err)?;
        chart
            .draw_series(LineSeries::new(cumulative.iter().copied(), RGBColor(49, 130, 189).stroke_width(2)))
            .map_err(err)?;
        chart
            .draw_series(cumulative.iter().map(|&p| Circle::new(p, 3, RGBColor(49, 130, 189).filled())))
            .map_err(err)?;
        match m.held_out_curve() {
            None => note(
                &panels[2],
                "Held-out log-likelihood per depth",
                "no held-out rows: the depth was set by the significance rule (rbig fit --density holds rows out)",
            ),
            Some(curve) => {
                let points: Vec<(f64, f64)> =
                    curve.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(k, &v)| (k as f64, v)).collect();
                let (lo, hi) = range(points.iter().map(|p| p.1), 0.08);
                let chosen = m.n_layers() as f64;
                let mut chart = ChartBuilder::on(&panels[2])
                    .caption(
                        format!("Held-out mean log-likelihood per depth (chosen: {} layers)", m.n_layers()),
                        ("sans-serif", 17),
                    )
                    .margin(8)
                    .x_label_area_size(28)
                    .y_label_area_size(56)
                    .build_cartesian_2d(-0.5..curve.len() as f64 - 0.5, lo..hi)
                    .map_err(err)?;
                chart.configure_mesh().x_desc("layers").x_label_formatter(&whole).draw().map_err(err)?;
                chart
                    .draw_series(LineSeries::new(points.iter().copied(), RGBColor(35, 139, 69).stroke_width(2)))
                    .map_err(err)?;
                chart
                    .draw_series(LineSeries::new([(chosen, lo), (chosen, hi)], RGBColor(215, 48, 39).stroke_width(2)))
                    .map_err(err)?;
                Ok(())
            }
        }
    }
}

/// The log-densities of some rows against the training rows' quantiles.
struct Scores<'a> {
    model: &'a Rbig,
    scores: Array1<f64>,
}

impl Picture for Scores<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let values = self.scores.as_slice().expect("contiguous");
        let finite = values.iter().filter(|v| v.is_finite()).count();
        if finite == 0 {
            return note(root, "Log-densities", "no row has a finite log-density under the model");
        }
        let marks: Vec<(f64, f64)> =
            [0.01, 0.05, 0.5].iter().filter_map(|&p| self.model.score_quantile(p).map(|q| (p, q))).collect();
        let lo = quantile(values, 0.002).min(marks.first().map_or(f64::INFINITY, |m| m.1));
        let hi = quantile(values, 1.0);
        let (lo, hi) = range([lo, hi].into_iter(), 0.05);
        let bins = 60;
        let heights = histogram(self.scores.view(), lo, hi, bins);
        let top = heights.iter().copied().fold(0.0, f64::max) * 1.1;
        let caption = match marks.is_empty() {
            true => format!("Log-densities of {} rows (the model stores no training scores)", values.len()),
            false => format!("Log-densities of {} rows, training quantiles marked", values.len()),
        };
        let mut chart = ChartBuilder::on(root)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, 0.0..top.max(1e-12))
            .map_err(err)?;
        chart.configure_mesh().x_desc("log-density (nats)").y_desc("density").draw().map_err(err)?;
        let width = (hi - lo) / bins as f64;
        chart.draw_series(bars(&heights, lo, width, RGBColor(107, 174, 214))).map_err(err)?;
        let colours = [RGBColor(215, 48, 39), RGBColor(244, 109, 67), RGBColor(69, 117, 180)];
        for (&(p, q), colour) in marks.iter().zip(colours) {
            chart
                .draw_series(LineSeries::new([(q, 0.0), (q, top)], colour.stroke_width(2)))
                .map_err(err)?
                .label(format!("{:.0} % of training rows score below {:.3}", p * 100.0, q))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2)));
        }
        if !marks.is_empty() {
            legend(&mut chart)?;
        }
        Ok(())
    }
}

/// The model's density: a curve (1 column), filled contours (2), a pair grid (more).
struct DensityPicture<'a> {
    model: &'a Rbig,
    /// Data rows drawn as points (at most [`MAX_POINTS`]), if given.
    data: Option<Array2<f64>>,
    /// What the points are (the data file's name).
    data_label: String,
    /// Model draws, for the pair grid and the ranges.
    draws: Array2<f64>,
    /// The columns shown (zero-based) and their labels.
    columns: Vec<usize>,
    labels: Vec<String>,
}

impl<'a> DensityPicture<'a> {
    fn new(
        model: &'a Rbig,
        data: Option<(Data, String)>,
        columns: Option<&[String]>,
        seed: u64,
    ) -> Result<Self, Failure> {
        let d = model.dim();
        let names: Vec<String> =
            model.column_names().map(<[String]>::to_vec).unwrap_or_else(|| (1..=d).map(|j| format!("x{j}")).collect());
        let columns = match columns {
            Some(list) => resolve(Some(&names), d, list, Path::new("the model"), "--columns")?,
            None => (0..d.min(4)).collect(),
        };
        let labels = columns.iter().map(|&j| names[j].clone()).collect();
        let draws = model.sample(MODEL_DRAWS, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed))?;
        let data_label = data.as_ref().map_or_else(String::new, |(_, name)| name.clone());
        let data = data.map(|(data, _)| {
            let n = data.x.nrows();
            let step = n.div_ceil(MAX_POINTS).max(1);
            data.x.select(Axis(0), &(0..n).step_by(step).collect::<Vec<_>>())
        });
        Ok(Self { model, data, data_label, draws, columns, labels })
    }

    /// The range shown for column `j`: the central 99.5 % of data and draws, padded.
    fn axis(&self, j: usize) -> (f64, f64) {
        let mut values: Vec<f64> = self.draws.column(j).to_vec();
        if let Some(x) = &self.data {
            values.extend(x.column(j).iter());
        }
        range([quantile(&values, 0.0025), quantile(&values, 0.9975)].into_iter(), 0.08)
    }

    fn one_column<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let (lo, hi) = self.axis(0);
        let grid = Array2::from_shape_fn((400, 1), |(i, _)| lo + (hi - lo) * i as f64 / 399.0);
        let density = self.model.log_density(&grid).map_err(err)?.mapv(f64::exp);
        let shown = self.data.as_ref().unwrap_or(&self.draws);
        let bins = 50;
        let heights = histogram(shown.column(0), lo, hi, bins);
        let top = heights.iter().chain(density.iter()).copied().fold(0.0, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(root)
            .caption(format!("Density of {}", self.labels[0]), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, 0.0..top.max(1e-12))
            .map_err(err)?;
        chart.configure_mesh().x_desc(self.labels[0].as_str()).y_desc("density").draw().map_err(err)?;
        let width = (hi - lo) / bins as f64;
        let what = if self.data.is_some() { self.data_label.as_str() } else { "model samples" };
        chart
            .draw_series(bars(&heights, lo, width, RGBColor(158, 202, 225)))
            .map_err(err)?
            .label(format!("histogram of {what}"))
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], RGBColor(158, 202, 225).filled()));
        let curve = grid.column(0).into_iter().copied().zip(density.iter().copied());
        chart
            .draw_series(LineSeries::new(curve, RGBColor(8, 69, 148).stroke_width(2)))
            .map_err(err)?
            .label("model density")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RGBColor(8, 69, 148).stroke_width(2)));
        legend(&mut chart)
    }

    fn two_columns<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let (x0, x1) = self.axis(0);
        let (y0, y1) = self.axis(1);
        let g = 140;
        let cell = |i: usize, lo: f64, hi: f64| lo + (hi - lo) * (i as f64 + 0.5) / g as f64;
        let grid =
            Array2::from_shape_fn((g * g, 2), |(k, c)| if c == 0 { cell(k % g, x0, x1) } else { cell(k / g, y0, y1) });
        let log_p = self.model.log_density(&grid).map_err(err)?;
        let top = log_p.iter().copied().filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max);
        // Twelve bands over the top 12 nats: filled contours of the log-density.
        let levels = 12.0;
        let caption = match self.data {
            Some(_) => format!("Log-density (filled contours, 1 nat apart); points: {}", self.data_label),
            None => "Log-density (filled contours, 1 nat apart)".to_string(),
        };
        let mut chart = ChartBuilder::on(root)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        chart.configure_mesh().x_desc(self.labels[0].as_str()).y_desc(self.labels[1].as_str()).draw().map_err(err)?;
        let (dx, dy) = ((x1 - x0) / g as f64, (y1 - y0) / g as f64);
        chart
            .draw_series((0..g * g).map(|k| {
                let band = ((top - log_p[k]).max(0.0)).floor().min(levels);
                let colour = ViridisRGB::get_color_normalized(levels - band, 0.0, levels);
                let (x, y) = (x0 + (k % g) as f64 * dx, y0 + (k / g) as f64 * dy);
                Rectangle::new([(x, y), (x + dx, y + dy)], colour.filled())
            }))
            .map_err(err)?;
        if let Some(data) = &self.data {
            chart
                .draw_series(data.rows().into_iter().map(|r| Circle::new((r[0], r[1]), 2, WHITE.mix(0.6).filled())))
                .map_err(err)?;
        }
        Ok(())
    }

    fn pair_grid<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let k = self.columns.len();
        let (title, body) = root.split_vertically(34);
        let legend = match self.data {
            Some(_) => format!(
                "Pairs: {} (blue) against model samples (orange); diagonal: its histogram, the model's marginal (line)",
                self.data_label
            ),
            None => "Pairs: model samples; diagonal: the model's marginal densities".to_string(),
        };
        title.draw_text(&legend, &("sans-serif", 15).into_font().color(&BLACK), (10, 10)).map_err(err)?;
        let cells = body.split_evenly((k, k));
        let axes: Vec<(f64, f64)> = self.columns.iter().map(|&j| self.axis(j)).collect();
        let points = self.draws.slice(ndarray::s![..MAX_POINTS.min(self.draws.nrows()), ..]);
        for (index, area) in cells.iter().enumerate() {
            let (r, c) = (index / k, index % k);
            let (jr, jc) = (self.columns[r], self.columns[c]);
            let label_x = if r + 1 == k { self.labels[c].as_str() } else { "" };
            let label_y = if c == 0 { self.labels[r].as_str() } else { "" };
            if r == c {
                let (lo, hi) = axes[c];
                let bins = 30;
                let model_h = histogram(self.draws.column(jc), lo, hi, bins);
                let data_h = self.data.as_ref().map(|x| histogram(x.column(jc), lo, hi, bins));
                let top = model_h.iter().chain(data_h.iter().flatten()).copied().fold(0.0, f64::max) * 1.1;
                let mut chart = ChartBuilder::on(area)
                    .margin(4)
                    .x_label_area_size(if label_x.is_empty() { 14 } else { 30 })
                    .y_label_area_size(if label_y.is_empty() { 14 } else { 48 })
                    .build_cartesian_2d(lo..hi, 0.0..top.max(1e-12))
                    .map_err(err)?;
                chart.configure_mesh().disable_mesh().x_labels(3).y_labels(0).x_desc(label_x).draw().map_err(err)?;
                let width = (hi - lo) / bins as f64;
                if let Some(h) = &data_h {
                    chart.draw_series(bars(h, lo, width, RGBColor(107, 174, 214))).map_err(err)?;
                }
                let line = model_h.iter().enumerate().map(|(i, &v)| (lo + (i as f64 + 0.5) * width, v));
                chart.draw_series(LineSeries::new(line, RGBColor(230, 85, 13).stroke_width(2))).map_err(err)?;
                continue;
            }
            let ((x0, x1), (y0, y1)) = (axes[c], axes[r]);
            let mut chart = ChartBuilder::on(area)
                .margin(4)
                .x_label_area_size(if label_x.is_empty() { 14 } else { 30 })
                .y_label_area_size(if label_y.is_empty() { 14 } else { 48 })
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(err)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(3)
                .y_labels(3)
                .x_desc(label_x)
                .y_desc(label_y)
                .draw()
                .map_err(err)?;
            chart
                .draw_series(
                    points
                        .rows()
                        .into_iter()
                        .map(|p| Circle::new((p[jc], p[jr]), 1, RGBColor(230, 85, 13).mix(0.35).filled())),
                )
                .map_err(err)?;
            if let Some(x) = &self.data {
                chart
                    .draw_series(
                        x.rows()
                            .into_iter()
                            .map(|p| Circle::new((p[jc], p[jr]), 1, RGBColor(33, 113, 181).mix(0.45).filled())),
                    )
                    .map_err(err)?;
            }
        }
        Ok(())
    }
}

impl Picture for DensityPicture<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        match self.columns.len() {
            1 if self.model.dim() == 1 => self.one_column(root),
            2 if self.model.dim() == 2 => self.two_columns(root),
            _ => self.pair_grid(root),
        }
    }
}
