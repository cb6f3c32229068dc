//! The information estimators: entropy, total correlation, mutual information and KL
//! divergence, each with its standard error.

use numpy::PyReadonlyArray2;
use pyo3::prelude::*;
use rbig::information::{self, InformationEstimate};

use crate::params::{units, FitArgs, KnotsArg};
use crate::run::cancellable;

/// An information estimate: value, standard error (same units), units, and the layers
/// of the model it comes from.
#[pyclass(frozen, module = "rbig._rbig", name = "Estimate")]
pub(crate) struct Estimate {
    inner: InformationEstimate,
}

#[pymethods]
impl Estimate {
    /// The estimate, in `units`.
    #[getter]
    fn value(&self) -> f64 {
        self.inner.value()
    }
    /// Its standard error, in `units`.
    #[getter]
    fn standard_error(&self) -> f64 {
        self.inner.standard_error()
    }
    /// `"nats"` or `"bits"`.
    #[getter]
    fn units(&self) -> &'static str {
        self.inner.units().name()
    }
    /// `"models"`, or `"nearest_neighbours"` for a mutual information whose models
    /// broke down (a block without density) or, in six columns or fewer, missed what
    /// the KSG estimate sees.
    #[getter]
    fn method(&self) -> &'static str {
        self.inner.method().name()
    }
    /// Rotating layers of the model behind the estimate.
    #[getter]
    fn layers(&self) -> usize {
        self.inner.layers()
    }
    /// That model's per-layer total-correlation reductions, in `units`.
    #[getter]
    fn reductions(&self) -> Vec<f64> {
        self.inner.reductions()
    }
    fn __float__(&self) -> f64 {
        self.inner.value()
    }
    fn __repr__(&self) -> String {
        format!(
            "Estimate(value={}, standard_error={}, units='{}', method='{}', layers={})",
            self.inner.value(),
            self.inner.standard_error(),
            self.inner.units().name(),
            self.inner.method().name(),
            self.inner.layers()
        )
    }
}

/// One estimator run with the GIL released and Ctrl-C honoured.
fn estimate(
    py: Python<'_>,
    args: FitArgs,
    units_name: &str,
    run: impl FnOnce(&rbig::RbigParams) -> Result<InformationEstimate, rbig::RbigError> + Send,
) -> PyResult<Estimate> {
    let inner = cancellable(py, |cancel| {
        let units = units(units_name)?;
        Ok(run(&args.builder(cancel)?)?.in_units(units))
    })?;
    Ok(Estimate { inner })
}

/// Joint differential entropy of `x`.
#[pyfunction]
#[pyo3(signature = (x, *, rotation = "ica".to_string(), max_layers = None, knots = KnotsArg::Name("auto".into()), seed = 0, units = "nats"))]
pub(crate) fn entropy(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    rotation: String,
    max_layers: Option<usize>,
    knots: KnotsArg,
    seed: u64,
    units: &str,
) -> PyResult<Estimate> {
    let x = x.as_array();
    estimate(py, FitArgs { rotation, max_layers, knots, seed, whiten: Some(false), mixture: None }, units, |p| {
        information::entropy(&x, p)
    })
}

/// Total correlation (multi-information) of the columns of `x`.
#[pyfunction]
#[pyo3(signature = (x, *, rotation = "ica".to_string(), max_layers = None, knots = KnotsArg::Name("auto".into()), seed = 0, units = "nats"))]
pub(crate) fn total_correlation(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    rotation: String,
    max_layers: Option<usize>,
    knots: KnotsArg,
    seed: u64,
    units: &str,
) -> PyResult<Estimate> {
    let x = x.as_array();
    estimate(py, FitArgs { rotation, max_layers, knots, seed, whiten: Some(false), mixture: None }, units, |p| {
        information::total_correlation(&x, p)
    })
}

/// Mutual information between the column blocks `x` and `y` (same rows).
#[pyfunction]
#[pyo3(signature = (x, y, *, rotation = "ica".to_string(), max_layers = None, knots = KnotsArg::Name("auto".into()), seed = 0, units = "nats"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn mutual_information(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray2<'_, f64>,
    rotation: String,
    max_layers: Option<usize>,
    knots: KnotsArg,
    seed: u64,
    units: &str,
) -> PyResult<Estimate> {
    let (x, y) = (x.as_array(), y.as_array());
    estimate(py, FitArgs { rotation, max_layers, knots, seed, whiten: Some(false), mixture: None }, units, |p| {
        information::mutual_information(&x, &y, p)
    })
}

/// Kullback-Leibler divergence D(P || Q) from samples `p` and `q` (same columns).
#[pyfunction]
#[pyo3(signature = (p, q, *, rotation = "ica".to_string(), max_layers = None, knots = KnotsArg::Name("auto".into()), seed = 0, units = "nats"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn kl_divergence(
    py: Python<'_>,
    p: PyReadonlyArray2<'_, f64>,
    q: PyReadonlyArray2<'_, f64>,
    rotation: String,
    max_layers: Option<usize>,
    knots: KnotsArg,
    seed: u64,
    units: &str,
) -> PyResult<Estimate> {
    let (p, q) = (p.as_array(), q.as_array());
    estimate(py, FitArgs { rotation, max_layers, knots, seed, whiten: Some(false), mixture: None }, units, |params| {
        information::kl_divergence(&p, &q, params)
    })
}
