use super::*;
use crate::numeric::normal::std_normal_quantile;

fn spline() -> MonotoneSpline {
    let data: Vec<f64> = (0..500).map(|i| ((i as f64 * 0.37).sin() * 3.0 + i as f64 * 0.01).exp()).collect();
    let mut sorted = data.clone();
    sorted.sort_by(f64::total_cmp);
    MonotoneSpline::fit_sorted(&sorted, KnotPlan::even(30), std_normal_quantile).unwrap()
}

#[test]
fn round_trip_everywhere() {
    let s = spline();
    for i in -2000..=2000 {
        let x = i as f64 * 0.05;
        let back = s.inverse(s.forward(x).0);
        assert!((back - x).abs() <= 1e-12 * x.abs().max(1.0), "x {x} back {back}");
    }
    for i in -800..=800 {
        let z = i as f64 * 0.01;
        let back = s.forward(s.inverse(z)).0;
        assert!((back - z).abs() <= 1e-12, "z {z} back {back}");
    }
}

#[test]
fn log_derivative_matches_finite_difference() {
    let s = spline();
    for i in 1..400 {
        let x = i as f64 * 0.07;
        let (_, ld) = s.forward(x);
        let h = 1e-6 * x.abs().max(1e-3);
        let fd = (s.forward(x + h).0 - s.forward(x - h).0) / (2.0 * h);
        assert!((ld.exp() - fd).abs() <= 1e-5 * fd, "x {x}: {} vs {fd}", ld.exp());
    }
}

#[test]
fn invalid_knots_are_rejected_on_load() {
    let bad = |xs: Vec<f64>, zs: Vec<f64>| MonotoneSpline::try_from(SplineKnots { xs, zs, lower_slope: None }).is_err();
    assert!(bad(vec![0.0, 1.0, 0.5], vec![0.0, 1.0, 2.0]));
    assert!(bad(vec![0.0, 1.0, 2.0], vec![0.0, 1.0, 1.0]));
    assert!(bad(vec![0.0, f64::NAN], vec![0.0, 1.0]));
    assert!(bad(vec![0.0], vec![0.0]));
    assert!(bad(vec![0.0, 1.0], vec![0.0]));
    assert!(!bad(vec![0.0, 1.0], vec![-1.0, 1.0]));
    let slope =
        |v: f64| MonotoneSpline::try_from(SplineKnots { xs: vec![0.0, 1.0], zs: vec![0.0, 1.0], lower_slope: Some(v) });
    assert!(slope(0.0).is_err() && slope(f64::NAN).is_err() && slope(2.0).is_ok());
}

#[test]
fn ties_and_constants() {
    let sorted = [1.0, 1.0, 1.0, 2.0, 2.0, 3.0];
    let s = MonotoneSpline::fit_sorted(&sorted, KnotPlan::even(6), std_normal_quantile).unwrap();
    assert_eq!(s.n_knots(), 3);
    assert_eq!(
        MonotoneSpline::fit_sorted(&[4.0; 5], KnotPlan::even(5), std_normal_quantile),
        Err(SplineError::TooFewDistinct)
    );
}
