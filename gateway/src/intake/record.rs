//! The audit records of a message's acceptance, built from what intake
//! holds (the envelope, the scan report, the decisions): the audit log
//! itself knows only its own record types.

use std::collections::BTreeMap;

use crate::audit::Audit;
use crate::audit::event::{Decision, Event, Finding, Received, Scan, Would};
use crate::spool::Envelope;

/// The records of a message's acceptance: received, scan, one decision per
/// recipient.
pub fn acceptance(
    audit: &Audit,
    envelope: &Envelope,
    report: &phigate_detectors::Report,
    message_id: Option<&str>,
    scan_time: std::time::Duration,
) -> Vec<Event> {
    let queue_id = envelope.id.to_string();
    let mut counts = BTreeMap::new();
    let findings = report
        .phi_findings()
        .map(|f| {
            *counts.entry(f.category.as_str().to_string()).or_insert(0) += 1;
            Finding {
                category: f.category.as_str().to_string(),
                rule: f.rule.clone(),
                confidence: (f.confidence * 100.0).round() / 100.0,
                location: location(&f.location),
                hmac: audit.hmac(f.category.as_str(), f.value.expose()),
            }
        })
        .collect();
    let mut events = vec![
        Event::Received(Received {
            queue_id: queue_id.clone(),
            client_ip: envelope.client_ip.to_string(),
            inbound_tls: envelope
                .tls
                .as_ref()
                .map(|t| format!("{} {}", t.version, t.cipher)),
            auth_user: envelope.auth_user.clone(),
            sender: envelope.mail_from.clone(),
            recipients: envelope.rcpt_to.clone(),
            size: envelope.size,
            message_id_hash: message_id.map(|m| audit.hmac("message-id", m)),
            requiretls: envelope.requiretls,
            tls_required_no: envelope.tls_optional.then(|| {
                if envelope.phi.unwrap_or(true) {
                    "ignored: PHI".to_string()
                } else {
                    "honoured".to_string()
                }
            }),
        }),
        Event::Scan(Scan {
            queue_id: queue_id.clone(),
            phi: report.phi,
            uninspectable: report.uninspectable,
            categories: envelope.categories.clone(),
            counts,
            findings,
            duration_us: scan_time.as_micros() as u64,
        }),
    ];
    for (rcpt, d) in envelope.rcpt_to.iter().zip(&envelope.decisions) {
        events.push(decision(&queue_id, rcpt, d));
    }
    events
}

fn decision(queue_id: &str, rcpt: &str, d: &crate::spool::Decision) -> Event {
    let mut modifiers = Vec::new();
    if d.modifiers.tag_subject.is_some() {
        modifiers.push("tag_subject".to_string());
    }
    if let Some((name, _)) = &d.modifiers.add_header {
        modifiers.push(format!("add_header {name}"));
    }
    if d.modifiers.notify_sender {
        modifiers.push("notify_sender".to_string());
    }
    if d.opt_out {
        modifiers.push("sender_opt_out".to_string());
    }
    Event::Decision(Decision {
        queue_id: queue_id.to_string(),
        recipient: rcpt.to_string(),
        action: d.action.as_str().to_string(),
        rule: d.rule.clone(),
        modifiers,
        would: d.would.as_ref().map(|(rule, action)| Would {
            rule: rule.clone(),
            action: action.as_str().to_string(),
        }),
    })
}

/// A header's name as the audit log may show it: standard names as they
/// are (with the nested-part prefix), any other name reduced to `other`,
/// since a sender chooses it and could write a value into it.
fn header_label(label: &str) -> String {
    const STANDARD: &[&str] = &[
        "subject",
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "sender",
        "comments",
        "keywords",
        "content-description",
        "content-disposition",
        "content-type",
        "organization",
        "in-reply-to",
        "references",
        "message-id",
        "date",
    ];
    let (prefix, name) = label.rsplit_once(' ').unwrap_or(("", label));
    let shown = if STANDARD.iter().any(|s| name.eq_ignore_ascii_case(s)) {
        name
    } else {
        "other"
    };
    if prefix.is_empty() {
        shown.to_string()
    } else {
        format!("{prefix} {shown}")
    }
}

/// Where a finding is, without the attachment's file name.
fn location(l: &phigate_detectors::Location) -> String {
    use phigate_detectors::Location as L;
    match l {
        L::Header { name } => format!("header {}", header_label(name)),
        L::Part {
            path, start, end, ..
        } => format!("part {path} bytes {start}..{end}"),
        L::Filename { path } => format!("filename of part {path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::header_label;

    #[test]
    fn only_standard_header_names_reach_the_log() {
        assert_eq!(header_label("Subject"), "Subject");
        assert_eq!(header_label("2 Subject"), "2 Subject");
        assert_eq!(header_label("X-Patient-135-14-4832"), "other");
        assert_eq!(header_label("2.1 X-John-Smith"), "2.1 other");
    }
}
