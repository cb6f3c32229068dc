#[path = "../tests/common/mod.rs"]
mod common;
use common::*;
use linfa::prelude::*;
use ndarray::{Array1, Array2};
use rbig::*;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let k: usize = args[1].parse().unwrap();
    let d: usize = args[2].parse().unwrap();
    let s = if args[3] == "id" { Array2::<f64>::eye(d) } else { test_covariance(d) };
    let l = cholesky(&s);
    let ld = ln_det(&s);
    let mut tot = 0.0;
    for seed in 0..4 {
        let tr = gaussian(&s, 10000, 41 + 2 * seed);
        let te = gaussian(&s, 10000, 42 + 2 * seed);
        let m = Rbig::params().knots(if k == 0 { Knots::Auto } else { Knots::Fixed(k) }).check().unwrap().fit(&DatasetBase::from(tr.clone())).unwrap();
        // true ll via solving L y = x
        let true_ll: f64 = te.outer_iter().map(|x| {
            let mut y = Array1::<f64>::zeros(d);
            for i in 0..d { y[i] = (x[i] - (0..i).map(|kk| l[(i, kk)] * y[kk]).sum::<f64>()) / l[(i, i)]; }
            -0.5 * y.dot(&y) - 0.5 * ld - 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln()
        }).sum::<f64>() / te.nrows() as f64;
        let ll = m.log_density(&te).unwrap().mean().unwrap();
        tot += ll - true_ll;
        print!("{:.4} [{}] ", ll - true_ll, m.n_layers());
        let _ = Array2::<f64>::zeros((1,1));
    }
    println!(" k={k} mean {:.4}", tot / 4.0);
}
