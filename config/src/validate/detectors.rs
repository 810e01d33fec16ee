//! `[detectors]`: thresholds, custom rules, PDF and image limits.

use super::*;

pub(super) fn unit(c: &mut Checker<'_>, v: &Spanned<f64>, key: &str) -> f32 {
    let x = *v.get_ref();
    if !(0.0..=1.0).contains(&x) {
        c.error(v, key, format!("must be between 0 and 1, not {x}"));
    }
    x as f32
}

pub(super) fn is_category_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

pub(super) fn detectors(c: &mut Checker<'_>, raw: &crate::raw::RawDetectors) -> DetectorsConfig {
    let threshold = unit(c, &raw.threshold, "detectors.threshold");
    let thresholds = raw
        .thresholds
        .iter()
        .map(|(k, v)| (k.clone(), unit(c, v, &format!("detectors.thresholds.{k}"))))
        .collect();
    let mut rules: Vec<CustomRule> = Vec::new();
    for r in &raw.rules {
        let id = r.id.get_ref().clone();
        let key = |field: &str| format!("detectors.rules.{field} (rule `{id}`)");
        if id.is_empty() || id.contains(char::is_whitespace) {
            c.error(
                &r.id,
                "detectors.rules.id",
                "must be a non-empty id without spaces",
            );
        }
        if rules.iter().any(|x| x.id == id) {
            c.error(&r.id, &key("id"), format!("rule id `{id}` is used twice"));
        }
        let category = r.category.get_ref().clone();
        if !is_category_name(&category) {
            c.error(
                &r.category,
                &key("category"),
                "must be lower-case letters, digits and _ (e.g. `lab_accession`)",
            );
        }
        if let Some(p) = &r.pattern
            && let Err(e) = regex::RegexBuilder::new(p.get_ref())
                .size_limit(1 << 22)
                .build()
        {
            // The regex error names the position in the pattern; keep its last line.
            let msg = e.to_string();
            let last = msg
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_string();
            c.error(
                p,
                &key("pattern"),
                format!("invalid regular expression: {last}"),
            );
        }
        if r.pattern.is_none() && r.keywords.iter().all(|k| k.trim().is_empty()) {
            c.error(&r.id, &key("pattern"), "needs a pattern or keywords");
        }
        let weight = unit(c, &r.weight, &key("weight"));
        rules.push(CustomRule {
            id,
            category,
            pattern: r.pattern.as_ref().map(|p| p.get_ref().clone()),
            keywords: r
                .keywords
                .iter()
                .filter(|k| !k.trim().is_empty())
                .cloned()
                .collect(),
            weight,
            context: r.context.clone(),
            window: r.window as usize,
        });
    }
    let pdf = match raw.pdf.get_ref().as_str() {
        "pdftotext" => true,
        "off" => false,
        other => {
            c.error(
                &raw.pdf,
                "detectors.pdf",
                format!("`{other}` is not \"pdftotext\" or \"off\""),
            );
            false
        }
    };
    DetectorsConfig {
        threshold,
        thresholds,
        rules,
        pdf,
        pdf_timeout: Duration::from_secs(c.positive(
            &raw.pdf_timeout_secs,
            "detectors.pdf_timeout_secs",
            600,
        )),
        pdf_workers: c.positive(&raw.pdf_workers, "detectors.pdf_workers", 64) as usize,
        pdf_memory_mib: c.positive(&raw.pdf_memory_mib, "detectors.pdf_memory_mib", 1 << 16),
        decorative_image_pixels: *raw.decorative_image_pixels.get_ref(),
    }
}
