//! Running the `rbig` binary as a user would.

use std::process::{Command, Output};

/// The tool run with `args`.
pub fn rbig(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rbig")).args(args.iter().map(|a| a.as_ref())).output().unwrap()
}

/// Its standard output, after checking that it succeeded.
pub fn ok(out: &Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Its standard output as one JSON value.
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(ok(out).trim()).unwrap()
}
