//! The one process-wide cache: simulated null distributions.
//!
//! The noise models behind the stopping rule and the unmixing refinement are simulated
//! on Gaussian data of the fit's shape, with fixed seeds. The simulation depends only on
//! its key (sizes and knot rules), never on the user's data, so its result is kept for
//! the life of the process: the several fits of one estimate (mutual information fits
//! three models on the same rows) and repeated fits pay for it once. Nothing needs to
//! reset it for correctness; `clear_null_caches` (with the `internals` feature) exists so a benchmark can time a
//! process's first fit.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, OnceLock, PoisonError};

/// Entries kept at most per cache: each is a few numbers, and the bound only guards a
/// long-lived process fitting many sizes against unbounded growth.
const MAX_ENTRIES: usize = 4096;

/// A process-wide map from a simulation's key to its result, declared as a `static`.
pub(crate) struct NullCache<K, V> {
    map: OnceLock<Mutex<HashMap<K, V>>>,
}

/// The caches used so far, so that a benchmark can empty them all.
#[cfg(feature = "internals")]
pub(crate) mod registry {
    use std::hash::Hash;
    use std::sync::{Mutex, PoisonError};

    /// Every cache used so far, for [`clear_null_caches`].
    pub(super) static REGISTRY: Mutex<Vec<&'static (dyn Clear + Sync)>> = Mutex::new(Vec::new());

    pub(super) trait Clear {
        fn clear(&self);
    }

    impl<K: Eq + Hash + Send, V: Copy + Send> Clear for super::NullCache<K, V> {
        fn clear(&self) {
            if let Some(map) = self.map.get() {
                map.lock().unwrap_or_else(PoisonError::into_inner).clear();
            }
        }
    }

    /// Empties every null cache, so that the next fit pays for its simulations as a
    /// process's first fit does.
    pub(crate) fn clear_null_caches() {
        for cache in REGISTRY.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            cache.clear();
        }
    }
}

impl<K: Eq + Hash + Send + 'static, V: Copy + Send + 'static> NullCache<K, V> {
    /// An empty cache.
    pub(crate) const fn new() -> Self {
        Self { map: OnceLock::new() }
    }

    /// The cached result for `key`, or `simulate()` stored under it. The lock is not
    /// held while simulating, so a slow simulation blocks no other key; two threads
    /// asking for one new key both simulate it and store the same value.
    pub(crate) fn get_or_simulate(&'static self, key: K, simulate: impl FnOnce() -> V) -> V {
        let map = self.map.get_or_init(|| {
            #[cfg(feature = "internals")]
            registry::REGISTRY.lock().unwrap_or_else(PoisonError::into_inner).push(self);
            Mutex::default()
        });
        if let Some(hit) = map.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return *hit;
        }
        let value = simulate();
        let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, value);
        value
    }
}
