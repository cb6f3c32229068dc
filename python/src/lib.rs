//! The `rbig._rbig` extension module: the rbig library for Python.
//!
//! Thin on purpose: arrays in and out through the `numpy` crate, the library's own
//! functions in between, so a result here is the library's result bit for bit. The
//! Python-facing API (the scikit-learn-style estimator, input coercion, pandas names,
//! Dask) lives in the `rbig` Python package around this module.

mod errors;
mod information;
mod model;
mod params;
mod run;

use pyo3::prelude::*;

#[pymodule]
fn _rbig(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("FORMAT_VERSION", rbig::FORMAT_VERSION)?;
    m.add_class::<model::Model>()?;
    m.add_class::<information::Estimate>()?;
    m.add_function(wrap_pyfunction!(information::entropy, m)?)?;
    m.add_function(wrap_pyfunction!(information::total_correlation, m)?)?;
    m.add_function(wrap_pyfunction!(information::mutual_information, m)?)?;
    m.add_function(wrap_pyfunction!(information::kl_divergence, m)?)?;
    Ok(())
}
