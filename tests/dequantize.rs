//! Tied and discrete data: they fit and score to finite values, and the dequantized
//! log-likelihood matches the log-probability of a known discretized density.

mod common;

use common::*;
use ndarray::{array, Array2};
use rbig::dequantize::{jitter, resolution};
use rbig::Rbig;

#[test]
fn dequantized_likelihood_matches_a_rounded_gaussian() {
    // Designed reference: X ~ N(0, S) with standard deviations 6 to 15, rounded to
    // integers. The probability of an integer cell is ∫_cell p ≈ p(y) · 1 (the midpoint
    // rule errs by about (1/24) Σ 1/σ_j² ≈ 0.002 nats here), so the mean analytic
    // ln p(y) over the test rows is the reference a perfect model would reach.
    let s = array![[36.0, 30.0, -20.0], [30.0, 100.0, 40.0], [-20.0, 40.0, 225.0]];
    let (train, test) = (gaussian(&s, 20_000, 1).mapv(f64::round), gaussian(&s, 5_000, 2).mapv(f64::round));
    let widths = resolution(&train);
    assert_eq!(widths, vec![1.0, 1.0, 1.0]);
    let l = cholesky(&s);
    let inv_l = nalgebra::DMatrix::from_fn(3, 3, |i, j| l[(i, j)]).try_inverse().unwrap();
    let reference = test
        .rows()
        .into_iter()
        .map(|y| {
            let w = &inv_l * nalgebra::DVector::from_iterator(3, y.iter().copied());
            -0.5 * w.norm_squared() - 1.5 * (2.0 * std::f64::consts::PI).ln() - 0.5 * ln_det(&s)
        })
        .sum::<f64>()
        / test.nrows() as f64;
    let dequantized = Rbig::fit(&jitter(&train, &widths, 3).unwrap()).unwrap();
    let spread = Rbig::fit(&train).unwrap();
    for (name, model) in [("jitter", &dequantized), ("default tie spreading", &spread)] {
        let ll = model.dequantized_log_likelihood(&test, &widths, 4, 4).unwrap();
        assert!(ll.iter().all(|v| v.is_finite()));
        let mean = ll.mean().unwrap();
        println!("{name}: dequantized log-likelihood {mean:.4} nats, reference {reference:.4}");
        assert!((mean - reference).abs() / 3.0 <= 0.05, "{name}: {mean} vs {reference}");
    }
}

#[test]
fn rounded_weather_data_fit_and_score() {
    // nycflights13 hourly weather: every column rounded (wind direction in tens of
    // degrees, visibility mostly 10, precipitation 0 in 96.5 % of rows).
    let train = rbig::io::read_matrix("data/nycflights13_weather/train.csv").unwrap();
    let test = rbig::io::read_matrix("data/nycflights13_weather/test.csv").unwrap();
    let widths = resolution(&train);
    assert!(widths.iter().all(|w| *w > 0.0), "every column is tied: {widths:?}");
    let default = Rbig::fit(&train).unwrap();
    assert!(default.log_density(&test).unwrap().iter().all(|v| v.is_finite()));
    let dequantized = Rbig::fit(&jitter(&train, &widths, 0).unwrap()).unwrap();
    let ll = dequantized.dequantized_log_likelihood(&test, &widths, 2, 1).unwrap();
    assert!(ll.iter().all(|v| v.is_finite()));
    println!(
        "weather: TC {:.3} (default) / {:.3} (jitter); mean dequantized log-likelihood {:.3} nats",
        default.total_correlation(),
        dequantized.total_correlation(),
        ll.mean().unwrap()
    );
}

#[test]
fn eight_bit_pixels_fit_and_score() {
    // Two correlated 8-bit channels, clipped at 0 and 255 (saturated pixels pile up).
    let z = standard_normal(5000, 2, 9);
    let pixels = Array2::from_shape_fn((5000, 2), |(i, j)| {
        let v = 128.0 + 60.0 * z[(i, 0)] + if j == 1 { 30.0 * z[(i, 1)] } else { 0.0 };
        v.round().clamp(0.0, 255.0)
    });
    let widths = resolution(&pixels);
    assert_eq!(widths, vec![1.0, 1.0]);
    let model = Rbig::fit(&pixels).unwrap();
    assert!(model.log_density(&pixels).unwrap().iter().all(|v| v.is_finite()));
    let round_trip = model.inverse_transform(&model.transform(&pixels).unwrap()).unwrap();
    assert!((&round_trip - &pixels).iter().all(|e| e.abs() < 1e-9));
    let jittered = Rbig::fit(&jitter(&pixels, &widths, 5).unwrap()).unwrap();
    assert!(jittered.dequantized_log_likelihood(&pixels, &widths, 2, 6).unwrap().iter().all(|v| v.is_finite()));
}

#[test]
fn bad_widths_are_named() {
    let x = array![[1.0, 2.0], [2.0, 3.0], [3.0, 1.0]];
    // One width for two columns is a wrong list of widths, not a wrong model.
    assert!(matches!(jitter(&x, &[1.0], 0), Err(rbig::RbigError::InvalidParameter { name: "widths", .. })));
    assert!(matches!(jitter(&x, &[f64::INFINITY, 1.0], 0), Err(rbig::RbigError::NumericOverflow { .. })));
    assert!(matches!(jitter(&x, &[1.0, -1.0], 0), Err(rbig::RbigError::InvalidParameter { name: "widths", .. })));
    let model = Rbig::fit(&standard_normal(200, 2, 3)).unwrap();
    assert!(model.dequantized_log_likelihood(&x, &[1.0, 1.0], 0, 0).is_err());
    assert!(model.dequantized_log_likelihood(&x, &[1.0, 1.0], 100_001, 0).is_err());
}
