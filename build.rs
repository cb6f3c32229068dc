//! Fingerprints the library's source for the null simulations cached on disk
//! (`src/numeric/null_cache.rs`): an entry is read only by a build of the very source
//! that wrote it, so no change to a simulation (or to anything it calls) can be hidden
//! by a result cached before the change.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("src/ is readable").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=src");
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    files.sort();
    // FNV-1a over each file's path (with `/` separators) and contents.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        let name = file.to_string_lossy().replace('\\', "/");
        let contents = std::fs::read(&file).expect("source files are readable");
        for byte in name.bytes().chain(contents) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=RBIG_SOURCE_HASH={hash:016x}");
}
