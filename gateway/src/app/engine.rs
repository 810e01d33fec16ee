//! The bridge from configuration to the PHI detectors: the one place that
//! builds the [`Engine`], for the relay and for `phigate scan` and
//! `test-rules`.

use phigate_config::DetectorsConfig;
use phigate_detectors::{BuildError, Engine, RuleSpec, Settings};

/// The detection engine the relay runs, from the `[detectors]` section.
pub fn relay(cfg: &DetectorsConfig) -> Result<Engine, BuildError> {
    build(cfg, false)
}

/// The engine `phigate scan` shows findings with: scores below threshold
/// are kept and explained, for tuning; the verdicts are the relay's.
pub fn explaining(cfg: &DetectorsConfig) -> Result<Engine, BuildError> {
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
