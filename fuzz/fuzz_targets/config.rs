//! The configuration parser and validator: any text gives a config or
//! errors that name a line inside the file, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(errors) = phigate_config::Config::from_toml("fuzz.toml", text) {
        let lines = text.lines().count().max(1) + 1;
        for e in &errors.0 {
            assert!(e.line <= lines, "{e} points past the end");
        }
    }
});
