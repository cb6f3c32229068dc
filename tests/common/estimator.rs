//! rbig's information estimators as an estimator of the ground-truth tasks
//! (`rbig_tasks`), for the tests and the benches.

use ndarray::ArrayView2;
use rbig::information::InformationEstimate;
use rbig::information::{entropy, kl_divergence, mutual_information, total_correlation};
use rbig::{RbigError, RbigParams};
use rbig_tasks::Estimate;

fn estimate(e: InformationEstimate) -> Estimate {
    Estimate { value: e.value(), standard_error: Some(e.standard_error()) }
}

/// The estimators with these parameters.
pub struct RbigEstimator<'a>(pub &'a RbigParams);

impl rbig_tasks::Estimator for RbigEstimator<'_> {
    type Error = RbigError;

    fn total_correlation(&self, x: ArrayView2<'_, f64>) -> Result<Estimate, RbigError> {
        Ok(estimate(total_correlation(&x, self.0)?))
    }

    fn entropy(&self, x: ArrayView2<'_, f64>) -> Result<Estimate, RbigError> {
        Ok(estimate(entropy(&x, self.0)?))
    }

    fn mutual_information(&self, x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Result<Estimate, RbigError> {
        Ok(estimate(mutual_information(&x, &y, self.0)?))
    }

    fn kl_divergence(&self, p: ArrayView2<'_, f64>, q: ArrayView2<'_, f64>) -> Result<Estimate, RbigError> {
        Ok(estimate(kl_divergence(&p, &q, self.0)?))
    }
}
