//! Column names through the tool: headers in, names in the model, headers out;
//! `--columns` and `mi --x/--y` by name giving the positional numbers; the pandas index
//! column; anomaly scores and tail probabilities; `--threads`.

mod common;

use std::path::Path;

use ndarray::{s, Array2};
use rbig::Rbig;

use common::tool::{json, ok, rbig};
use common::TempDir as Dir;

fn write_headed(path: &Path, header: &str, x: &Array2<f64>, index: bool) {
    let mut text = format!("{header}\n");
    for (i, row) in x.rows().into_iter().enumerate() {
        let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        if index {
            text.push_str(&format!("{i},"));
        }
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// A correlated 3-column sample.
fn sample(n: usize, seed: u64) -> Array2<f64> {
    let z = common::standard_normal(n, 3, seed);
    let mut x = z.clone();
    x.column_mut(1).assign(&(&z.column(0) * 0.8 + &z.column(1) * 0.6));
    x.column_mut(2).assign(&(&z.column(1) * 0.5 + z.column(2)).mapv(f64::exp));
    x
}

fn header_of(text: &str) -> &str {
    text.lines().next().unwrap()
}

#[test]
fn names_round_trip_through_fit_transform_inverse_and_sample() {
    let dir = Dir::new("names");
    let x = sample(1500, 1);
    let data = dir.path("d.csv");
    write_headed(&data, "height,weight,\"age, years\"", &x, false);
    let model = dir.path("m.rbig");
    ok(&rbig(&[&"fit", &data, &"-o", &model, &"-q"]));
    let m = Rbig::load(&model).unwrap();
    assert_eq!(m.column_names().unwrap(), ["height", "weight", "age, years"]);
    let info = json(&rbig(&[&"info", &model]));
    assert_eq!(info["column_names"], serde_json::json!(["height", "weight", "age, years"]));

    let z = ok(&rbig(&[&"transform", &model, &data]));
    assert_eq!(header_of(&z), "z_height,z_weight,\"z_age, years\"");
    std::fs::write(dir.path("z.csv"), &z).unwrap();
    let back = ok(&rbig(&[&"inverse", &model, &dir.path("z.csv")]));
    assert_eq!(header_of(&back), "height,weight,\"age, years\"");
    let draws = ok(&rbig(&[&"sample", &model, &"-n", &"5"]));
    assert_eq!(header_of(&draws), "height,weight,\"age, years\"");
    assert_eq!(draws.lines().count(), 6);
    let scores = ok(&rbig(&[&"score", &model, &data]));
    assert_eq!(header_of(&scores), "log_density");
    // The values are those of the unnamed model: names change no number.
    let plain = dir.path("plain.csv");
    write_headed(&plain, "# no header", &x, false);
    let unnamed = dir.path("u.rbig");
    ok(&rbig(&[&"fit", &plain, &"-o", &unnamed, &"-q"]));
    let u = ok(&rbig(&[&"score", &unnamed, &plain]));
    assert_eq!(u.lines().collect::<Vec<_>>(), scores.lines().skip(1).collect::<Vec<_>>());
    assert!(!u.starts_with("log_density"));

    // Columns found by name in another order, with an extra column: the same scores.
    let shuffled =
        ndarray::concatenate![ndarray::Axis(1), x.slice(s![.., 2..3]), x.slice(s![.., 0..2]), x.slice(s![.., 0..1])];
    let other = dir.path("other.csv");
    write_headed(&other, "\"age, years\",height,weight,extra", &shuffled, false);
    let again = rbig(&[&"score", &model, &other]);
    assert_eq!(ok(&again), scores);
    assert!(String::from_utf8_lossy(&again.stderr).contains("taken by name"));
    // A header without the model's names is refused, naming them.
    let wrong = dir.path("wrong.csv");
    write_headed(&wrong, "a,b,c", &x, false);
    let out = rbig(&[&"score", &model, &wrong]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no column named height"));
}

#[test]
fn columns_and_mi_blocks_by_name_equal_the_positional_forms() {
    let dir = Dir::new("columns");
    let x = sample(2000, 2);
    let data = dir.path("d.csv");
    write_headed(&data, "a,b,c", &x, false);
    let value = |out: &std::process::Output, key: &str| json(out)[key].as_f64().unwrap();
    // --columns by name and by number pick the same data.
    let by_name = value(&rbig(&[&"tc", &data, &"--columns", &"c,a"]), "total_correlation");
    let by_number = value(&rbig(&[&"tc", &data, &"--columns", &"3,1"]), "total_correlation");
    let swapped = dir.path("ca.csv");
    write_headed(
        &swapped,
        "c,a",
        &ndarray::concatenate![ndarray::Axis(1), x.slice(s![.., 2..3]), x.slice(s![.., 0..1])],
        false,
    );
    let separate = value(&rbig(&[&"tc", &swapped]), "total_correlation");
    assert_eq!(by_name, by_number);
    assert_eq!(by_name, separate);
    // mi --x/--y by name against --split on the same columns.
    let named = value(&rbig(&[&"mi", &data, &"--x", &"a", &"--y", &"b,c"]), "mutual_information");
    let split = value(&rbig(&[&"mi", &data, &"--split", &"1"]), "mutual_information");
    assert_eq!(named, split);
    assert!(named > 0.3, "{named}");
    let out = rbig(&[&"tc", &data, &"--columns", &"a,zz"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no column \"zz\"") && err.contains("a, b, c"), "{err}");
}

#[test]
fn a_pandas_index_column_is_dropped_with_a_note() {
    let dir = Dir::new("pandas");
    // Two independent columns: their TC is near 0, but an index column (0, 1, 2, ...)
    // read as data would add the dependence of a sorted column on nothing... and change it.
    let x = common::standard_normal(3000, 2, 3);
    let framed = dir.path("frame.csv");
    write_headed(&framed, ",a,b", &x, true);
    let plain = dir.path("plain.csv");
    write_headed(&plain, "a,b", &x, false);
    let out = rbig(&[&"tc", &framed]);
    let note = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(note.lines().count(), 1, "{note}");
    assert!(note.contains("pandas"), "{note}");
    let tc = json(&out)["total_correlation"].as_f64().unwrap();
    assert_eq!(tc, json(&rbig(&[&"tc", &plain]))["total_correlation"].as_f64().unwrap());
    // --header keeps the blank-named first column as data (named column1).
    let model = dir.path("m.rbig");
    ok(&rbig(&[&"fit", &framed, &"--header", &"-o", &model, &"-q"]));
    assert_eq!(Rbig::load(&model).unwrap().column_names().unwrap(), ["column1", "a", "b"]);
    // --no-header reads the header line as data: a bad cell.
    let out = rbig(&[&"tc", &plain, &"--no-header"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
}

#[test]
fn anomalies_flag_the_rate_and_tails_are_uniform() {
    let dir = Dir::new("anomalies");
    let n = 100_000;
    let train = dir.path("train.npy");
    ndarray_npy::write_npy(&train, &common::standard_normal(n, 2, 4)).unwrap();
    let fresh = dir.path("fresh.npy");
    ndarray_npy::write_npy(&fresh, &common::standard_normal(n, 2, 5)).unwrap();
    let model = dir.path("m.rbig");
    ok(&rbig(&[&"fit", &train, &"-o", &model, &"-q"]));
    let out = rbig(&[&"anomalies", &model, &fresh, &"--rate", &"0.01"]);
    let table = ok(&out);
    assert_eq!(header_of(&table), "row,x1,x2,log_density,tail");
    let flagged = table.lines().count() - 1;
    let rate = flagged as f64 / n as f64;
    assert!((rate - 0.01).abs() <= 0.003, "flagged {rate}");
    for line in table.lines().skip(1).take(20) {
        let tail: f64 = line.rsplit(',').next().unwrap().parse().unwrap();
        assert!((0.0..0.01).contains(&tail), "{line}");
    }
    // score --tail: the tail fraction is uniform on fresh rows (Kolmogorov-Smirnov).
    let scored = ok(&rbig(&[&"score", &model, &fresh, &"--tail"]));
    let tails: Vec<f64> = scored.lines().map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect();
    assert_eq!(tails.len(), n);
    let ks = common::ks_uniform(&tails);
    println!(
        "anomalies at rate 0.01: {rate:.4}; KS statistic of the tails {ks:.5} (p > 0.01 below {:.5})",
        1.628 / (n as f64).sqrt()
    );
    assert!(ks < 1.628 / (n as f64).sqrt(), "KS {ks}");
    // A rate outside (0, 1), and a model without training scores, are refused.
    assert_eq!(rbig(&[&"anomalies", &model, &fresh, &"--rate", &"1.5"]).status.code(), Some(2));
    let old = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/model_v4.rbig");
    let out = rbig(&[&"anomalies", &old, &fresh]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no training scores"));
}

#[test]
fn one_thread_or_two_give_the_same_bytes() {
    let dir = Dir::new("threads");
    let data = dir.path("d.csv");
    write_headed(&data, "a,b,c", &sample(3000, 6), false);
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let model = dir.path(&format!("m{threads}.rbig"));
        ok(&rbig(&[&"--threads", &threads, &"fit", &data, &"-o", &model, &"--rotation", &"ica"]));
        let scores = ok(&rbig(&[&"score", &model, &data, &"--threads", &threads]));
        let mi = json(&rbig(&[&"mi", &data, &"--split", &"1", &"--threads", &threads]));
        outputs.push((std::fs::read(&model).unwrap(), scores, mi["mutual_information"].clone()));
    }
    assert!(outputs[0] == outputs[1]);
    assert_eq!(rbig(&[&"--threads", &"0", &"info", &"x"]).status.code(), Some(2));
}
