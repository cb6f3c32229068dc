//! Arbitrary bytes as a CSV data file: an error, or a non-empty matrix of finite numbers.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(x) = rbig::io::parse_csv_bytes(data) {
        assert!(x.nrows() > 0 && x.ncols() > 0);
        assert!(x.iter().all(|v| v.is_finite()));
    }
});
