//! The bridge from configuration to the PHI detectors: one place that
//! builds the [`Engine`], used by `phigate scan` now and by inline
//! inspection in the relay.

use phigate_config::DetectorsConfig;
use phigate_detectors::{BuildError, Engine, RuleSpec, Settings};

/// Builds the detection engine from the `[detectors]` section.
pub fn engine(cfg: &DetectorsConfig) -> Result<Engine, BuildError> {
    build(cfg, false)
}

/// The engine `phigate scan` uses: scores below threshold are kept and
/// explained, for tuning.
pub fn explaining_engine(cfg: &DetectorsConfig) -> Result<Engine, BuildError> {
    build(cfg, true)
}

fn build(cfg: &DetectorsConfig, explain_below_threshold: bool) -> Result<Engine, BuildError> {
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
        limits: phigate_detectors::extract::Limits {
            decorative_image_pixels: cfg.decorative_image_pixels,
            ..Default::default()
        },
        pdf: pdf_reader(cfg),
        explain_below_threshold,
    };
    Engine::new(settings)
}

/// The PDF reader `[detectors]` asks for: `pdftotext` out of process, or
/// none (PDFs are then uninspectable).
fn pdf_reader(cfg: &DetectorsConfig) -> Option<std::sync::Arc<dyn phigate_detectors::PdfText>> {
    if !cfg.pdf {
        return None;
    }
    match crate::pdf::Pdftotext::find(cfg.pdf_workers, cfg.pdf_timeout, cfg.pdf_memory_mib) {
        Some(r) => Some(std::sync::Arc::new(r)),
        None => Some(std::sync::Arc::new(crate::pdf::Missing)),
    }
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

/// Contents whose inspection failed lately (by SHA-256), so the same
/// message failing again is recognised. Bounded: the oldest entries go
/// first, and entries expire after a day.
#[derive(Debug, Default)]
pub struct FailedScans {
    seen: std::collections::HashMap<[u8; 32], (u32, std::time::Instant)>,
}

impl FailedScans {
    const MAX: usize = 4096;
    const TTL: std::time::Duration = std::time::Duration::from_secs(86_400);

    /// Records a failed inspection of `body`; how many times it has failed
    /// within the last day, this one included.
    pub fn note(&mut self, body: &[u8]) -> u32 {
        let digest = ring::digest::digest(&ring::digest::SHA256, body);
        let key: [u8; 32] = digest.as_ref().try_into().expect("SHA-256 is 32 bytes");
        let now = std::time::Instant::now();
        self.seen
            .retain(|_, (_, t)| now.duration_since(*t) < Self::TTL);
        if self.seen.len() >= Self::MAX
            && let Some(oldest) = self
                .seen
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| *k)
        {
            self.seen.remove(&oldest);
        }
        let e = self.seen.entry(key).or_insert((0, now));
        e.0 += 1;
        e.0
    }
}
