//! The process-wide caches of simulated null distributions, kept on disk between
//! processes.
//!
//! The noise models behind the stopping rule and the unmixing refinement are simulated
//! on Gaussian data of the fit's shape, with fixed seeds. The simulation depends only on
//! its key (sizes and knot rules), never on the user's data, so its result is kept for
//! the life of the process (the several fits of one estimate, and repeated fits, pay for
//! it once) and written to the user's cache directory, so that the next process reads it
//! instead of simulating again: the refinement's null is most of a first estimate's time
//! on non-Gaussian data (see [`disk`]). The result read is the one the simulation gives,
//! to the bit, so caching changes no model and no estimate. Nothing needs to reset the
//! caches for correctness; `clear_null_caches` and `use_disk_cache` (with the
//! `internals` feature) exist so a benchmark can time a process's first fit.

mod disk;

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde::de::DeserializeOwned;
use serde::Serialize;

#[cfg(feature = "internals")]
pub(crate) use disk::use_disk_cache;

/// Entries kept at most per cache: each is a few numbers, and the bound only guards a
/// long-lived process fitting many sizes against unbounded growth.
const MAX_ENTRIES: usize = 4096;

/// A process-wide map from a simulation's key to its result, declared as a `static`,
/// backed by files named after `name` in the disk cache.
pub(crate) struct NullCache<K, V> {
    name: &'static str,
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

impl<K, V> NullCache<K, V>
where
    K: Eq + Hash + Send + Serialize + DeserializeOwned + 'static,
    V: Copy + Send + Serialize + DeserializeOwned + 'static,
{
    /// An empty cache whose disk entries are named after `name`.
    pub(crate) const fn new(name: &'static str) -> Self {
        Self { name, map: OnceLock::new() }
    }

    /// The cached result for `key`: from this process's map, else from the disk cache,
    /// else `simulate()`, stored in both. The lock is not held while simulating, so a
    /// slow simulation blocks no other key; two threads (or processes) asking for one
    /// new key both simulate it and store the same value.
    pub(crate) fn get_or_simulate(&'static self, key: K, simulate: impl FnOnce() -> V) -> V {
        let map = self.map.get_or_init(|| {
            #[cfg(feature = "internals")]
            registry::REGISTRY.lock().unwrap_or_else(PoisonError::into_inner).push(self);
            Mutex::default()
        });
        if let Some(hit) = map.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return *hit;
        }
        let value = disk::load(self.name, &key).unwrap_or_else(|| {
            let value = simulate();
            disk::store(self.name, &key, &value);
            value
        });
        let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, value);
        value
    }
}
