//! Running library work without the GIL, and stopping a fit on Ctrl-C.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use rbig::RbigError;

use crate::errors::to_py;

/// How often the waiting thread asks the interpreter for pending signals: the delay
/// between Ctrl-C and the fit being told to stop.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Runs `work` without the GIL (other Python threads run meanwhile).
pub(crate) fn detached<T: Send>(py: Python<'_>, work: impl FnOnce() -> Result<T, RbigError> + Send) -> PyResult<T> {
    py.detach(work).map_err(to_py)
}

/// Runs `work` on its own thread without the GIL while this thread polls the
/// interpreter for signals. On Ctrl-C (or any signal handler that raises) the cancel
/// flag handed to `work` is set, so a fit stops at its next layer boundary, and the
/// handler's exception (`KeyboardInterrupt`) is raised once `work` has returned.
///
/// Signals reach Python's handlers only on the main thread, so the polling is done there
/// while the work runs elsewhere; the library's own parallelism is unaffected.
pub(crate) fn cancellable<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(Arc<AtomicBool>) -> Result<T, RbigError> + Send,
) -> PyResult<T> {
    let flag = Arc::new(AtomicBool::new(false));
    let outcome = py.detach(|| {
        std::thread::scope(|scope| {
            let (sender, receiver) = mpsc::channel();
            let worker_flag = flag.clone();
            let worker = scope.spawn(move || {
                // The receiver outlives the worker (both live in this scope).
                let _ = sender.send(work(worker_flag));
            });
            let mut interrupted = None;
            loop {
                match receiver.recv_timeout(SIGNAL_POLL) {
                    Ok(result) => return (Some(result), interrupted),
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        // The worker panicked before sending.
                        let _ = worker.join();
                        return (None, interrupted);
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) if interrupted.is_none() => {
                        if let Err(e) = Python::attach(|py| py.check_signals()) {
                            flag.store(true, Ordering::Relaxed);
                            interrupted = Some(e);
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                }
            }
        })
    });
    match outcome {
        (_, Some(signal)) => Err(signal),
        (Some(result), None) => result.map_err(to_py),
        (None, None) => Err(PyRuntimeError::new_err("rbig: internal error (a panic in the library)")),
    }
}
