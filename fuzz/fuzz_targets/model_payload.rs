//! Arbitrary bytes as the payload of a model file with a correct header (magic,
//! version, length, CRC-32), so the fuzzer reaches the decoder and the validation
//! instead of stopping at the checksum. Every input is tried as a payload of each
//! format version the reader accepts.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|payload: &[u8]| {
    for version in 1..=rbig::FORMAT_VERSION {
        let mut file = Vec::with_capacity(24 + payload.len());
        file.extend_from_slice(b"RBIGMODL");
        file.extend_from_slice(&version.to_le_bytes());
        file.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        file.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        file.extend_from_slice(payload);
        if let Ok(model) = rbig::Rbig::from_bytes(&file) {
            common::exercise(&model);
        }
    }
});
