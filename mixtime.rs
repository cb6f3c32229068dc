use rbig::{MixtureStart, ParamGuard, Rbig};
use std::path::Path;
use std::time::Instant;

fn main() {
    let table = std::env::args().nth(1).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(&table);
    let train = rbig::io::read_matrix(root.join("train.csv")).unwrap();
    for m in [MixtureStart::Bic, MixtureStart::Components(4), MixtureStart::Components(16)] {
        let t = Instant::now();
        let model = Rbig::params().mixture(m).max_layers(1).check().unwrap().fit_observed(&train, |_| {}).unwrap();
        println!("{m:?}: {} components, {:.2}s", model.pre_steps().mixture_components, t.elapsed().as_secs_f64());
    }
}
