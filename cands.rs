use rbig::{density_candidates, select};
use rbig_tasks::density::density_suite;
use std::path::Path;
use std::time::Instant;

fn main() {
    let name = std::env::args().nth(1).unwrap();
    let (train, test) = match density_suite().into_iter().find(|t| t.name == name) {
        Some(t) => (t.sample(5000, 1), t.sample(5000, 2)),
        None => {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(&name);
            (
                rbig::io::read_matrix(root.join("train.csv")).unwrap(),
                rbig::io::read_matrix(root.join("test.csv")).unwrap(),
            )
        }
    };
    let names = [
        "PCA",
        "PCA smooth",
        "random",
        "random smooth",
        "ICA",
        "ICA smooth",
        "whitened ICA smooth",
        "mixture ICA smooth",
    ];
    for (i, c) in density_candidates().into_iter().enumerate() {
        let t = Instant::now();
        let s = select(&train, &[c]).unwrap();
        let test_score = s.model.log_density(&test).unwrap().mean().unwrap();
        println!(
            "{name:>12} {:>20}: held-out {:9.3} test {:9.3} {:6.2}s",
            names[i],
            s.scores[0],
            test_score,
            t.elapsed().as_secs_f64()
        );
    }
}
