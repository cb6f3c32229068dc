#![warn(missing_docs)]
//! # rbig — Rotation-Based Iterative Gaussianization
//!
//! RBIG turns any continuous distribution into a standard normal with a stack of simple,
//! exactly invertible layers: each Gaussianizes every dimension on its own (a smooth,
//! strictly increasing map built from the empirical CDF), then rotates. Layers are added
//! while they remove total correlation measurably. Because every layer is stored, the
//! fitted model is a density: `ln p(x) = ln N(f(x); 0, I) + ln |det J_f(x)|`, computed
//! exactly, and it samples by running the stack backwards.
//!
//! ```
//! use ndarray::Array2;
//! use rand::SeedableRng;
//! use rbig::Rbig;
//!
//! // 1000 samples of a curved 2-D distribution (x2 ≈ x1²).
//! let x = Array2::from_shape_fn((1000, 2), |(i, j)| {
//!     let a = (i as f64 * 0.618_034).fract() * 4.0 - 2.0;
//!     let e = (i as f64 * 0.414_214).fract() - 0.5;
//!     if j == 0 { a } else { a * a + 0.3 * e }
//! });
//! let model = Rbig::fit(&x)?;                          // PCA rotations, automatic stopping
//! let z = model.transform(&x)?;                        // data -> approximately N(0, I)
//! let x_back = model.inverse_transform(&z)?;           // exact inverse
//! assert!((&x_back - &x).iter().all(|e| e.abs() < 1e-9));
//! let log_p = model.log_density(&x)?;                  // nats, one value per row
//! let draws = model.sample(5, &mut rand::rngs::StdRng::seed_from_u64(0))?;         // 5 new rows
//! println!("TC = {:.3} nats, {} layers, mean ln p = {:.3}", model.total_correlation(), model.n_layers(), log_p.mean().unwrap());
//! # assert_eq!(draws.ncols(), 2);
//! # Ok::<(), rbig::RbigError>(())
//! ```
//!
//! Parameters follow linfa's style: [`Rbig::params`] returns a builder, validated by
//! [`ParamGuard::check`]; the checked parameters implement linfa's `Fit`, and the
//! fitted model implements `Transformer`.
//!
//! For density estimation, [`Rbig::fit_density`] chooses the rotation, the marginal maps
//! and the depth on held-out rows (see [`select`] and [`Validation`]); the information
//! measures are in [`information`].
//!
//! # How the data flow
//!
//! The modules read like the algorithm, each standing on those below it only:
//! `numeric` (sorting, spacing entropy, moments, ties, the null cache), then `bijector`
//! (the fitted-piece trait), `marginal` (spline maps), `rotation` (orthogonal, fitted
//! through one trait), `null` (the noise of a reduction), `prestep` (the steps before
//! the layers: ICA mode's, a Gaussian-mixture start), `model`, and on top
//! [`information`], [`dequantize`] and the tool.
//!
//! ```text
//! FIT  (model/fit.rs)
//!   x (n × d, rows = samples)
//!   ├─ checks; tied values spread over their resolution         numeric/ties
//!   ├─ held-out rows split off, with Validation                 model/held_out
//!   ├─ with RbigParams::mixture: a Gaussian mixture (EM, BIC)   prestep/mixture
//!   │  and its Rosenblatt transform
//!   ├─ ICA mode: unmixing → refinement → radial step, each      prestep/
//!   │  kept if its gain beats the Gaussian null                 null.rs
//!   └─ loop, one layer at a time:
//!        marginal Gaussianization  (spline per column)          marginal/
//!        rotation  (RotationKind::fitter → FitRotation)         rotation/
//!        reduction = Σ H before − Σ H after (spacing entropy)   numeric/spacing
//!        stop rule (significance vs the null) or held-out score model/stopping, held_out
//!   → Rbig { steps: [pre-steps.., layers..], output: marginal step, diagnostics }
//!
//! SCORE (model/apply.rs), blocks of rows through every step while in cache
//!   x ─ steps forward, summing ln|det J| ─ output step ─ + ln N(z; 0, I) = ln p(x)
//!   z ─ steps backward ─ x                      (inverse_transform, sample)
//!
//! INFORMATION (information/)
//!   TC = pre-step gains + Σ layer reductions       H = Σ marginal H − TC
//!   MI = TC of the joint model started from the blocks' unmixings − TC of each block
//!        (PCA, random: TC of the blocks' Gaussianized outputs side by side)
//!   KL = TC(G_Q(P)) + Σ marginal divergences of G_Q(P) from N(0, 1)
//! ```
//!
//! A new marginal map, rotation or pre-step is a new file implementing the crate's
//! `Bijector` trait (and, for a rotation, `FitRotation`), plus one registration: a
//! variant of the model's `Step`, or of [`RotationKind`].

mod bijector;
pub mod dequantize;
pub mod error;
pub mod information;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals;
pub mod io;
mod marginal;
mod model;
mod null;
mod numeric;
mod params;
mod prestep;
mod rotation;

pub use error::RbigError;
pub use linfa::ParamGuard;
pub use marginal::Knots;
pub use model::{density_candidates, select, LayerDiagnostics, PreStepSummary, Rbig, Selection, FORMAT_VERSION};
pub use params::{MixtureStart, RbigParams, RbigValidParams, Validation, Whitening};
pub use rotation::RotationKind;
