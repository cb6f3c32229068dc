use ndarray::{Array2, Axis};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rbig::*;
use linfa::traits::Fit;

fn banana(n: usize, seed: u64) -> Array2<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Array2::from_shape_fn((n, 2), |_| 0.0).outer_iter().map(|_| {
        let a: f64 = StandardNormal.sample(&mut rng);
        let e: f64 = StandardNormal.sample(&mut rng);
        [a, a * a + 0.5 * e]
    }).flatten().collect::<Vec<_>>().into_iter().collect::<ndarray::Array1<f64>>().into_shape_with_order((n, 2)).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rot = if args[1] == "pca" { RotationKind::Pca } else { RotationKind::Random };
    let knots = if args.len() > 2 { Knots::Fixed(args[2].parse().unwrap()) } else { Knots::Auto };
    let patience = if args.len() > 3 { args[3].parse().unwrap() } else { 5 };
    let tr = banana(5000, 1);
    let te = banana(5000, 2);
    let maxl = if args.len() > 4 { args[4].parse().unwrap() } else { 1000 };
    let p = Rbig::params().rotation(rot).knots(knots).patience(patience).max_layers(maxl).check().unwrap();
    let t = std::time::Instant::now();
    let m = p.fit(&linfa::DatasetBase::from(tr.clone())).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let ll = m.log_density(&te).unwrap();
    let lltr = m.log_density(&tr).unwrap();
    println!("banana {:?} layers {} test {:.4} train {:.4} tc {:.4} secs {:.3}", rot, m.n_layers(), ll.mean().unwrap(), lltr.mean().unwrap(), m.total_correlation(), secs);
    let _ = Axis(0);
}
