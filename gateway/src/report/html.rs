//! The report as one self-contained HTML page: inline CSS (also for print)
//! and inline SVG charts, no scripts, nothing fetched. Every figure sits in
//! an element with a `data-k` key, for people and for checks alike.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{AUTHENTICATED, Month, charts};

/// What verifying the log found, said in the report.
pub enum Verification {
    /// Intact, in words (files, records, checkpoints, unsealed tail).
    Intact(String),
    /// The first problem.
    Failed(String),
}

/// The configuration in force, as the report shows it (no secrets).
pub struct Setup {
    /// Where it came from.
    pub origin: String,
    /// TLS floors: `default`, `phi`, per-domain entries.
    pub tls: Vec<String>,
    /// Policy rules, one line each.
    pub rules: Vec<String>,
    /// Other facts (encrypted route, DKIM, DNSSEC).
    pub other: Vec<String>,
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn table(out: &mut String, caption: &str, key: &str, rows: &BTreeMap<String, u64>) {
    let _ = write!(out, "<table><caption>{}</caption>", esc(caption));
    if rows.is_empty() {
        out.push_str("<tr><td colspan=\"2\">none</td></tr>");
    }
    for (k, v) in rows {
        let _ = write!(
            out,
            "<tr><th>{}</th><td data-k=\"{key}.{}\">{v}</td></tr>",
            esc(k),
            esc(k)
        );
    }
    out.push_str("</table>");
}

fn notes(out: &mut String, title: &str, items: &[super::Note]) {
    let _ = write!(out, "<h3>{}</h3>", esc(title));
    if items.is_empty() {
        out.push_str("<p>None.</p>");
        return;
    }
    out.push_str("<ul>");
    for n in items {
        let _ = write!(out, "<li>{} — {}</li>", esc(&n.time), esc(&n.what));
    }
    out.push_str("</ul>");
}

/// Renders the report. `generated` is the time it was made (RFC 3339).
pub fn render(m: &Month, verified: &Verification, setup: &Setup, generated: &str) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>phigate compliance report {month}</title>\
         <style>\
         body{{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}}\
         h1{{font-size:1.6em}} h2{{border-bottom:1px solid #999;margin-top:1.6em}}\
         table{{border-collapse:collapse;margin:.6em 1.2em .6em 0;display:inline-table;vertical-align:top}}\
         caption{{font-weight:bold;text-align:left}}\
         th,td{{border:1px solid #bbb;padding:.2em .6em;text-align:left}} td{{text-align:right}}\
         .ok{{color:#14692a}} .bad{{color:#b00020;font-weight:bold}}\
         .sig{{font-family:monospace;font-size:.85em;word-break:break-all}}\
         figure{{margin:.8em 0}}\
         @media print{{body{{margin:0;max-width:none}} h2{{page-break-after:avoid}} figure,table{{page-break-inside:avoid}}}}\
         </style></head><body>\n",
        month = esc(&m.month)
    );
    let _ = write!(
        b,
        "<h1>Compliance report — {}</h1><p>Outbound mail through phigate, from the audit log \
         alone. Generated {}.</p>",
        esc(&m.month),
        esc(generated)
    );

    b.push_str("<h2>Audit log verification</h2>");
    match verified {
        Verification::Intact(s) => {
            let _ = write!(
                b,
                "<p class=\"ok\" data-k=\"verification\">intact: {}</p>",
                esc(s)
            );
        }
        Verification::Failed(s) => {
            let _ = write!(
                b,
                "<p class=\"bad\" data-k=\"verification\">FAILED: {} — the figures below come \
                 from a log that does not verify; treat them as unproven and investigate.</p>",
                esc(s)
            );
        }
    }

    b.push_str("<h2>Summary</h2>");
    let mut summary = BTreeMap::new();
    summary.insert("messages".to_string(), m.messages);
    summary.insert("recipients".to_string(), m.recipients);
    summary.insert("phi_messages".to_string(), m.phi_messages);
    summary.insert("refused".to_string(), m.refused);
    summary.insert("phi_exceptions".to_string(), m.exceptions.len() as u64);
    table(&mut b, "Month", "summary", &summary);
    table(&mut b, "Recipients by outcome", "outcome", &m.outcomes);
    table(
        &mut b,
        "Delivered, by protection",
        "protection",
        &m.protection,
    );
    table(&mut b, "Delivered, by TLS", "tls", &m.tls);

    b.push_str("<h2>Charts</h2>");
    for svg in [
        charts::daily(&m.month, &m.daily),
        charts::outcomes(&m.month, &m.daily_outcomes),
        charts::bars("Decisions by rule", &m.rules),
        charts::bars("PHI messages by category", &m.categories),
        charts::bars("Recipient domains by protection", &m.destinations),
    ] {
        let _ = write!(b, "<figure>{svg}</figure>");
    }

    b.push_str("<h2>Exceptions to review</h2>");
    let _ = write!(
        b,
        "<h3>PHI not delivered over authenticated TLS ({})</h3>",
        AUTHENTICATED.join(", ")
    );
    if m.exceptions.is_empty() {
        b.push_str("<p data-k=\"exceptions\">None.</p>");
    } else {
        b.push_str(
            "<table data-k=\"exceptions\"><tr><th>received</th><th>queue ID</th>\
             <th>recipient domain</th><th>outcome</th><th>why / over</th></tr>",
        );
        for e in &m.exceptions {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&e.time),
                esc(&e.queue_id),
                esc(&e.domain),
                esc(&e.outcome),
                esc(&e.detail)
            );
        }
        b.push_str("</table>");
    }
    notes(&mut b, "Quarantine releases and deletions", &m.quarantine);
    notes(&mut b, "Configuration reloads", &m.reloads);
    notes(
        &mut b,
        "Audit-only rules: what they would have done",
        &m.would,
    );

    let _ = write!(
        b,
        "<h2>Configuration in force</h2><p>From {} (secrets left out).</p>",
        esc(&setup.origin)
    );
    for (title, lines) in [
        ("TLS floors", &setup.tls),
        ("Policy rules, in order", &setup.rules),
        ("Other safeguards", &setup.other),
    ] {
        let _ = write!(b, "<h3>{title}</h3><ul>");
        for l in lines {
            let _ = write!(b, "<li>{}</li>", esc(l));
        }
        b.push_str("</ul>");
    }

    // The signature block: the SHA-256 of everything above, and the
    // audit checkpoint the figures were built up to.
    let digest = ring::digest::digest(&ring::digest::SHA256, b.as_bytes());
    let hex: String = digest.as_ref().iter().map(|x| format!("{x:02x}")).collect();
    let checkpoint = match &m.checkpoint {
        Some((seq, time)) => format!("checkpoint at record {seq} ({time})"),
        None => "no checkpoint yet".to_string(),
    };
    let _ = writeln!(
        b,
        "<h2>Signature</h2><p class=\"sig\">SHA-256 of this report above this section: \
         <span data-k=\"sha256\">{hex}</span><br>Built from the audit log up to record \
         <span data-k=\"last_seq\">{}</span>; last signed {}.</p></body></html>",
        m.last_seq,
        esc(&checkpoint)
    );
    b
}
