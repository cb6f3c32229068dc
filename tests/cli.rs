//! The `rbig` binary, run as a user would: every subcommand, CSV and NPY, bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ndarray::{Array2, ShapeBuilder};
use ndarray_npy::{read_npy, write_npy};
use rbig::Rbig;

use common::tool::{json, ok, rbig};
use common::TempDir as Dir;

/// Exit code 2 and a single stderr line containing every `needle`.
fn bad_input(out: &Output, needles: &[&str]) {
    assert_eq!(out.status.code(), Some(2), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    for n in needles {
        assert!(err.contains(n), "{err:?} lacks {n:?}");
    }
}

fn write_csv(path: &Path, x: &Array2<f64>) {
    let text: String =
        x.rows().into_iter().map(|r| r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",") + "\n").collect();
    std::fs::write(path, text).unwrap();
}

fn parse_csv(text: &str) -> Vec<Vec<f64>> {
    text.lines().map(|l| l.split(',').map(|c| c.parse().unwrap()).collect()).collect()
}

fn banana_files(dir: &Dir) -> (PathBuf, Array2<f64>) {
    let x = common::banana(1500, 5);
    let p = dir.path("train.csv");
    write_csv(&p, &x);
    (p, x)
}

#[test]
fn fit_info_score_sample_transform_inverse() {
    let dir = Dir::new("main");
    let (train, x) = banana_files(&dir);
    let model = dir.path("m.rbig");
    let summary = json(&rbig(&[&"fit", &train, &"-o", &model, &"--quiet"]));
    for key in ["n", "d", "layers", "total_correlation", "units", "seconds"] {
        assert!(summary.get(key).is_some(), "fit JSON lacks {key}: {summary}");
    }
    assert_eq!(summary["n"], 1500);
    assert_eq!(summary["d"], 2);
    assert_eq!(summary["units"], "nats");

    let info = json(&rbig(&[&"info", &model]));
    assert_eq!(info["format_version"], rbig::FORMAT_VERSION);
    assert_eq!(info["layers"], summary["layers"]);
    assert!(info["tc_reductions"].is_array() && info["params"]["rotation"] == "pca");
    // PCA mode fits nothing before the layers.
    assert_eq!(info["pre_steps"]["unmixing_steps"], 0);
    assert_eq!(info["pre_steps"]["tc_reduction"], 0.0);

    // score agrees exactly with the library.
    let scores: Vec<f64> = parse_csv(&ok(&rbig(&[&"score", &model, &train]))).into_iter().map(|r| r[0]).collect();
    let lib = Rbig::load(&model).unwrap().log_density(&x).unwrap();
    assert_eq!(scores, lib.to_vec());

    // transform to .npy, inverse back to CSV: the round trip recovers the data.
    let z = dir.path("z.npy");
    ok(&rbig(&[&"transform", &model, &train, &"-o", &z]));
    let z_arr: Array2<f64> = read_npy(&z).unwrap();
    assert_eq!(z_arr.dim(), (1500, 2));
    let back = parse_csv(&ok(&rbig(&[&"inverse", &model, &z])));
    for (row, orig) in back.iter().zip(x.rows()) {
        for (a, b) in row.iter().zip(orig) {
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0));
        }
    }

    // sample: reproducible with a seed, to CSV or NPY.
    let a = ok(&rbig(&[&"sample", &model, &"-n", &"5", &"--seed", &"3"]));
    let b = ok(&rbig(&[&"sample", &model, &"-n", &"5", &"--seed", &"3"]));
    assert_eq!(a, b);
    assert_eq!(parse_csv(&a).len(), 5);
    let draws = dir.path("draws.npy");
    ok(&rbig(&[&"sample", &model, &"-n", &"7", &"-o", &draws]));
    let d: Array2<f64> = read_npy(&draws).unwrap();
    assert_eq!(d.dim(), (7, 2));
}

#[test]
fn estimator_commands() {
    let dir = Dir::new("est");
    let (train, _) = banana_files(&dir);
    let y = dir.path("y.csv");
    write_csv(&y, &common::standard_normal(1500, 1, 9));
    let cases: [(&str, Vec<&dyn AsRef<std::ffi::OsStr>>); 5] = [
        ("entropy", vec![&"entropy", &train]),
        ("total_correlation", vec![&"tc", &train]),
        ("mutual_information", vec![&"mi", &train, &"--split", &"1"]),
        ("mutual_information", vec![&"mi", &train, &y]),
        ("kl_divergence", vec![&"kld", &train, &train]),
    ];
    for (key, args) in cases {
        let v = json(&rbig(&args));
        assert!(v[key].is_f64(), "{key}: {v}");
        assert_eq!(v["units"], "nats");
        assert!(v["layers"].is_u64() && v["seconds"].is_f64());
        assert_eq!(v["method"], "models", "{key}: {v}");
        assert!(v["standard_error"].as_f64().is_some_and(|se| se > 0.0 && se.is_finite()), "{key}: {v}");
    }
    let nats = json(&rbig(&[&"tc", &train, &"--rotation", &"pca"]));
    let bits = json(&rbig(&[&"tc", &train, &"--rotation", &"pca", &"--units", &"bits"]));
    assert_eq!(bits["units"], "bits");
    for key in ["total_correlation", "standard_error"] {
        let (b, n) = (bits[key].as_f64().unwrap(), nats[key].as_f64().unwrap());
        assert!((b * std::f64::consts::LN_2 - n).abs() < 1e-12, "{key}");
    }
    // The banana's columns are strongly dependent; y is independent of it.
    let mi = json(&rbig(&[&"mi", &train, &"--split", &"1"]))["mutual_information"].as_f64().unwrap();
    assert!(mi > 0.5, "{mi}");
}

#[test]
fn npy_inputs_f32_fortran_and_1d() {
    let dir = Dir::new("npy");
    let x = common::banana(800, 8);
    let c = dir.path("c.npy");
    write_npy(&c, &x).unwrap();
    let f = dir.path("f.npy");
    let fortran = Array2::from_shape_vec((800, 2).f(), x.t().iter().copied().collect()).unwrap();
    assert_eq!(fortran, x);
    write_npy(&f, &fortran).unwrap();
    let f32_path = dir.path("f32.npy");
    write_npy(&f32_path, &x.mapv(|v| v as f32)).unwrap();
    let tc = |p: &Path| json(&rbig(&[&"tc", &p, &"--rotation", &"pca"]))["total_correlation"].as_f64().unwrap();
    assert_eq!(tc(&c), tc(&f), "C and Fortran order read alike");
    assert!((tc(&c) - tc(&f32_path)).abs() < 0.02, "f32 is the same data, rounded");
    let one_d = dir.path("one.npy");
    write_npy(&one_d, &x.column(0).to_owned()).unwrap();
    let h = json(&rbig(&[&"entropy", &one_d]))["entropy"].as_f64().unwrap();
    assert!((h - 1.4189).abs() < 0.05, "1-D N(0,1) entropy {h}");
}

#[test]
fn text_inputs_with_header_comments_and_tabs() {
    let dir = Dir::new("text");
    let x = common::banana(600, 4);
    let mut tsv = String::from("# exported by hand\nx1\tx2\n");
    for r in x.rows() {
        tsv += &format!("{}\t{}\n", r[0], r[1]);
        tsv += "# a comment line\n";
    }
    let t = dir.path("d.tsv");
    std::fs::write(&t, tsv).unwrap();
    let c = dir.path("d.csv");
    write_csv(&c, &x);
    let a = json(&rbig(&[&"tc", &t, &"--rotation", &"pca"]));
    let b = json(&rbig(&[&"tc", &c, &"--rotation", &"pca"]));
    assert_eq!(a["total_correlation"], b["total_correlation"]);
}

#[test]
fn bad_cells_and_ragged_rows() {
    let dir = Dir::new("bad");
    let (train, _) = banana_files(&dir);
    let model = dir.path("m.rbig");
    ok(&rbig(&[&"fit", &train, &"-o", &model]));
    for (name, body, line, column, content) in [
        ("nan.csv", "1,2\n3,NaN\n", "line 2", "column 2", "NaN"),
        ("inf.csv", "1,2\n3,4\ninf,1\n", "line 3", "column 1", "inf"),
        ("empty.csv", "1,2\n3,\n", "line 2", "column 2", "\"\""),
        ("text.csv", "a,b\n1,2\n3,oops\n", "line 3", "column 2", "oops"),
    ] {
        let p = dir.path(name);
        std::fs::write(&p, body).unwrap();
        let out_file = dir.path(&format!("{name}.out.csv"));
        bad_input(&rbig(&[&"score", &model, &p, &"-o", &out_file]), &[name, line, column, content]);
        assert!(!out_file.exists(), "nothing written for {name}");
        bad_input(&rbig(&[&"fit", &p, &"-o", &dir.path("x.rbig")]), &[name, line]);
        assert!(!dir.path("x.rbig").exists());
    }
    // A huge bad cell is shown by its start and its length.
    let huge = dir.path("huge.csv");
    std::fs::write(&huge, format!("1,2\n3,{}\n", "x".repeat(1_000_000))).unwrap();
    let out = rbig(&[&"tc", &huge]);
    bad_input(&out, &["huge.csv", "line 2", "column 2", "(1000000 bytes)"]);
    assert!(out.stderr.len() < 400, "{} bytes of error", out.stderr.len());
    let ragged = dir.path("ragged.csv");
    std::fs::write(&ragged, "1,2\n3,4\n5\n").unwrap();
    bad_input(&rbig(&[&"tc", &ragged]), &["ragged.csv", "line 3", "1 cells", "2"]);
    let nan_npy = dir.path("nan.npy");
    write_npy(&nan_npy, &ndarray::array![[1.0, 2.0], [f64::NAN, 0.0]]).unwrap();
    bad_input(&rbig(&[&"entropy", &nan_npy]), &["nan.npy", "line 2", "column 1", "NaN"]);
    // Wrong number of columns for the model.
    let wide = dir.path("wide.csv");
    write_csv(&wide, &common::standard_normal(10, 3, 1));
    bad_input(&rbig(&[&"score", &model, &wide]), &["2 columns", "3"]);
}

#[test]
fn files_are_never_overwritten_or_left_partial() {
    let dir = Dir::new("files");
    let (train, _) = banana_files(&dir);
    let model = dir.path("m.rbig");
    std::fs::write(&model, b"my thesis").unwrap();
    bad_input(&rbig(&[&"fit", &train, &"-o", &model]), &["m.rbig", "exists"]);
    assert_eq!(std::fs::read(&model).unwrap(), b"my thesis");
    ok(&rbig(&[&"fit", &train, &"-o", &model, &"--force"]));
    let out = dir.path("scores.csv");
    std::fs::write(&out, b"keep").unwrap();
    bad_input(&rbig(&[&"score", &model, &train, &"-o", &out]), &["scores.csv", "exists"]);
    assert_eq!(std::fs::read(&out).unwrap(), b"keep");
    ok(&rbig(&[&"score", &model, &train, &"-o", &out, &"--force"]));
    assert_eq!(parse_csv(&std::fs::read_to_string(&out).unwrap()).len(), 1500);
    let mut names: Vec<String> =
        std::fs::read_dir(&dir.0).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["m.rbig", "scores.csv", "train.csv"], "no temporary files left");
}

#[test]
fn foreign_and_newer_model_files() {
    let dir = Dir::new("models");
    let (train, _) = banana_files(&dir);
    let foreign = dir.path("notes.rbig");
    std::fs::write(&foreign, "just text").unwrap();
    let out = rbig(&[&"score", &foreign, &train]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notes.rbig") && err.contains("not an rbig model file"), "{err}");
    let model = dir.path("m.rbig");
    ok(&rbig(&[&"fit", &train, &"-o", &model]));
    let mut bytes = std::fs::read(&model).unwrap();
    let newer_version = rbig::FORMAT_VERSION + 1;
    bytes[8..12].copy_from_slice(&newer_version.to_le_bytes());
    let newer = dir.path("newer.rbig");
    std::fs::write(&newer, bytes).unwrap();
    let out = rbig(&[&"info", &newer]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("newer.rbig") && err.contains(&format!("version {newer_version}")), "{err}");
}

#[test]
fn dequantized_fit_and_score() {
    let dir = Dir::new("dequantize");
    let counts = Array2::from_shape_fn((3000, 2), |(i, j)| ((i * (3 + j)) % 17 + i % 5) as f64);
    let data = dir.path("counts.csv");
    write_csv(&data, &counts);
    let model = dir.path("counts.rbig");
    let summary = json(&rbig(&[&"fit", &data, &"-o", &model, &"--dequantize", &"--quiet"]));
    assert_eq!(summary["dequantized_widths"], serde_json::json!([1.0, 1.0]));
    let scores = dir.path("scores.csv");
    ok(&rbig(&[&"score", &model, &data, &"--dequantize", &"1,1", &"--draws", &"4", &"-o", &scores]));
    let log_p = parse_csv(&std::fs::read_to_string(&scores).unwrap());
    assert_eq!(log_p.len(), 3000);
    // Log-probabilities of integer cells: finite, negative, and the cells' total
    // probability over the 17 × 21 grid the counts occupy cannot exceed 1.
    assert!(log_p.iter().all(|r| r[0].is_finite() && r[0] < 0.0));
    let mut cells = std::collections::HashMap::new();
    for (row, lp) in counts.rows().into_iter().zip(&log_p) {
        cells.insert((row[0] as i64, row[1] as i64), lp[0].exp());
    }
    let mass: f64 = cells.values().sum();
    assert!(mass <= 1.05, "the occupied cells hold probability {mass}");
    bad_input(&rbig(&[&"score", &model, &data, &"--dequantize", &"1"]), &["1 width", "2 columns"]);
    // The model stores its widths: `--dequantize` alone uses them, to the same scores.
    assert_eq!(json(&rbig(&[&"info", &model]))["dequantized_widths"], serde_json::json!([1.0, 1.0]));
    let stored = ok(&rbig(&[&"score", &model, &data, &"--dequantize", &"--draws", &"4"]));
    assert_eq!(parse_csv(&stored), log_p);
    // A model of continuous data has none to use.
    let plain = dir.path("plain.rbig");
    ok(&rbig(&[&"fit", &data, &"-o", &plain, &"--quiet"]));
    bad_input(&rbig(&[&"score", &plain, &data, &"--dequantize"]), &["stores no bin widths"]);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(rbig(&[&"fit"]).status.code(), Some(2));
    assert_eq!(rbig(&[&"frobnicate"]).status.code(), Some(2));
    assert_eq!(rbig(&[&"mi", &"x.csv"]).status.code(), Some(2));
    let dir = Dir::new("usage");
    let (train, _) = banana_files(&dir);
    bad_input(&rbig(&[&"mi", &train, &"--split", &"2"]), &["--split 2", "between 1 and 1"]);
    bad_input(&rbig(&[&"fit", &train, &"-o", &dir.path("m.rbig"), &"--max-layers", &"0"]), &["max_layers"]);
    // A fit that would exceed the memory limit is refused before it starts, and no
    // model file appears.
    bad_input(
        &rbig(&[&"fit", &train, &"-o", &dir.path("big.rbig"), &"--memory-limit", &"1K"]),
        &["limit of 1024 bytes"],
    );
    assert!(!dir.path("big.rbig").exists());
    assert_eq!(rbig(&[&"tc", &train, &"--memory-limit", &"12Q"]).status.code(), Some(2));
    let help = ok(&rbig(&[&"score", &"--help"]));
    assert!(help.contains("Example: rbig score"));
}

#[test]
fn fit_for_density_reports_the_choice_and_refuses_a_conflicting_rotation() {
    let dir = Dir::new("density");
    let (train, x) = banana_files(&dir);
    let model = dir.path("d.rbig");
    let summary = json(&rbig(&[&"fit", &train, &"-o", &model, &"--density", &"--quiet"]));
    assert!(summary["held_out_log_likelihood"].as_f64().is_some_and(f64::is_finite), "{summary}");
    assert!(["pca", "random", "ica"].contains(&summary["rotation"].as_str().unwrap()), "{summary}");
    assert!(["auto", "smooth"].contains(&summary["knots"].as_str().unwrap()), "{summary}");
    let loaded = Rbig::load(&model).unwrap();
    assert!(loaded.log_density(&x).unwrap().iter().all(|v| v.is_finite()));
    let info = json(&rbig(&[&"info", &model]));
    assert_eq!(info["held_out_log_likelihood"], summary["held_out_log_likelihood"]);
    assert_eq!(info["params"]["shrinkage"], 0.5);
    assert_eq!(info["params"]["validation"]["fraction"], 0.2);

    let conflict = rbig(&[&"fit", &train, &"-o", &dir.path("c.rbig"), &"--density", &"--rotation", &"ica"]);
    assert!(!conflict.status.success());
    assert!(String::from_utf8_lossy(&conflict.stderr).contains("cannot be used with"));
    let smooth = json(&rbig(&[&"fit", &train, &"-o", &dir.path("s.rbig"), &"--knots", &"smooth", &"--quiet"]));
    assert!(smooth["layers"].as_u64().is_some());
    let bad = rbig(&[&"fit", &train, &"-o", &dir.path("b.rbig"), &"--knots", &"1"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("number of knots of at least 2"));
}

#[test]
fn info_shows_what_ica_mode_fitted_before_the_layers() {
    let dir = Dir::new("ica_info");
    let x = rbig_tasks::power_mixed(3, 3).sample(4000, 0);
    let train = dir.path("mixed.csv");
    write_csv(&train, &x);
    let model = dir.path("m.rbig");
    ok(&rbig(&[&"fit", &train, &"-o", &model, &"--rotation", &"ica", &"--quiet"]));
    let info = json(&rbig(&[&"info", &model]));
    let pre = &info["pre_steps"];
    assert_eq!(pre["unmixing_steps"], 1, "{info}");
    assert_eq!(pre["refined"], true, "{info}");
    // The total is the pre-steps' part plus the layers'.
    let layers: f64 = info["tc_reductions"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).sum();
    let total = info["total_correlation"].as_f64().unwrap();
    assert!((pre["tc_reduction"].as_f64().unwrap() + layers - total).abs() < 1e-9, "{info}");
}

/// Runs the tool with `input` written into its standard input through a pipe.
fn rbig_piped(args: &[&dyn AsRef<std::ffi::OsStr>], input: Vec<u8>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rbig"))
        .args(args.iter().map(|a| a.as_ref()))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Written from another thread, in small pieces: the reader sees a real pipe that
    // delivers its bytes a few at a time.
    let writer = std::thread::spawn(move || {
        for piece in input.chunks(4093) {
            if stdin.write_all(piece).is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

#[test]
fn pipes_and_dash_read_exactly_what_the_file_holds() {
    let dir = Dir::new("pipes");
    let x = common::banana(3000, 11);
    let csv = dir.path("d.csv");
    write_csv(&csv, &x);
    let tsv = dir.path("d.tsv");
    let text: String = x.rows().into_iter().map(|r| format!("{}\t{}\n", r[0], r[1])).collect();
    std::fs::write(&tsv, format!("# tab-separated\nx\ty\n{text}")).unwrap();
    let npy = dir.path("d.npy");
    write_npy(&npy, &x).unwrap();
    for (i, file) in [&csv, &tsv, &npy].into_iter().enumerate() {
        let from_file = dir.path(&format!("file{i}.rbig"));
        ok(&rbig(&[&"fit", file, &"-o", &from_file, &"--rotation", &"pca"]));
        for (j, source) in ["-", "/dev/stdin"].into_iter().enumerate() {
            let from_pipe = dir.path(&format!("pipe{i}{j}.rbig"));
            let out =
                rbig_piped(&[&"fit", &source, &"-o", &from_pipe, &"--rotation", &"pca"], std::fs::read(file).unwrap());
            assert_eq!(json(&out)["n"], 3000, "{file:?} through {source}");
            assert_eq!(std::fs::read(&from_pipe).unwrap(), std::fs::read(&from_file).unwrap(), "{file:?} via {source}");
        }
    }
}

#[test]
fn closed_and_full_standard_output_are_not_panics() {
    let dir = Dir::new("stdout");
    let (train, _) = banana_files(&dir);
    let model = dir.path("m.rbig");
    ok(&rbig(&[&"fit", &train, &"-o", &model, &"--rotation", &"pca"]));
    let refit = dir.path("m2.rbig");
    let commands: [Vec<&dyn AsRef<std::ffi::OsStr>>; 4] = [
        vec![&"info", &model],
        vec![&"tc", &train, &"--rotation", &"pca"],
        vec![&"sample", &model, &"-n", &"100000"],
        vec![&"fit", &train, &"-o", &refit, &"--rotation", &"pca", &"--force"],
    ];
    for args in &commands {
        // A reader that has gone away (`| head -0`): quiet success, as for any filter.
        let mut child = Command::new(env!("CARGO_BIN_EXE_rbig"))
            .args(args.iter().map(|a| a.as_ref()))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && !err.contains("panicked"), "{:?}: {:?} {err}", args[0].as_ref(), out.status);
        // A full device: an error naming standard output, exit 1.
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_rbig"))
            .args(args.iter().map(|a| a.as_ref()))
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{:?}: {err}", args[0].as_ref());
        assert!(err.contains("standard output") && !err.contains("panicked"), "{err}");
    }
}

#[test]
fn dash_is_standard_output_for_tables_and_refused_for_models() {
    let dir = Dir::new("dash-out");
    let (train, x) = banana_files(&dir);
    let model = dir.path("m.rbig");
    ok(&rbig(&[&"fit", &train, &"-o", &model, &"--rotation", &"pca"]));
    let scores = parse_csv(&ok(&rbig(&[&"score", &model, &train, &"-o", &"-"])));
    assert_eq!(scores.len(), x.nrows());
    assert!(dir.entries().iter().all(|e| e != "-"), "no file named -: {:?}", dir.entries());
    // A model file is binary: it never goes to a terminal or a pipe by accident.
    bad_input(&rbig(&[&"fit", &train, &"-o", &"-"]), &["-o -", "file name"]);
    // Standard input can be read once.
    let input = std::fs::read(&train).unwrap();
    bad_input(&rbig_piped(&[&"mi", &"-", &"-"], input.clone()), &["standard input", "once"]);
    bad_input(&rbig_piped(&[&"kld", &"-", &"-"], input), &["standard input", "once"]);
}

#[test]
fn the_layer_bound_and_the_layer_count_agree() {
    let dir = Dir::new("max-layers");
    let (train, _) = banana_files(&dir);
    for bound in [1u64, 3] {
        let model = dir.path(&format!("m{bound}.rbig"));
        let fitted = json(&rbig(&[&"fit", &train, &"-o", &model, &"--max-layers", &bound.to_string()]));
        assert_eq!(fitted["layers"], bound, "the banana needs every layer it may have");
        let info = json(&rbig(&[&"info", &model]));
        assert_eq!(info["layers"], bound);
        assert_eq!(info["tc_reductions"].as_array().unwrap().len() as u64, bound);
        let tc = json(&rbig(&[&"tc", &train, &"--rotation", &"pca", &"--max-layers", &bound.to_string()]));
        assert!(tc["layers"].as_u64().unwrap() <= bound);
    }
}

#[test]
fn info_reports_the_format_the_file_was_written_in() {
    for version in [1, 2] {
        let path = format!("{}/tests/data/model_v{version}.rbig", env!("CARGO_MANIFEST_DIR"));
        assert_eq!(json(&rbig(&[&"info", &path]))["format_version"], version);
    }
    let dir = Dir::new("info-version");
    let (train, _) = banana_files(&dir);
    let model = dir.path("m.rbig");
    ok(&rbig(&[&"fit", &train, &"-o", &model]));
    assert_eq!(json(&rbig(&[&"info", &model]))["format_version"], rbig::FORMAT_VERSION);
}

#[test]
fn output_targets_are_checked_before_any_work() {
    let dir = Dir::new("targets");
    let (train, _) = banana_files(&dir);
    // A missing directory: refused before the fit, naming it.
    let out = rbig(&[&"fit", &train, &"-o", &dir.path("nodir/m.rbig")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nodir") && err.contains("does not exist") && !err.contains(".tmp"), "{err}");
    // A directory is not a file that exists.
    let out = rbig(&[&"fit", &train, &"-o", &dir.0]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is a directory") && !err.contains("exists"), "{err}");
    // An existing file: the error says how to replace it.
    let model = dir.path("m.rbig");
    ok(&rbig(&[&"fit", &train, &"-o", &model]));
    bad_input(&rbig(&[&"fit", &train, &"-o", &model]), &["m.rbig", "exists", "--force"]);
    // A long name (250 characters) is written; the temporary name does not grow with it.
    let long = dir.path(&format!("{}.rbig", "m".repeat(245)));
    ok(&rbig(&[&"fit", &train, &"-o", &long]));
    assert!(long.exists());
}

#[test]
fn force_replaces_only_regular_files_and_keeps_their_permissions() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let dir = Dir::new("force");
    let (train, _) = banana_files(&dir);
    let model = dir.path("m.rbig");
    ok(&rbig(&[&"fit", &train, &"-o", &model]));
    // A private file stays private.
    std::fs::set_permissions(&model, std::fs::Permissions::from_mode(0o600)).unwrap();
    ok(&rbig(&[&"fit", &train, &"-o", &model, &"--force", &"--seed", &"3"]));
    assert_eq!(std::fs::metadata(&model).unwrap().permissions().mode() & 0o777, 0o600);
    // A FIFO, a device and a symbolic link are not replaced by a regular file.
    let fifo = dir.path("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let link = dir.path("link.rbig");
    std::os::unix::fs::symlink(&model, &link).unwrap();
    for target in [fifo.as_path(), Path::new("/dev/null"), link.as_path()] {
        let out = rbig(&[&"sample", &model, &"-n", &"10", &"-o", &target, &"--force"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{target:?}: {err}");
        assert!(err.contains("not a regular file"), "{err}");
    }
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
}

#[test]
fn interrupted_writes_leave_nothing_behind() {
    let dir = Dir::new("interrupt");
    let x = common::banana(200_000, 2);
    let data = dir.path("big.csv");
    write_csv(&data, &x);
    for signal in ["TERM", "INT"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rbig"))
            .args(["fit", data.to_str().unwrap(), "-o", dir.path("m.rbig").to_str().unwrap(), "--density", "-q"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The output is reserved (as a hidden temporary file) before the fit starts.
        let start = std::time::Instant::now();
        while !dir.entries().iter().any(|e| e.starts_with('.')) {
            assert!(start.elapsed().as_secs() < 20, "no reserved output: {:?}", dir.entries());
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap()
            .success());
        let status = child.wait().unwrap();
        assert!(!status.success());
        assert_eq!(dir.entries(), ["big.csv"], "after SIG{signal}");
    }
}

#[test]
fn messages_name_what_is_wrong() {
    let dir = Dir::new("messages");
    let (train, x) = banana_files(&dir);
    let model = dir.path("m.rbig");
    ok(&rbig(&[&"fit", &train, &"-o", &model]));
    // One width for a two-column model is a wrong list of widths, not a wrong model.
    bad_input(&rbig(&[&"score", &model, &train, &"--dequantize", &"1"]), &["1 width", "2 columns"]);
    // Two samples of different widths: no model is involved.
    let one = dir.path("one.csv");
    write_csv(&one, &x.slice(ndarray::s![.., ..1]).to_owned());
    let out = rbig(&[&"kld", &train, &one]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 and 1 columns") && !err.contains("model"), "{err}");
    // Point masses at huge values: short numbers, and a few lines, not one per column.
    let masses = dir.path("masses.csv");
    let text: String =
        (0..700).map(|i| format!("{}\n", vec![if i % 4 == 0 { "1" } else { "1.7e308" }; 30].join(","))).collect();
    std::fs::write(&masses, text).unwrap();
    let out = rbig(&[&"entropy", &masses]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.lines().count() <= 7, "{err}");
    assert!(err.contains("1.7e308") && !err.contains("170000000000"), "{err}");
    assert!(err.contains("and 25 more columns"), "{err}");
    // Values that dequantizing pushes beyond the floating-point range.
    let spread = dir.path("spread.csv");
    let text: String = (0..200).map(|i| if i % 2 == 0 { "-1.7e308,1\n" } else { "1.7e308,2\n" }).collect();
    std::fs::write(&spread, text).unwrap();
    let out = rbig(&[&"fit", &spread, &"-o", &dir.path("s.rbig"), &"--dequantize", &"-q"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("column 1") && err.contains("floating-point range") && !err.contains("got inf"), "{err}");
}

#[test]
fn sizes_asked_for_are_checked_before_allocating() {
    let dir = Dir::new("sizes");
    let (train, _) = banana_files(&dir);
    let model = dir.path("m.rbig");
    ok(&rbig(&[&"fit", &train, &"-o", &model]));
    // Overflowing and merely enormous sample sizes (the first panicked, the second
    // aborted trying to allocate).
    bad_input(&rbig(&[&"sample", &model, &"-n", &"18446744073709551615"]), &["-n", "rows"]);
    bad_input(&rbig(&[&"sample", &model, &"-n", &"10000000000"]), &["-n", "GB"]);
    // Draws are bounded (a billion ran without end).
    bad_input(&rbig(&[&"score", &model, &train, &"--dequantize", &"0.1,0.1", &"--draws", &"1000000000"]), &["draws"]);
    // Under an address-space limit (ulimit -v) a fit either runs or is refused up front
    // naming memory; it never aborts in an allocation (it did, at every limit below what
    // it needed, since the guard read only the system's free memory).
    let big = dir.path("big.npy");
    write_npy(&big, &common::standard_normal(1_000_000, 10, 1)).unwrap();
    for limit_kib in [150_000, 300_000, 450_000, 600_000, 900_000] {
        let limited = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -v {limit_kib}; exec {} fit {} -o {} -q --force",
                env!("CARGO_BIN_EXE_rbig"),
                big.display(),
                dir.path("big.rbig").display()
            ))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&limited.stderr);
        match limited.status.code() {
            Some(0) => {}
            // Not refused where there is plenty: 900 MB for a fit that peaks near 400.
            Some(2) if limit_kib < 900_000 => {
                assert!(err.contains("memory") || err.contains("limit"), "{limit_kib} KiB: {err}")
            }
            other => panic!("{limit_kib} KiB: exit {other:?}: {err}"),
        }
    }
}

#[test]
fn too_few_rows_per_column_are_warned_about() {
    let dir = Dir::new("few-rows");
    let wide = dir.path("wide.csv");
    write_csv(&wide, &common::standard_normal(201, 40, 2));
    let out = rbig(&[&"tc", &wide, &"--rotation", &"pca"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("201 rows for 40 columns"), "{err}");
    // Enough rows: no warning.
    write_csv(&wide, &common::standard_normal(1000, 4, 2));
    assert!(rbig(&[&"tc", &wide, &"--rotation", &"pca"]).stderr.is_empty());
}

#[test]
fn divergence_with_p_outside_q_is_warned_about() {
    // Q uniform on [0, 1], P on [0, 2]: D(P ‖ Q) is infinite; a sample estimate is
    // finite, so the tool says where P has mass Q's sample never reached.
    let dir = Dir::new("kld-support");
    let grid = |scale: f64| Array2::from_shape_fn((2000, 1), |(i, _)| scale * ((i as f64 + 0.5) * 0.618_034).fract());
    let (p, q) = (dir.path("p.csv"), dir.path("q.csv"));
    write_csv(&p, &grid(2.0));
    write_csv(&q, &grid(1.0));
    let out = rbig(&[&"kld", &p, &q]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("50.0% of P's rows") && err.contains("column 1"), "{err}");
    // The other way round, nothing to say.
    assert!(rbig(&[&"kld", &q, &p]).stderr.is_empty());
}

#[test]
fn one_row_of_many_columns_is_one_error_line() {
    // Every column of a single row is a point mass: one warning each once buried the
    // too-few-rows error under millions of lines.
    let dir = Dir::new("one-row");
    let wide = dir.path("wide.csv");
    std::fs::write(&wide, format!("{}\n", vec!["1"; 5000].join(","))).unwrap();
    bad_input(&rbig(&[&"tc", &wide]), &["5000 column(s)", "got 1"]);
    bad_input(&rbig(&[&"fit", &wide, &"-o", &dir.path("m.rbig")]), &["5000 column(s)", "got 1"]);
}

/// The null simulations of one process are kept on disk for the next: what is read back
/// is what was simulated, to the bit (the same estimate as with the disk cache off); a
/// damaged entry is never read, but simulated again and rewritten; and a cache
/// directory that cannot be created is no error.
#[test]
fn null_simulations_are_kept_between_processes() {
    let dir = Dir::new("null-cache");
    // Linearly mixed heavy-tailed sources: ICA mode refines its unmixing, whose null is
    // simulated too below the 64 rows where its shipped table starts.
    let z = common::standard_normal(63, 3, 77).mapv(|v| v.signum() * v.abs().powf(1.7));
    let x = z.dot(&ndarray::array![[1.0, 0.4, -0.3], [0.2, 1.0, 0.5], [-0.6, 0.1, 1.0]]);
    let data = dir.path("x.csv");
    write_csv(&data, &x);
    let estimate = |var: &str, value: &Path| {
        let mut tool = Command::new(env!("CARGO_BIN_EXE_rbig"));
        tool.args(["entropy", "-q"]).arg(&data).env_remove("RBIG_NO_CACHE").env_remove("RBIG_CACHE_DIR");
        let out = tool.env(var, value).output();
        let mut v = json(&out.unwrap());
        v.as_object_mut().unwrap().remove("seconds");
        v
    };
    let cache = dir.path("cache");
    let simulated = estimate("RBIG_NO_CACHE", Path::new("1"));
    assert_eq!(estimate("RBIG_CACHE_DIR", &cache), simulated);
    let entries: Vec<PathBuf> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().path()).collect();
    let named = |prefix: &str| entries.iter().any(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix));
    assert!(named("null-layer-") && named("null-refine-"), "{entries:?}");
    assert_eq!(estimate("RBIG_CACHE_DIR", &cache), simulated);
    // Damaged: a flipped bit in every entry.
    let originals: Vec<Vec<u8>> = entries.iter().map(|p| std::fs::read(p).unwrap()).collect();
    for (path, bytes) in entries.iter().zip(&originals) {
        let mut damaged = bytes.clone();
        damaged[bytes.len() / 2] ^= 1;
        std::fs::write(path, damaged).unwrap();
    }
    assert_eq!(estimate("RBIG_CACHE_DIR", &cache), simulated);
    for (path, bytes) in entries.iter().zip(&originals) {
        assert_eq!(&std::fs::read(path).unwrap(), bytes, "{path:?} rewritten");
    }
    // A file where the directory should be.
    let blocked = dir.path("blocked");
    std::fs::write(&blocked, "not a directory").unwrap();
    assert_eq!(estimate("RBIG_CACHE_DIR", &blocked.join("rbig")), simulated);
}

/// `--whiten` alone means always, also before the data's name; `--whiten=never` and the
/// default `auto` are recorded in the model as the start used.
#[test]
fn the_whitening_start_is_asked_for_and_recorded() {
    let dir = Dir::new("whiten");
    let (train, _) = banana_files(&dir);
    let model = dir.path("m.rbig");
    let start = |args: &[&dyn AsRef<std::ffi::OsStr>]| {
        ok(&rbig(args));
        json(&rbig(&[&"info", &model]))["params"]["whiten"].as_bool().unwrap()
    };
    assert!(start(&[&"fit", &"--whiten", &train, &"-o", &model, &"-q"]));
    assert!(!start(&[&"fit", &train, &"--whiten=never", &"-o", &model, &"--force", &"-q"]));
    // Gaussian rows take the whitened start by default (it is their Gaussian).
    let gaussian = dir.path("gaussian.csv");
    write_csv(&gaussian, &common::gaussian(&common::test_covariance(3), 2000, 9));
    assert!(start(&[&"fit", &gaussian, &"-o", &model, &"--force", &"-q"]));
    let bad = rbig(&[&"fit", &train, &"--whiten=sometimes", &"-o", &model, &"--force"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("possible values: never, always, auto"));
}

/// `--mixture` alone lets BIC choose, `--mixture=K` fixes the size; both are recorded,
/// and a mixture start with a forced whitening or a size of 0 is refused by name.
#[test]
fn the_mixture_start_is_asked_for_and_recorded() {
    let dir = Dir::new("mixture");
    let (train, _) = banana_files(&dir);
    let model = dir.path("m.rbig");
    let components = |args: &[&dyn AsRef<std::ffi::OsStr>]| {
        ok(&rbig(args));
        json(&rbig(&[&"info", &model]))["pre_steps"]["mixture_components"].as_u64().unwrap()
    };
    assert!(components(&[&"fit", &"--mixture", &train, &"-o", &model, &"-q"]) >= 1);
    assert_eq!(components(&[&"fit", &train, &"--mixture=3", &"-o", &model, &"--force", &"-q"]), 3);
    assert_eq!(components(&[&"fit", &train, &"-o", &model, &"--force", &"-q"]), 0);
    let zero = rbig(&[&"fit", &train, &"--mixture=0", &"-o", &model, &"--force"]);
    assert_eq!(zero.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&zero.stderr).contains("expected `bic` or a number of components"));
    let both = rbig(&[&"fit", &train, &"--mixture", &"--whiten", &"-o", &model, &"--force"]);
    assert!(!both.status.success());
    assert!(String::from_utf8_lossy(&both.stderr).contains("mixture"), "{}", String::from_utf8_lossy(&both.stderr));
}
