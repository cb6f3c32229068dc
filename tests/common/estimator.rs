//! rbig's information estimators as an estimator of the ground-truth tasks
//! (`rbig_tasks`), for the tests and the benches.

use ndarray::ArrayView2;
use rbig::information::{entropy, kl_divergence, mutual_information, total_correlation};
use rbig::{RbigError, RbigParams};

/// The estimators with these parameters.
pub struct RbigEstimator<'a>(pub &'a RbigParams);

impl rbig_tasks::Estimator for RbigEstimator<'_> {
    type Error = RbigError;

    fn total_correlation(&self, x: ArrayView2<'_, f64>) -> Result<f64, RbigError> {
        Ok(total_correlation(&x, self.0)?.value())
    }

    fn entropy(&self, x: ArrayView2<'_, f64>) -> Result<f64, RbigError> {
        Ok(entropy(&x, self.0)?.value())
    }

    fn mutual_information(&self, x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Result<f64, RbigError> {
        Ok(mutual_information(&x, &y, self.0)?.value())
    }

    fn kl_divergence(&self, p: ArrayView2<'_, f64>, q: ArrayView2<'_, f64>) -> Result<f64, RbigError> {
        Ok(kl_divergence(&p, &q, self.0)?.value())
    }
}
