//! `rbig plot` writes real pictures: PNG files that decode to the size asked for with
//! more than a handful of colours in them, and SVG files of that size; for 1, 2 and 10
//! columns and for models fitted with `--density`. Also the shell completions.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use ndarray::Array2;

use common::tool::{ok, rbig};
use common::TempDir as Dir;

/// Width, height and the number of distinct colours of a PNG file.
fn decode_png(path: &Path) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let colours: HashSet<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    (info.width, info.height, colours.len())
}

/// Width and height declared by an SVG file, its distinct fill colours and its text.
fn read_svg(path: &Path) -> (String, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.trim_start().starts_with("<svg") && text.trim_end().ends_with("</svg>"), "not an SVG document");
    let fills = text.match_indices("fill=\"").map(|(i, _)| &text[i + 6..i + 13]).collect::<HashSet<_>>().len();
    (text, fills)
}

fn fit(dir: &Dir, name: &str, x: &Array2<f64>, density: bool) -> (PathBuf, PathBuf) {
    let data = dir.path(&format!("{name}.npy"));
    ndarray_npy::write_npy(&data, x).unwrap();
    let model = dir.path(&format!("{name}.rbig"));
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"fit", &data, &"-o", &model, &"-q"];
    if density {
        args.push(&"--density");
    }
    ok(&rbig(&args));
    (model, data)
}

#[test]
fn every_picture_is_a_valid_png_and_svg() {
    let dir = Dir::new("pictures");
    let one = common::standard_normal(800, 1, 1).mapv(|v| v.exp());
    let two = common::banana(1500, 2);
    let ten = {
        let z = common::standard_normal(1500, 10, 3);
        Array2::from_shape_fn(
            (1500, 10),
            |(i, j)| if j == 0 { z[(i, 0)] } else { z[(i, j)] + 0.7 * z[(i, j - 1)].powi(2) },
        )
    };
    let models = [
        ("one", fit(&dir, "one", &one, false)),
        ("two", fit(&dir, "two", &two, false)),
        ("ten", fit(&dir, "ten", &ten, false)),
        ("two_density", fit(&dir, "two_density", &two, true)),
    ];
    for (name, (model, data)) in &models {
        for kind in ["convergence", "density", "scores"] {
            for (ext, size) in [("png", (640, 480)), ("svg", (900, 700))] {
                let out = dir.path(&format!("{name}_{kind}.{ext}"));
                let size_arg = format!("{}x{}", size.0, size.1);
                let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"plot", &kind, model];
                match kind {
                    "density" => args.extend([&"--data" as &dyn AsRef<std::ffi::OsStr>, data]),
                    "scores" => args.push(data),
                    _ => {}
                }
                args.extend([&"-o" as &dyn AsRef<std::ffi::OsStr>, &out, &"--size", &size_arg]);
                ok(&rbig(&args));
                if ext == "png" {
                    let (w, h, colours) = decode_png(&out);
                    assert_eq!((w, h), size, "{name} {kind}");
                    assert!(colours > 8, "{name} {kind}: only {colours} colours");
                } else {
                    let (text, fills) = read_svg(&out);
                    assert!(text.contains(&format!("width=\"{}\" height=\"{}\"", size.0, size.1)), "{name} {kind}");
                    assert!(fills > 4, "{name} {kind}: {fills} fill colours");
                    if kind == "convergence" {
                        // Without held-out rows, the held-out panel says so; with them, it draws.
                        let says = text.contains("no held-out rows");
                        assert_eq!(says, !name.ends_with("density"), "{name}");
                    }
                }
            }
        }
    }
    // The pair grid takes columns by name or number.
    let out = dir.path("cols.png");
    ok(&rbig(&[&"plot", &"density", &models[2].1 .0, &"--columns", &"x1,3,x5", &"-o", &out]));
    assert_eq!(decode_png(&out).0, 900);
    // A picture never replaces a file unasked, and only .png and .svg are drawn.
    let again = rbig(&[&"plot", &"convergence", &models[0].1 .0, &"-o", &out]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let jpeg = rbig(&[&"plot", &"convergence", &models[0].1 .0, &"-o", &dir.path("x.jpg")]);
    assert_eq!(jpeg.status.code(), Some(2));
}

#[test]
fn completions_are_valid_shell() {
    let script = ok(&rbig(&[&"completions", &"bash"]));
    assert!(script.contains("rbig") && script.contains("anomalies"));
    let dir = Dir::new("completions");
    let path = dir.path("rbig.bash");
    std::fs::write(&path, &script).unwrap();
    let check = std::process::Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    for shell in ["zsh", "fish"] {
        assert!(ok(&rbig(&[&"completions", &shell])).contains("plot"));
    }
}
