//! `rbig._rbig.Model`: a fitted model, its transforms, density and file bytes.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use rand::SeedableRng;
use rbig::{Knots, Rbig, RotationKind};

use crate::errors::to_py;
use crate::params::{adjusted, FitArgs, KnotsArg, MixtureArg};
use crate::run::{cancellable, detached};

/// A fitted RBIG model (immutable). Built by `Model.fit`, `Model.load` or
/// `Model.from_bytes`; the `rbig.RBIG` estimator wraps one.
#[pyclass(frozen, module = "rbig._rbig", name = "Model")]
pub(crate) struct Model {
    inner: Rbig,
}

fn rotation_name(r: RotationKind) -> &'static str {
    match r {
        RotationKind::Pca => "pca",
        RotationKind::Random => "random",
        RotationKind::Ica => "ica",
    }
}

#[pymethods]
impl Model {
    /// Fits a model to `x` (rows = samples), after an affine whitening with `whiten`
    /// true, without with false, and with whichever start fits better with None; after a
    /// Gaussian mixture's Rosenblatt transform with `mixture` ("bic" or a number of
    /// components). With `density`, selects among the library's density candidates on
    /// held-out rows instead (`rotation`, `knots`, `whiten` and `mixture` are then
    /// chosen, not given). Ctrl-C stops the fit at its next layer.
    #[staticmethod]
    #[pyo3(signature = (x, *, rotation = "pca".to_string(), max_layers = None, knots = KnotsArg::Name("auto".into()), seed = 0, density = false, names = None, whiten = None, mixture = None))]
    #[allow(clippy::too_many_arguments)]
    fn fit(
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f64>,
        rotation: String,
        max_layers: Option<usize>,
        knots: KnotsArg,
        seed: u64,
        density: bool,
        names: Option<Vec<String>>,
        whiten: Option<bool>,
        mixture: Option<MixtureArg>,
    ) -> PyResult<Self> {
        let x = x.as_array();
        let args = FitArgs { rotation, max_layers, knots, seed, whiten, mixture };
        let inner = cancellable(py, |cancel| {
            if density {
                let candidates: Vec<_> = rbig::density_candidates()
                    .into_iter()
                    .map(|c| adjusted(c, max_layers, seed, cancel.clone()))
                    .collect();
                Ok(rbig::select(&x, &candidates)?.model)
            } else {
                use rbig::ParamGuard;
                args.builder(cancel)?.check()?.fit_observed(&x, |_| {})
            }
        })?;
        // Names as the tool stores a header's, so that its outputs carry them.
        let inner = match names {
            Some(names) => inner.with_column_names(names).map_err(to_py)?,
            None => inner,
        };
        Ok(Self { inner })
    }

    /// Maps rows of `x` to (approximately) standard normal rows.
    fn transform<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'_, f64>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let x = x.as_array();
        Ok(detached(py, || self.inner.transform(&x))?.into_pyarray(py))
    }

    /// The exact inverse of `transform`.
    fn inverse_transform<'py>(
        &self,
        py: Python<'py>,
        z: PyReadonlyArray2<'_, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let z = z.as_array();
        Ok(detached(py, || self.inner.inverse_transform(&z))?.into_pyarray(py))
    }

    /// Log-density (nats) of each row of `x`.
    fn log_density<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'_, f64>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let x = x.as_array();
        Ok(detached(py, || self.inner.log_density(&x))?.into_pyarray(py))
    }

    /// `n` rows drawn from the model, from the generator the command-line tool's
    /// `sample --seed` uses (ChaCha8 seeded with `seed`): the same draws.
    fn sample<'py>(&self, py: Python<'py>, n: usize, seed: u64) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        Ok(detached(py, || self.inner.sample(n, &mut rng))?.into_pyarray(py))
    }

    /// The model as the bytes of a model file.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// Reads a model from the bytes of a model file (checked as on loading).
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        Rbig::from_bytes(data).map(|inner| Self { inner }).map_err(to_py)
    }

    /// Writes the model file `path`; an existing file is replaced only with `overwrite`.
    #[pyo3(signature = (path, *, overwrite = false))]
    fn save(&self, py: Python<'_>, path: std::path::PathBuf, overwrite: bool) -> PyResult<()> {
        detached(py, || if overwrite { self.inner.save_overwrite(&path) } else { self.inner.save(&path) })
    }

    /// Reads the model file `path` (one written by this package or by `rbig fit`).
    #[staticmethod]
    fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        detached(py, || Rbig::load(&path)).map(|inner| Self { inner })
    }

    /// Pickling goes through the model file's bytes.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let from_bytes = py.get_type::<Model>().getattr("from_bytes")?;
        (from_bytes, (self.to_bytes(py),)).into_pyobject(py)
    }

    /// For each log-density, the fraction of the training rows that score lower (a tail
    /// probability, uniform on fresh rows like the training data); None for a model
    /// from a file of format 4 or older.
    fn tail_probability<'py>(
        &self,
        py: Python<'py>,
        log_density: numpy::PyReadonlyArray1<'_, f64>,
    ) -> Option<Bound<'py, PyArray1<f64>>> {
        self.inner.tail_probability(0.0)?;
        let tails = log_density.as_array().mapv(|s| self.inner.tail_probability(s).unwrap_or(f64::NAN));
        Some(tails.into_pyarray(py))
    }

    /// The log-density below which a fraction `p` of the training rows score (the
    /// anomaly threshold at rate `p`); None without training scores or for `p` outside
    /// [0, 1].
    fn score_quantile(&self, p: f64) -> Option<f64> {
        self.inner.score_quantile(p)
    }

    /// The column names the model records (from a data frame or a file's header).
    #[getter]
    fn column_names(&self) -> Option<Vec<String>> {
        self.inner.column_names().map(<[String]>::to_vec)
    }

    /// Columns the model was fitted on.
    #[getter]
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    /// Rows the model was fitted on.
    #[getter]
    fn n_train(&self) -> usize {
        self.inner.n_train()
    }

    /// Rotating layers in the model.
    #[getter]
    fn n_layers(&self) -> usize {
        self.inner.n_layers()
    }

    /// Total correlation removed by the model (nats).
    #[getter]
    fn total_correlation(&self) -> f64 {
        self.inner.total_correlation()
    }

    /// Joint entropy of the training data (nats): marginal entropies minus the total
    /// correlation.
    #[getter]
    fn entropy(&self) -> f64 {
        self.inner.entropy()
    }

    /// Marginal entropy (nats) of each training column.
    #[getter]
    fn marginal_entropies(&self) -> Vec<f64> {
        self.inner.marginal_entropies().to_vec()
    }

    /// Per layer: (total-correlation reduction corrected by the noise mean, raw
    /// reduction, significant).
    #[getter]
    fn layers(&self) -> Vec<(f64, f64, bool)> {
        self.inner.diagnostics().iter().map(|l| (l.tc_reduction, l.raw_reduction, l.significant)).collect()
    }

    /// Mean held-out log-likelihood of the chosen depth, for models fitted with rows
    /// held out (`density=True`).
    #[getter]
    fn held_out_log_likelihood(&self) -> Option<f64> {
        self.inner.held_out_log_likelihood()
    }

    /// The hyperparameters the model was fitted with.
    #[getter]
    fn hyperparameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = self.inner.hyperparameters();
        let d = PyDict::new(py);
        d.set_item("rotation", rotation_name(p.rotation()))?;
        d.set_item("max_layers", p.max_layers())?;
        match p.knots() {
            Knots::Auto => d.set_item("knots", "auto")?,
            Knots::Smooth => d.set_item("knots", "smooth")?,
            Knots::Fixed(k) => d.set_item("knots", k)?,
        }
        d.set_item("seed", p.seed())?;
        d.set_item("patience", p.patience())?;
        d.set_item("significance", p.significance())?;
        d.set_item("shrinkage", p.shrinkage())?;
        d.set_item("whiten", p.whiten())?;
        match p.mixture() {
            rbig::MixtureStart::Components(k) => d.set_item("mixture", k)?,
            _ => d.set_item("mixture", py.None())?,
        }
        d.set_item("validation_fraction", p.validation().map(|v| v.fraction))?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "<rbig Model: {} columns, {} layers, TC {:.4} nats>",
            self.inner.dim(),
            self.inner.n_layers(),
            self.inner.total_correlation()
        )
    }
}
