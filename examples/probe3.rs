#[path = "../tests/common/mod.rs"]
mod common;
use common::*;
use linfa::prelude::*;
use rbig::*;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let d: usize = args[1].parse().unwrap();
    let n: usize = args[2].parse().unwrap();
    let rot = if args[3] == "pca" { RotationKind::Pca } else { RotationKind::Random };
    let s = test_covariance(d);
    let truth_tc = gaussian_tc(&s);
    let h = gaussian_entropy(&s);
    for seed in 0..3 {
        let tr = gaussian(&s, n, seed);
        let te = gaussian(&s, n, 100 + seed);
        let t = std::time::Instant::now();
        let m = Rbig::params().rotation(rot).check().unwrap().fit(&DatasetBase::from(tr.clone())).unwrap();
        let secs = t.elapsed().as_secs_f64();
        let ll = m.log_density(&te).unwrap().mean().unwrap();
        // plug-in
        let c = tr.t().dot(&tr) / n as f64;
        let plug = gaussian_tc(&c);
        println!("seed {seed} layers {} tc {:.4} truth {:.4} plugin {:.4} | test ll {:.4} truth {:.4} | {:.3}s diag {:?}", m.n_layers(), m.total_correlation(), truth_tc, plug, ll, -h, secs, m.diagnostics().iter().map(|l| (l.tc_reduction*1e4).round()/1e4).collect::<Vec<_>>());
    }
}
