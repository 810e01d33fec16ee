//! The bridge from configuration to the PHI detectors: one place that
//! builds the [`Engine`], used by `phigate scan` now and by inline
//! inspection in the relay.

use phigate_config::DetectorsConfig;
use phigate_detectors::{BuildError, Engine, RuleSpec, Settings};

/// Builds the detection engine from the `[detectors]` section.
pub fn engine(cfg: &DetectorsConfig) -> Result<Engine, BuildError> {
    let settings = Settings {
        default_threshold: cfg.threshold,
        thresholds: cfg.thresholds.iter().cloned().collect(),
        custom: cfg
            .rules
            .iter()
            .map(|r| RuleSpec {
                id: r.id.clone(),
                category: r.category.clone(),
                pattern: r.pattern.clone(),
                keywords: r.keywords.clone(),
                weight: r.weight,
                context: r.context.clone(),
                window: r.window,
            })
            .collect(),
        ..Settings::default()
    };
    Engine::new(settings)
}

/// The decoded subject (for the senders' keywords) and the Message-ID (for
/// its keyed hash in the audit log), from the header block only.
pub fn header_facts(raw: &[u8]) -> (Option<String>, Option<String>) {
    match mail_parser::MessageParser::new().parse_headers(raw) {
        Some(m) => (
            m.subject().map(str::to_string),
            m.message_id().map(str::to_string),
        ),
        None => (None, None),
    }
}
