//! When to stop adding layers: the significance rule.

use crate::null::NullModel;

/// Decides when to stop adding layers and how many to keep.
///
/// Each layer's *excess* is its raw reduction minus the null mean. Small excesses that
/// are individually within the noise still count when they add up: the fit stops only
/// once the last `patience` layers together gained no more than `k·sd·√patience`, the
/// noise of that many layers. The model keeps the layers up to the maximum of the
/// cumulative excess: layers after it removed, in total, nothing beyond noise, and each
/// one would only add estimation noise to the density.
#[derive(Debug, Clone)]
pub(crate) struct StopRule {
    patience: usize,
    sigmas: f64,
    null: NullModel,
    cumulative: Vec<f64>,
    best: (usize, f64),
    stopped: bool,
}

impl StopRule {
    pub(crate) fn new(patience: usize, sigmas: f64, null: NullModel) -> Self {
        Self { patience, sigmas, null, cumulative: vec![0.0], best: (0, 0.0), stopped: false }
    }

    /// Records one layer's raw reduction; returns whether it was significant on its own.
    pub(crate) fn observe(&mut self, raw: f64) -> bool {
        let excess = raw - self.null.mean;
        let cum = self.cumulative.last().copied().unwrap_or(0.0) + excess;
        self.cumulative.push(cum);
        let layers = self.cumulative.len() - 1;
        if cum > self.best.1 {
            self.best = (layers, cum);
        }
        let p = self.patience;
        if layers >= p {
            let gained = cum - self.cumulative[layers - p];
            self.stopped = gained <= self.sigmas * self.null.sd * (p as f64).sqrt();
        }
        excess > self.sigmas * self.null.sd
    }

    pub(crate) fn should_stop(&self) -> bool {
        self.stopped
    }

    /// Number of leading layers to keep.
    pub(crate) fn useful_layers(&self) -> usize {
        self.best.0
    }
}
