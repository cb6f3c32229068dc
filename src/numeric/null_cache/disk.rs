//! The null simulations' results on disk, one small file per key, so that a process
//! reads what an earlier one simulated.
//!
//! The directory is `$RBIG_CACHE_DIR` when set, else `rbig` in the platform's cache
//! directory (`~/.cache/rbig` on Linux, `~/Library/Caches/rbig` on macOS,
//! `%LOCALAPPDATA%\rbig` on Windows); `RBIG_NO_CACHE=1` turns the disk cache off. An
//! entry's name holds its cache's name, the fingerprint of the library's source
//! (`build.rs`) and a hash of its key; its bytes hold the fingerprint, the key, the value
//! and a CRC-32 of them. It is used only when all of these match, so a build of other
//! source, a hash collision or a damaged file is never read, and a missing, unreadable
//! or unwritable directory only means simulating. Entries are written atomically (a
//! temporary file moved into place), so a reader never sees a partial one; each is under
//! 100 bytes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::io::write_atomic;

/// Fingerprint of the source this library was built from.
const SOURCE: &str = env!("RBIG_SOURCE_HASH");

/// No entry of ours is this large: anything larger is not read.
const MAX_BYTES: u64 = 4096;

/// Set by a benchmark timing a process's first fit.
static DISABLED: AtomicBool = AtomicBool::new(false);

/// Turns the disk cache on or off for this process (benchmarks of first fits).
#[cfg(feature = "internals")]
pub(crate) fn use_disk_cache(enabled: bool) {
    DISABLED.store(!enabled, Ordering::Relaxed);
}

fn directory() -> Option<PathBuf> {
    let off = std::env::var_os("RBIG_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0");
    if off || DISABLED.load(Ordering::Relaxed) {
        return None;
    }
    match std::env::var_os("RBIG_CACHE_DIR") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => dirs::cache_dir().map(|d| d.join("rbig")),
    }
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard()
}

/// Where the entry of `key` in the cache `name` lives, if there is a disk cache.
fn entry_path<K: Serialize>(name: &str, key: &K) -> Option<PathBuf> {
    let key_bytes = bincode::serde::encode_to_vec(key, config()).ok()?;
    Some(directory()?.join(format!("null-{name}-{SOURCE}-{:08x}.bin", crc32fast::hash(&key_bytes))))
}

/// The value stored under `key` in the cache `name`, if a valid entry is there.
pub(super) fn load<K, V>(name: &str, key: &K) -> Option<V>
where
    K: Serialize + DeserializeOwned + PartialEq,
    V: DeserializeOwned,
{
    decode_entry(&entry_path(name, key)?, key)
}

/// The value in the entry file at `path`, if it is a valid entry of this source for `key`.
fn decode_entry<K, V>(path: &Path, key: &K) -> Option<V>
where
    K: DeserializeOwned + PartialEq,
    V: DeserializeOwned,
{
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > MAX_BYTES {
        return None;
    }
    let (payload, crc) = bytes.split_last_chunk::<4>()?;
    if u32::from_le_bytes(*crc) != crc32fast::hash(payload) {
        return None;
    }
    let ((source, stored, value), used): ((String, K, V), usize) =
        bincode::serde::decode_from_slice(payload, config()).ok()?;
    (used == payload.len() && source == SOURCE && stored == *key).then_some(value)
}

/// Stores `value` under `key` in the cache `name`; a failure only means the next
/// process simulates again.
pub(super) fn store<K: Serialize, V: Serialize>(name: &str, key: &K, value: &V) {
    let (Some(path), Some(bytes)) = (entry_path(name, key), encode_entry(key, value)) else { return };
    if path.parent().is_some_and(|dir| std::fs::create_dir_all(dir).is_ok()) {
        // Another process may be writing the same entry: both write the same bytes.
        let _ = write_atomic(&path, &bytes, true);
    }
}

/// An entry's bytes: this source's fingerprint, `key` and `value`, then their CRC-32.
fn encode_entry<K: Serialize, V: Serialize>(key: &K, value: &V) -> Option<Vec<u8>> {
    let mut bytes = bincode::serde::encode_to_vec((SOURCE, key, value), config()).ok()?;
    bytes.extend_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Value = ((f64, f64), (f64, f64), f64, f64);

    /// An entry read back is the value stored, to the bit; another key, another
    /// source's entry, and every damaged version of an entry are not read.
    #[test]
    fn entries_round_trip_and_damage_is_refused() {
        let dir = std::env::temp_dir().join(format!("rbig-null-cache-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("entry.bin");
        let key = (1234usize, 17usize, Some(0x4020_0000_0000_0000u64), true);
        let value: Value = ((0.1, 1e-300), (-2.5, f64::MIN_POSITIVE), std::f64::consts::PI, 3e-17);
        let read = |bytes: &[u8], key| {
            std::fs::write(&path, bytes).unwrap();
            decode_entry::<_, Value>(&path, &key)
        };
        let bytes = encode_entry(&key, &value).unwrap();
        let back = read(&bytes, key).expect("a valid entry");
        let bits = |v: Value| [v.0 .0, v.0 .1, v.1 .0, v.1 .1, v.2, v.3].map(f64::to_bits);
        assert_eq!(bits(back), bits(value));
        assert!(read(&bytes, (1235, 17, Some(0x4020_0000_0000_0000), true)).is_none(), "another key");
        for cut in 0..bytes.len() {
            assert!(read(&bytes[..cut], key).is_none(), "truncated to {cut} bytes");
        }
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x10;
            assert!(read(&damaged, key).is_none(), "byte {i} flipped");
        }
        let mut foreign = bincode::serde::encode_to_vec(("0123456789abcdef", &key, &value), config()).unwrap();
        foreign.extend_from_slice(&crc32fast::hash(&foreign).to_le_bytes());
        assert!(read(&foreign, key).is_none(), "another source's entry");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
