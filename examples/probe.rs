use ndarray::Array2;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rbig::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args[1].parse().unwrap();
    let d: usize = args[2].parse().unwrap();
    let rot = if args[3] == "pca" { RotationKind::Pca } else { RotationKind::Random };
    let reps: usize = args[4].parse().unwrap();

    for rep in 0..reps {
        let mut rng = rand::rngs::StdRng::seed_from_u64(rep as u64);
        let x = Array2::from_shape_simple_fn((n, d), || StandardNormal.sample(&mut rng));
        let p = Rbig::params().rotation(rot).max_layers(6).patience(100).seed(rep as u64).check().unwrap();
        let t = std::time::Instant::now();
        let m = linfa::traits::Fit::fit(&p, &linfa::DatasetBase::from(x.clone())).unwrap();
        let _ = t;
        let _ = m;
    }

}
