//! Arbitrary bytes as the payload of a model file with a correct header (magic,
//! version, length, CRC-32), so the fuzzer reaches the decoder and the validation
//! instead of stopping at the checksum.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|payload: &[u8]| {
    let mut file = Vec::with_capacity(24 + payload.len());
    file.extend_from_slice(b"RBIGMODL");
    file.extend_from_slice(&rbig::io::FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    file.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    file.extend_from_slice(payload);
    if let Ok(model) = rbig::Rbig::from_bytes(&file) {
        common::exercise(&model);
    }
});
