//! Information measures estimated through Gaussianization.
//!
//! All four estimators fit RBIG models with the parameters you pass (the same builder as
//! [`Rbig::params`]) and return an [`InformationEstimate`]: the value, its standard
//! error, its units, and the layers and per-layer total-correlation reductions of the
//! model the value comes from.
//!
//! For information measures, [`crate::RotationKind::Ica`] is the accurate choice (PCA stalls on
//! dependence that is not correlation); see the README's table for both.
//!
//! Conventions: differential entropies and divergences of continuous distributions,
//! natural logarithms (nats) unless you ask for bits with
//! [`InformationEstimate::in_units`]; rows are samples, columns are dimensions.
//!
//! - [`total_correlation`]: `TC(X) = Σᵢ H(Xᵢ) − H(X)`, the sum of the per-layer
//!   reductions of a model fitted on `X`.
//! - [`entropy`]: `H(X) = Σᵢ Ĥ(Xᵢ) − TC(X)`, marginal entropies by the m-spacing
//!   estimator.
//! - [`mutual_information`]: with PCA or random rotations, `I(X; Y) = TC([G_X(X),
//!   G_Y(Y)])`, where `G_X`, `G_Y` are models fitted on each block: Gaussianizing a
//!   block alone leaves the dependence between blocks untouched and removes the
//!   dependence within it. With ICA rotations, `I(X; Y) = TC(X, Y) − TC(X) − TC(Y)`,
//!   the joint model started from the blocks' own linear unmixings so that those cancel
//!   exactly; the joint model can then find structure shared by the blocks (a common
//!   scale, as in the multivariate Student-t) that block-wise Gaussianization destroys.
//!   A difference below 0 beyond the noise marks a block without density (a curve
//!   rolled up in the plane), and the nearest-neighbour (KSG) estimate, which needs
//!   none, is returned instead. In six columns or fewer (two for the total
//!   correlation, which is then the columns' mutual information), an estimate on the
//!   rank scores (below) is checked against the KSG estimate on the same scores, which
//!   is returned when it is larger beyond the noise of the two's difference: the
//!   models' failure is to miss dependence, as on a copula with sharp edges, and there
//!   the KSG estimate's bias is small.
//! - [`kl_divergence`]: `D(P ‖ Q) = TC(G_Q(X_P)) + Σᵢ D(marginal i of G_Q(X_P) ‖ N(0, 1))`:
//!   the Gaussianizer of `Q` sends `Q` to `N(0, I)`, and divergences are invariant under
//!   the same invertible map applied to both. `G_Q`'s closing maps were fitted to Q's
//!   own rows, and on new rows miss `N(0, 1)` by what such maps lose on average (their
//!   held-out loss on Gaussian data of Q's size), which is taken out.
//!
//! # Units matter little
//!
//! Total correlation and mutual information do not change when any column goes through
//! a strictly increasing map (a change of units, a log, ranks). Both are therefore
//! estimated on the columns' ranks, each column mapped to sorted draws of a reference
//! distribution (the Gaussian, or the Student-t that makes the ranks most likely, so
//! that a Student-t copula stays elliptical): draws of its own, or one sample for every
//! column where draws of their own would blur a near-exact increasing relation between
//! columns (a radius, a perimeter and an area). The rank estimate is the same,
//! to the last bit, whatever increasing maps the columns went through. Unless every
//! column looks Gaussian, the estimate in the given units is also made, and returned
//! when it is larger beyond the noise (the significance times the rank estimate's
//! standard error) or the rank estimate is below 0: the given units win where the
//! dependence is linear in them (linearly mixed non-Gaussian sources, and some sharp-
//! edged copulas) and on some real tables of heavily tied columns, and only there can
//! increasing maps move the result (see the README). Columns that all look Gaussian
//! are used as given alone where the ranks would blur a near-exact linear relation,
//! which the Gaussian plug-in `−½ ln det R` shows directly. The entropy and the
//! divergence depend on the units, and use them.
//!
//! ```
//! use rbig::{information::mutual_information, Rbig};
//! // y depends on x through a curve, plus noise; the columns are far from Gaussian.
//! let u = ndarray::Array2::from_shape_fn((3000, 2), |(i, j)| ((i + 1) as f64 * [0.754_877_666, 0.569_840_291][j]).fract());
//! let x = u.slice(ndarray::s![.., 0..1]).to_owned();
//! let y = x.mapv(|v| v * v) + &(u.slice(ndarray::s![.., 1..2]).to_owned() * 0.05);
//! let params = Rbig::params().rotation(rbig::RotationKind::Ica);
//! let a = mutual_information(&x, &y, &params)?;
//! let b = mutual_information(&x.mapv(f64::ln), &y.mapv(|v| (3.0 * v).exp()), &params)?;
//! assert!((a.value() - b.value()).abs() < 2.0 * a.standard_error());
//! # Ok::<(), rbig::RbigError>(())
//! ```
//!
//! # Standard errors
//!
//! Each estimate is a plug-in functional of the density, `E[c(X)]`, whose per-row
//! contribution `c` the fitted models give: `−ln p̂(x)` for the entropy,
//! `ln p̂(x) − Σᵢ ln p̂ᵢ(xᵢ)` for the total correlation (`p̂ᵢ` a marginal Gaussianization
//! of column `i`), `ln p̂(x, y) − ln p̂(x) − ln p̂(y)` for the mutual information, and
//! `ln p̂(x) − ln q̂(x)` over P's rows for the divergence. Its sampling variance is
//! `Var(c)/n` (the delta method: `c` is the functional's influence function up to a
//! constant). To it the standard error adds the estimator's own noise, which the first
//! term misses where the models find little: each kept step's reduction is a difference
//! of spacing-entropy estimates, and varies on Gaussian data of the same size by the
//! null standard deviation that the stopping rule uses. So
//! `SE = √(Var(c)/n + Σ_steps σ²_null)`, with at least one step for two or more
//! columns: a model that kept none decided that the first layer did not stand out of
//! that noise, and its estimate of 0 is no more certain than the decision. The
//! divergence's term covers P's rows; the
//! Gaussianizer fitted on Q's rows adds variance it does not count. How well the
//! standard errors cover the truth on the ground-truth suite is in the README.
//!
//! # What the layers leave
//!
//! A model's total correlation is the sum of what its steps removed, and its steps see
//! dependence only through one-dimensional projections. Each estimate therefore also
//! measures what the model left in its output by nearest neighbours (the
//! Kozachenko–Leonenko estimator, on at most 5000 rows and 16 columns), against a
//! simulated null on Gaussian samples of the same size, and adds it when it is
//! significant (the significance of the stopping rule), with the null's variance in the
//! standard error. Two Gaussian blocks each turned by an angle growing with its norm
//! hide their dependence from every projection: the layers stop at 0.6 of their
//! 1.02 nats, and the correction adds 0.1 of the 0.4 left.

mod copula;
mod neighbours;
mod residual;

use residual::Leftover;

use ndarray::{concatenate, Array1, Array2, ArrayBase, ArrayView2, Axis, Data, Ix2};
use serde::{Deserialize, Serialize};

use crate::bijector::par_forward;
use crate::error::{RbigError, Result};
use crate::marginal::{row_entropies, MarginalGaussianizer, RowFit};
use crate::model::{as_fitted, check_input, side_by_side, Rbig};
use crate::null::NullModel;
use crate::numeric::normal::{add_std_normal_ln_pdf, HALF_LN_2PI};
use crate::numeric::population_mean_var;
use crate::params::{RbigParams, RbigValidParams};
use crate::prestep::Start;
use crate::rotation::{fit_pca, RotationKind};
use linfa::ParamGuard;

/// Units of an information estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Units {
    /// Natural logarithms (the default).
    Nats,
    /// Base-2 logarithms: nats / ln 2.
    Bits,
}

impl Units {
    /// The unit's name, as printed: `"nats"` or `"bits"`.
    pub fn name(self) -> &'static str {
        match self {
            Units::Nats => "nats",
            Units::Bits => "bits",
        }
    }

    fn convert(self, nats: f64) -> f64 {
        match self {
            Units::Nats => nats,
            Units::Bits => nats / std::f64::consts::LN_2,
        }
    }
}

/// How an information estimate was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// From the fitted Gaussianization models: the total correlation their steps
    /// removed, with what they left measured in their output.
    Models,
    /// From nearest neighbours (the KSG estimate), for a mutual information whose
    /// models broke down (a block without density, such as a curve rolled up in the
    /// plane) or, in six columns or fewer, missed dependence that the KSG estimate on
    /// the same rank scores sees beyond the noise (a copula with sharp edges); see the
    /// [module documentation](self).
    NearestNeighbours,
}

impl Method {
    /// The method's name, as printed: `"models"` or `"nearest_neighbours"`.
    ///
    /// ```
    /// use rbig::{information::{total_correlation, Method}, Rbig};
    /// let x = ndarray::Array2::from_shape_fn((1000, 2), |(i, j)| ((i * (j + 2)) as f64 * 0.618_034).fract());
    /// let tc = total_correlation(&x, &Rbig::params())?;
    /// assert_eq!(tc.method(), Method::Models);
    /// assert_eq!(tc.method().name(), "models");
    /// # Ok::<(), rbig::RbigError>(())
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Method::Models => "models",
            Method::NearestNeighbours => "nearest_neighbours",
        }
    }
}

/// An information estimate with its standard error and provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct InformationEstimate {
    nats: f64,
    standard_error: f64,
    units: Units,
    method: Method,
    layers: usize,
    reductions: Vec<f64>,
}

impl InformationEstimate {
    /// The estimate `nats` of `model`, which must be finite: every estimator's result
    /// passes here, so none returns a NaN or an infinity.
    fn from_model(nats: f64, standard_error: f64, model: &Rbig) -> Result<Self> {
        if !(nats.is_finite() && standard_error.is_finite()) {
            return Err(RbigError::NumericOverflow { reason: format!("estimate {nats} ± {standard_error}") });
        }
        Ok(Self {
            nats,
            standard_error,
            units: Units::Nats,
            method: Method::Models,
            layers: model.n_layers(),
            reductions: model.diagnostics().iter().map(|l| l.tc_reduction).collect(),
        })
    }

    /// The estimate in [`InformationEstimate::units`].
    pub fn value(&self) -> f64 {
        self.units.convert(self.nats)
    }

    /// The estimate's standard error, in [`InformationEstimate::units`] (see the
    /// [module documentation](self) for how it is computed).
    ///
    /// ```
    /// use rand::{Rng, SeedableRng};
    /// use rbig::{information::entropy, Rbig};
    /// // Uniform on [0, 1]²: H = 0.
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    /// let x = ndarray::Array2::from_shape_simple_fn((4000, 2), || rng.gen::<f64>());
    /// let h = entropy(&x, &Rbig::params())?;
    /// println!("H = {:.4} ± {:.4}", h.value(), h.standard_error());
    /// assert!(h.standard_error() > 0.0 && h.value().abs() < 3.0 * h.standard_error());
    /// # Ok::<(), rbig::RbigError>(())
    /// ```
    pub fn standard_error(&self) -> f64 {
        self.units.convert(self.standard_error)
    }

    /// The units of [`InformationEstimate::value`] and of the reductions.
    pub fn units(&self) -> Units {
        self.units
    }

    /// The same estimate expressed in `units`.
    ///
    /// ```
    /// # use ndarray::Array2;
    /// # let x = Array2::from_shape_fn((500, 2), |(i, j)| { let t = (i as f64 * 0.618).fract(); if j == 0 { t } else { t + 0.3 * (i as f64 * 0.414).fract() } });
    /// use rbig::{information::{total_correlation, Units}, Rbig};
    /// let tc = total_correlation(&x, &Rbig::params())?;
    /// let bits = tc.clone().in_units(Units::Bits);
    /// assert!((bits.value() * std::f64::consts::LN_2 - tc.value()).abs() < 1e-12);
    /// # Ok::<(), rbig::RbigError>(())
    /// ```
    pub fn in_units(mut self, units: Units) -> Self {
        self.units = units;
        self
    }

    /// How the estimate was made.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Layers in the model the estimate comes from (the joint model's, for a mutual
    /// information made by [`Method::NearestNeighbours`]).
    pub fn layers(&self) -> usize {
        self.layers
    }

    /// That model's per-layer total-correlation reductions, in [`InformationEstimate::units`].
    pub fn reductions(&self) -> Vec<f64> {
        self.reductions.iter().map(|&r| self.units.convert(r)).collect()
    }
}

/// `params` validated, refusing a mixture start: its in-sample gain has no null
/// distribution to correct an estimate by, and the estimators' noise model assumes none.
fn checked(params: &RbigParams) -> Result<&RbigValidParams> {
    let valid = params.check_ref()?;
    if valid.mixture() != crate::MixtureStart::Off {
        return Err(RbigError::InvalidParameter {
            name: "mixture",
            reason: "is for density estimation: the information estimators do not use it".into(),
        });
    }
    Ok(valid)
}

fn fit(x: ArrayView2<'_, f64>, params: &RbigParams) -> Result<Rbig> {
    Rbig::fit_with(checked(params)?, x)
}

/// Total correlation (multi-information) of `x`: how much the joint entropy falls short
/// of the sum of the marginal ones. Zero iff the columns are independent.
///
/// ```
/// use ndarray::Array2;
/// use rbig::{information::total_correlation, Rbig};
///
/// let x = Array2::from_shape_fn((2000, 3), |(i, j)| ((i * (j + 1)) as f64 * 0.7).sin() + (i as f64 * 0.618).fract());
/// let tc = total_correlation(&x, &Rbig::params())?;
/// println!("TC = {:.3} {} ({} layers)", tc.value(), tc.units().name(), tc.layers());
/// # Ok::<(), rbig::RbigError>(())
/// ```
pub fn total_correlation<S: Data<Elem = f64>>(
    x: &ArrayBase<S, Ix2>,
    params: &RbigParams,
) -> Result<InformationEstimate> {
    let valid = checked(params)?;
    check_input(x.view())?;
    // The columns' marginal step serves both the front's choice (their entropies) and
    // the standard error of an estimate on the values as given.
    let columns = RowFit::of(x.t(), valid.knots())?;
    // Two columns' total correlation is their mutual information, checked as that is.
    let check_split = (x.ncols() == 2).then_some(1);
    let singletons = vec![1; x.ncols()];
    let x = x.view();
    copula_front(x, &columns.entropies, &singletons, valid).estimate(
        || total_correlation_of(x, params, columns),
        |z| total_correlation_of(z, params, RowFit::of(z.t(), valid.knots())?),
        check_split,
        valid,
    )
}

/// The total correlation of `x`, whose columns' marginal step is `columns`.
fn total_correlation_of(x: ArrayView2<'_, f64>, params: &RbigParams, columns: RowFit) -> Result<Estimated> {
    let valid = checked(params)?;
    let model = Rbig::fit_with(valid, x)?;
    let contributions = model.log_density(&x)? - marginal_log_densities(x, columns, params)?;
    let (left, left_var) = left_over(&model, x)?.significant(valid.significance);
    let noise = model.noise_variance() + left_var;
    let value = model.total_correlation() + left;
    Estimated::by_models(value, contributions, noise, &model)
}

/// The total correlation `model` left in its output on the rows `x` it was fitted to
/// (see [`residual`]), with their ties spread as the fit spread them.
fn left_over(model: &Rbig, x: ArrayView2<'_, f64>) -> Result<Leftover> {
    let rows = as_fitted(model.hyperparameters(), x);
    Ok(Leftover::of(model.transform(&neighbours::subsample(rows.view()))?.view()))
}

/// Joint differential entropy of `x`.
///
/// ```
/// use ndarray::Array2;
/// use rbig::{information::entropy, Rbig};
///
/// // Uniform on [0, 2] x [0, 2] (a low-discrepancy sample): H = 2 ln 2.
/// let x = Array2::from_shape_fn((4000, 2), |(i, j)| 2.0 * ((i + 1) as f64 * [0.754_877_666, 0.569_840_291][j]).fract());
/// let h = entropy(&x, &Rbig::params())?;
/// assert!((h.value() - 2.0 * 2f64.ln()).abs() < 0.05);
/// # Ok::<(), rbig::RbigError>(())
/// ```
pub fn entropy<S: Data<Elem = f64>>(x: &ArrayBase<S, Ix2>, params: &RbigParams) -> Result<InformationEstimate> {
    let model = fit(x.view(), params)?;
    let (left, left_var) = left_over(&model, x.view())?.significant(checked(params)?.significance);
    let se = standard_error(&model.log_density(x)?, model.noise_variance() + left_var);
    InformationEstimate::from_model(model.entropy() - left, se, &model)
}

/// Mutual information between the blocks `x` and `y` (same rows, any widths).
///
/// ```
/// use ndarray::{s, Array2};
/// use rbig::{information::mutual_information, Rbig};
///
/// let z = Array2::from_shape_fn((3000, 2), |(i, j)| ((i + 1) as f64 * [0.754_877_666, 0.569_840_291][j]).fract());
/// // y = x + noise: strongly dependent blocks.
/// let x = z.slice(s![.., 0..1]).to_owned();
/// let y = &x + &(z.slice(s![.., 1..2]).to_owned() * 0.2);
/// let mi = mutual_information(&x, &y, &Rbig::params())?;
/// assert!(mi.value() > 1.0);
/// # Ok::<(), rbig::RbigError>(())
/// ```
///
/// # Errors
/// [`RbigError::RowMismatch`] if the blocks have different numbers of rows, and any
/// error of fitting either block or the joint model.
pub fn mutual_information<S: Data<Elem = f64>, T: Data<Elem = f64>>(
    x: &ArrayBase<S, Ix2>,
    y: &ArrayBase<T, Ix2>,
    params: &RbigParams,
) -> Result<InformationEstimate> {
    if x.nrows() != y.nrows() {
        return Err(RbigError::RowMismatch { first: x.nrows(), second: y.nrows() });
    }
    let params = checked(params)?;
    // Each block's problems are named in its own columns' numbers.
    check_input(x.view())?;
    check_input(y.view())?;
    let joint = concatenate(Axis(1), &[x.view(), y.view()]).expect("same number of rows");
    check_input(joint.view())?;
    let mut entropies = row_entropies(x.t())?;
    entropies.extend(row_entropies(y.t())?);
    let split = x.ncols();
    let check_split = (joint.ncols() <= NEIGHBOUR_CHECK_COLUMNS).then_some(split);
    copula_front(joint.view(), &entropies, &[split, y.ncols()], params).estimate(
        || mutual_information_of(joint.view(), split, params),
        |z| mutual_information_of(z, split, params),
        check_split,
        params,
    )
}

/// The mutual information between the first `split` columns of `joint` and the rest.
fn mutual_information_of(joint: ArrayView2<'_, f64>, split: usize, params: &RbigValidParams) -> Result<Estimated> {
    let (x, y) = joint.split_at(Axis(1), split);
    // Side by side (see [`Front::estimate`]): together they hold no more than the
    // joint model's fit after them.
    let (model_x, model_y) = rayon::join(|| Rbig::fit_with(params, x), || Rbig::fit_with(params, y));
    let (model_x, model_y) = (model_x?, model_y?);
    if params.rotation().unmixes() {
        // ICA mode: the joint model starts from the blocks' own unmixings (identity for
        // a block without one), so their contributions cancel exactly in the
        // difference, then is free to find joint structure: a scale shared by the
        // blocks is found by its radial step.
        let start = model_x.unmixing_start().beside(x.ncols(), model_y.unmixing_start(), y.ncols());
        let model = Rbig::fit_from(params, joint, Some(start), &mut |_| {})?;
        let mi = model.total_correlation() - model_x.total_correlation() - model_y.total_correlation();
        // The raw marginals' terms of the three total correlations cancel row by row.
        let contributions = model.log_density(&joint)? - model_x.log_density(&x)? - model_y.log_density(&y)?;
        let noise = model.noise_variance() + model_x.noise_variance() + model_y.noise_variance();
        // What the joint model left beyond what the blocks' models left is dependence
        // between the blocks that no step found. The blocks' leftovers are never
        // negative and only subtract: when the joint's is not significant on its own,
        // the difference is not either, and they need not be measured (two of the three
        // neighbour searches, about 30 % of an estimate at n = 5000).
        let joint_left = left_over(&model, joint)?;
        let (left, left_var) = if joint_left.significant(params.significance).0 > 0.0 {
            joint_left.beyond(left_over(&model_x, x)?, left_over(&model_y, y)?).significant(params.significance)
        } else {
            (0.0, 0.0)
        };
        let se = standard_error(&contributions, noise + left_var);
        // Mutual information is never negative: a difference below 0 beyond the noise
        // (the significance the stopping rule uses, 3 standard errors by default) means
        // the blocks' models removed dependence the joint model did not (a block on a
        // lower-dimensional set, as a curve rolled up in the plane, has no density, and
        // its models never finish). Nearest neighbours need no density, and their
        // estimate is used instead; where they have no power (beyond 16 columns) or no
        // distances (repeated rows), the Gaussianized blocks', which cannot go below 0
        // but by noise.
        if mi < -params.significance * se {
            return match neighbours::ksg_mutual_information(as_fitted(params, joint).view(), split) {
                Some(ksg) => Ok(Estimated {
                    estimate: InformationEstimate {
                        method: Method::NearestNeighbours,
                        ..InformationEstimate::from_model(ksg.value, ksg.standard_error(), &model)?
                    },
                    paired: None,
                }),
                None => block_gaussianized(&model_x, &model_y, x, y, params),
            };
        }
        // A correction that would take it there measures no hidden dependence either:
        // where a block has no density, the neighbours' distances shrink onto its set,
        // and what its models and the joint model "left" differ by nats either way.
        let (value, noise) =
            if mi + left < -params.significance * se { (mi, noise) } else { (mi + left, noise + left_var) };
        return Estimated::by_models(value, contributions, noise, &model);
    }
    block_gaussianized(&model_x, &model_y, x, y, params)
}

/// An estimate, and for one by the models, its rows' contributions and its steps'
/// noise: what [`or_neighbours`] needs to check it.
struct Estimated {
    estimate: InformationEstimate,
    paired: Option<(Array1<f64>, f64)>,
}

impl Estimated {
    /// The models' estimate `value`, whose standard error comes from `contributions`
    /// and `noise_variance` ([`standard_error`]).
    fn by_models(value: f64, contributions: Array1<f64>, noise_variance: f64, model: &Rbig) -> Result<Self> {
        let estimate = InformationEstimate::from_model(value, standard_error(&contributions, noise_variance), model)?;
        Ok(Self { estimate, paired: Some((contributions, noise_variance)) })
    }

    /// The estimate, or with a `split` the KSG estimate on `z` (the rows it was made
    /// on) between its first `split` columns and the rest, where that shows what the
    /// models missed ([`or_neighbours`]).
    fn checked(self, z: ArrayView2<'_, f64>, split: Option<usize>, params: &RbigValidParams) -> InformationEstimate {
        match (self.paired, split) {
            (Some((contributions, noise)), Some(split)) => {
                or_neighbours(self.estimate, z, split, &contributions, noise, params)
            }
            _ => self.estimate,
        }
    }
}

/// Columns up to which an estimate on the copula scores is checked against the KSG
/// estimate on the same scores ([`or_neighbours`]).
const NEIGHBOUR_CHECK_COLUMNS: usize = 6;

/// `estimate` (by the models, with per-row `contributions` and step noise
/// `noise_variance`), or the KSG estimate of the mutual information between the first
/// `split` columns of `joint` and the rest when that is larger beyond the noise of the
/// two's difference (the significance times its standard error, from the rows' paired
/// terms).
///
/// The models' failure is to miss dependence; the KSG estimate's, in few dimensions and
/// at moderate information, is small, and mostly downward. A copula with sharp edges
/// shows the first: `y = x + ε` with `x` and `ε` uniform is a parallelogram, undone by
/// one linear unmixing in the given units, but its rank scores' edges are curves, and
/// the models stopped 0.05 nats short of 0.333 on them where KSG came within 0.01.
/// Checked only on the scores, where the KSG estimate, like the models', is the same
/// whatever increasing maps the columns went through, and only where their estimate is
/// kept over the given units' ([`given_beats`]: a linear relation in the given units,
/// as between rotated uniforms, is estimated best there, and KSG on the scores' sharp
/// edges came out 0.02 low); and up to
/// [`NEIGHBOUR_CHECK_COLUMNS`] columns: with more, its bias outgrows what it could show
/// (on the 40 Beyond-Normal tasks it never exceeded the models' estimate beyond 6
/// columns, checked up to 16), and the search, 0.02 s in two columns at 5000 rows and
/// 0.07–0.1 s in four to six, would come on top of the wider estimates.
fn or_neighbours(
    estimate: InformationEstimate,
    joint: ArrayView2<'_, f64>,
    split: usize,
    contributions: &Array1<f64>,
    noise_variance: f64,
    params: &RbigValidParams,
) -> InformationEstimate {
    let Some(ksg) = neighbours::ksg_mutual_information(as_fitted(params, joint).view(), split) else { return estimate };
    let rows = neighbours::subsample_rows(joint.nrows());
    let differences: Vec<f64> =
        ksg.terms.iter().zip(&rows).map(|(t, &r)| t - contributions[r]).filter(|d| d.is_finite()).collect();
    let finite: Vec<f64> = contributions.iter().copied().filter(|c| c.is_finite()).collect();
    let (m, n) = (differences.len() as f64, finite.len() as f64);
    // The KSG estimate sees only the subsample's rows, and their contributions' mean
    // differs from all rows' by its sampling noise.
    let subsampling = population_mean_var(&finite).1 * (1.0 / m - 1.0 / n).max(0.0);
    let variance = population_mean_var(&differences).1 / m + subsampling + noise_variance;
    if ksg.value - estimate.nats > params.significance * variance.sqrt() {
        InformationEstimate {
            nats: ksg.value,
            standard_error: ksg.standard_error(),
            method: Method::NearestNeighbours,
            ..estimate
        }
    } else {
        estimate
    }
}

/// The mutual information as the total correlation of `[G_X(x), G_Y(y)]`, the blocks
/// Gaussianized by their own models, with its per-row contributions and step noise.
///
/// In PCA mode the joint model's first layer removes every correlation, those within
/// each block included, and is charged the null of all `p + q` columns' spurious
/// correlations. Neither belongs to the mutual information: the layer is credited with
/// the correlation left within each Gaussianized block (`−½ ln det` of its correlation
/// matrix, about 0 when the block's model decorrelated it) taken back out and with the
/// null of the within-block correlations given back, leaving the correlations between
/// the blocks charged their own null, `p·q/(2n)`. Charged the whole null, the estimate
/// for two dense 50-D Gaussian blocks was 0.28 nats low. (A random rotation removes
/// only part of the correlations, and ICA mode comes here only for blocks its models
/// could not finish, the Swiss roll; both fit the blocks as they are.)
fn block_gaussianized(
    model_x: &Rbig,
    model_y: &Rbig,
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    params: &RbigValidParams,
) -> Result<Estimated> {
    let gx = model_x.transform(&x)?;
    let gy = model_y.transform(&y)?;
    let joint = concatenate(Axis(1), &[gx.view(), gy.view()]).expect("same number of rows");
    let start = (params.rotation() == RotationKind::Pca).then(|| {
        let within = |g: &Array2<f64>| RotationKind::Pca.variance_null(g.nrows(), g.ncols()).0 - fit_pca(g.t()).2;
        Start { step: None, null_mean: 0.0, linear_null: within(&gx) + within(&gy) }
    });
    let model = Rbig::fit_from(params, joint.view(), start, &mut |_| {})?;
    // The blocks' models made each block's marginals standard normal.
    let contributions = model.log_density(&joint)? - std_normal_log_density(joint.view());
    Estimated::by_models(model.total_correlation(), contributions, model.noise_variance(), &model)
}

/// Kullback–Leibler divergence `D(P ‖ Q)` from samples `p` of P and `q` of Q (same
/// columns; the row counts may differ).
///
/// The estimate is not clipped at zero: for `P = Q` it scatters around 0, within its
/// standard error. Clipping would bias every average of estimates upwards.
///
/// ```
/// use ndarray::Array2;
/// use rbig::{information::kl_divergence, Rbig};
///
/// // Uniform on [0, 1] against uniform on [0, 2]: D = ln 2.
/// let p = Array2::from_shape_fn((4000, 1), |(i, _)| ((i + 1) as f64 * 0.618_034).fract());
/// let q = Array2::from_shape_fn((4000, 1), |(i, _)| 2.0 * ((i + 1) as f64 * 0.414_214).fract());
/// let d = kl_divergence(&p, &q, &Rbig::params())?;
/// assert!((d.value() - 2f64.ln()).abs() < 0.1);
/// # Ok::<(), rbig::RbigError>(())
/// ```
///
/// # Errors
/// [`RbigError::ColumnMismatch`] if the column counts differ, and any error of
/// fitting either model.
pub fn kl_divergence<S: Data<Elem = f64>, T: Data<Elem = f64>>(
    p: &ArrayBase<S, Ix2>,
    q: &ArrayBase<T, Ix2>,
    params: &RbigParams,
) -> Result<InformationEstimate> {
    if p.ncols() != q.ncols() {
        return Err(RbigError::ColumnMismatch { first: p.ncols(), second: q.ncols() });
    }
    let q_model = fit(q.view(), params)?;
    let z = q_model.transform(p)?;
    let model = fit(z.view(), params)?;
    // D(marginal ‖ N(0,1)) = E[−ln φ(z)] − H(z) = ½ ln 2π + ½ E[z²] − H(z).
    let marginal_kl: f64 = z
        .axis_iter(Axis(1))
        .zip(model.marginal_entropies())
        .map(|(col, h)| HALF_LN_2PI + 0.5 * col.mapv(|v| v * v).mean().unwrap_or(0.0) - h)
        .sum();
    // The per-row log-ratio ln p(x) − ln q(x) is ln p_z(z) − ln N(z; 0, I) at z = G_Q(x).
    let contributions = model.log_density(&z)? - std_normal_log_density(z.view());
    // The marginal part rests on one entropy estimate per column, each as noisy as a
    // Gaussian column's estimated negentropy: the contributions do not see that noise
    // (with P = Q and no layer kept they are constant).
    let valid = checked(params)?;
    let null = NullModel::new(z.nrows(), z.ncols(), valid.rotation(), valid.knots());
    let marginal_noise = z.ncols() as f64 * null.negentropy_sd.powi(2);
    let (left, left_var) = left_over(&model, z.view())?.significant(valid.significance);
    let se = standard_error(&contributions, model.noise_variance() + marginal_noise + left_var);
    // G_Q's closing maps followed the noise of Q's own rows: on any other rows, even
    // Q's, its output's marginals miss the standard normal by what such maps lose on new
    // rows, which the marginal part would count as divergence.
    let value = model.total_correlation() + left + marginal_kl - q_model.output_loss();
    InformationEstimate::from_model(value, se, &model)
}

/// The standard error of an estimate whose per-row contributions (its influence
/// function under the fitted models, up to a constant) are `contributions`, from a fit
/// whose steps add `noise_variance`: `√(Var(c)/n + noise)`. Rows whose contribution is
/// not finite (beyond what floating point can score) are left out.
fn standard_error(contributions: &Array1<f64>, noise_variance: f64) -> f64 {
    let finite: Vec<f64> = contributions.iter().copied().filter(|c| c.is_finite()).collect();
    let var = population_mean_var(&finite).1;
    (var / finite.len() as f64 + noise_variance).sqrt()
}

/// What a total correlation or mutual information is estimated on.
enum Front {
    /// The data as given.
    Given,
    /// The columns' copula scores ([`copula::copula_scores`]) alone.
    Scores(Array2<f64>),
    /// Both, keeping the scores' estimate unless the other is larger beyond the noise
    /// ([`given_beats`]).
    Both(Array2<f64>),
}

impl Front {
    /// The estimate the front asks for: `as_given` on the data as given, `on_scores`
    /// on their copula scores, or both, keeping the scores' unless [`given_beats`].
    /// An estimate on the scores is checked against the KSG estimate on them
    /// ([`Estimated::checked`]) with `check_split`, and only when it is kept.
    fn estimate(
        self,
        as_given: impl FnOnce() -> Result<Estimated> + Send,
        on_scores: impl FnOnce(ArrayView2<'_, f64>) -> Result<Estimated> + Send,
        check_split: Option<usize>,
        params: &RbigValidParams,
    ) -> Result<InformationEstimate> {
        Ok(match self {
            Front::Given => as_given()?.estimate,
            Front::Scores(z) => on_scores(z.view())?.checked(z.view(), check_split, params),
            Front::Both(z) => {
                // Independent and each deterministic: side by side, the one's serial
                // stretches (small matrices, line searches) fill the other's idle core.
                let (given, scores) = if side_by_side(z.len(), 2) {
                    rayon::join(as_given, || on_scores(z.view()))
                } else {
                    (as_given(), on_scores(z.view()))
                };
                let (given, scores) = (given?.estimate, scores?);
                if given_beats(&given, &scores.estimate, params.significance) {
                    given
                } else {
                    scores.checked(z.view(), check_split, params)
                }
            }
        })
    }
}

/// Where the dependence between `blocks` (column counts, in order) of `x` is estimated,
/// given its columns' spacing entropies.
///
/// The scores are what no increasing map of a column can change, and the estimate is
/// made on them. When some column is not Gaussian, the data as given may also show
/// structure that is linear in their units, which ranks lose (rotated uniforms); both
/// are estimated then. When every column looks Gaussian, the given units can show more
/// only through the noise every score carries, which blurs near-exact relations; the
/// Gaussian plug-in sees that directly ([`copula::scores_unless_blurred`]), and the
/// data are used as given when it does. (Gaussian columns used to be taken as given
/// always, so that an increasing map, which makes them non-Gaussian, moved the
/// estimate from one estimator to the other: by up to 0.03 nats on the Beyond-Normal
/// Gaussians.)
fn copula_front(x: ArrayView2<'_, f64>, entropies: &[f64], blocks: &[usize], params: &RbigValidParams) -> Front {
    let (n, d) = x.dim();
    let null = NullModel::new(n, d, params.rotation(), params.knots());
    if null.any_non_gaussian(x.t(), entropies, params.significance()) {
        return Front::Both(copula::copula_scores(x, params.seed(), blocks));
    }
    match copula::scores_unless_blurred(x, params.seed(), blocks) {
        Some(z) => Front::Scores(z),
        None => Front::Given,
    }
}

/// Whether, of two estimates of one quantity by the models, from the data as given and
/// from their copula scores, the first is kept: the one from the scores is, unless the
/// other is larger beyond the noise
/// (`sigmas` of the scores' standard error) or the scores' is below 0, which no total
/// correlation or mutual information is. Each hides some dependence from the models
/// (structure that is linear in the given units; structure that only the ranks make
/// simple), and the models' failure is to miss dependence, not to invent it beyond the
/// noise they are corrected for; within the noise, the estimate no increasing map of a
/// column can move is kept. (The larger of the two alone let such maps move Student-t
/// estimates by 0.03 nats, the spread between two noisy estimates of one value. The
/// scores alone put independent blocks, a Gaussian pair beside linearly mixed
/// heavy-tailed sources, at −0.02: their ranks turn the mixing nonlinear, and the
/// joint model and the block's own undo it differently.)
fn given_beats(as_given: &InformationEstimate, scores: &InformationEstimate, sigmas: f64) -> bool {
    let beyond_noise = as_given.nats > scores.nats + sigmas * scores.standard_error;
    beyond_noise || (scores.nats < 0.0 && as_given.nats > scores.nats)
}

/// `ln N(z; 0, I)` of each row of `z`.
fn std_normal_log_density(z: ArrayView2<'_, f64>) -> Array1<f64> {
    let mut log_p = Array1::zeros(z.nrows());
    add_std_normal_ln_pdf(z.t(), log_p.view_mut());
    log_p
}

/// `Σᵢ ln p̂ᵢ(xᵢ)` of each row of `x`, each column's density from the marginal
/// Gaussianization `columns` fitted on that column (or fitted now with the knot rule of
/// `params`, if it could not be).
fn marginal_log_densities(x: ArrayView2<'_, f64>, columns: RowFit, params: &RbigParams) -> Result<Array1<f64>> {
    let mut work = x.t().as_standard_layout().into_owned();
    let marginal = match columns.step {
        Some(step) => step,
        None => MarginalGaussianizer::fit(work.view(), checked(params)?.knots())?.0,
    };
    let mut log_p = Array1::zeros(x.nrows());
    par_forward(&marginal, work.view_mut(), Some(log_p.view_mut()));
    add_std_normal_ln_pdf(work.view(), log_p.view_mut());
    Ok(log_p)
}
