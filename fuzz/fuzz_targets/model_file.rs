//! Arbitrary bytes as a model file: an error or a model that works, never a panic.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(model) = rbig::Rbig::from_bytes(data) {
        common::exercise(&model);
    }
});
