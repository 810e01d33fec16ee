//! MIME extraction and every detector over arbitrary bytes: no panic, and
//! a verdict that holds together.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use phigate_detectors::{Engine, Settings};

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::new(Settings::default()).expect("default engine builds"))
}

fuzz_target!(|data: &[u8]| {
    let r = engine().scan(data);
    assert_eq!(
        r.phi,
        r.categories.iter().any(|c| c.as_str() != "uninspectable")
    );
    for f in r.phi_findings() {
        assert!((0.0..=1.0).contains(&f.confidence));
    }
});
