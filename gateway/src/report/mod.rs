//! The monthly compliance report: what happened to the practice's mail in
//! one month, read from the audit log alone (so that it can be rebuilt, and
//! checked, years later), after verifying the log.
//!
//! [`collect`] folds the month's records into figures; [`html`] renders
//! them as one self-contained HTML page with inline SVG charts. Nothing in
//! it is message content: the audit log holds none.

pub mod build;
pub mod charts;
pub mod html;
pub mod review;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::audit::Record;
use crate::audit::event::Event;

/// A recipient whose PHI did not leave over authenticated TLS (or the
/// encrypted route), and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// When the message came in.
    pub time: String,
    /// Its queue ID (the key into the audit log).
    pub queue_id: String,
    /// The recipient's domain (the address is in the log, not in the report).
    pub domain: String,
    /// Its last outcome (`held`, `bounced`, `deferred`, `delivered`...).
    pub outcome: String,
    /// Why, or over what it went.
    pub detail: String,
}

/// A line of the month's administrative record (releases, reloads,
/// audit-only decisions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// When.
    pub time: String,
    /// What.
    pub what: String,
}

/// The month's figures.
#[derive(Debug, Clone, Default)]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    /// Messages received (and accepted).
    pub messages: u64,
    /// Their recipients.
    pub recipients: u64,
    /// Messages with PHI (or not fully inspectable).
    pub phi_messages: u64,
    /// Messages refused at end of data.
    pub refused: u64,
    /// Recipients by their last outcome.
    pub outcomes: BTreeMap<String, u64>,
    /// Delivered recipients by what protected the delivery: `dane`,
    /// `mta-sts`, `verify`, `encrypt`, `none`, `encrypted route`.
    pub protection: BTreeMap<String, u64>,
    /// Delivered recipients by TLS version and cipher.
    pub tls: BTreeMap<String, u64>,
    /// Per day: messages and PHI messages.
    pub daily: BTreeMap<String, (u64, u64)>,
    /// Per day: recipients by outcome.
    pub daily_outcomes: BTreeMap<String, BTreeMap<String, u64>>,
    /// Decisions by rule.
    pub rules: BTreeMap<String, u64>,
    /// PHI messages by category.
    pub categories: BTreeMap<String, u64>,
    /// Recipient domains by the protection they got (distinct domains).
    pub destinations: BTreeMap<String, u64>,
    /// PHI not delivered over authenticated TLS.
    pub exceptions: Vec<Exception>,
    /// Quarantine releases and deletions.
    pub quarantine: Vec<Note>,
    /// Configuration reloads.
    pub reloads: Vec<Note>,
    /// What audit-only rules would have done.
    pub would: Vec<Note>,
    /// The last checkpoint in or before the month: sequence number and time.
    pub checkpoint: Option<(u64, String)>,
    /// The last record read: sequence number.
    pub last_seq: u64,
}

/// Protections that count as authenticated (or encrypted end to end).
pub const AUTHENTICATED: &[&str] = &["dane", "mta-sts", "verify", "encrypted route"];

/// Reads every record of `month` (`YYYY-MM`) in the audit directory.
pub fn collect(dir: &Path, month: &str) -> std::io::Result<Month> {
    let mut m = Month {
        month: month.to_string(),
        ..Month::default()
    };
    // Per queue ID: received time, PHI, per recipient last outcome and how
    // it was delivered.
    let mut received: BTreeMap<String, String> = BTreeMap::new();
    let mut phi: BTreeSet<String> = BTreeSet::new();
    let mut last: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    let mut how: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    for name in crate::audit::files(dir)? {
        let reader = BufReader::new(std::fs::File::open(dir.join(&name))?);
        for line in reader.split(b'\n') {
            let Ok(r) = serde_json::from_slice::<Record>(&line?) else {
                continue;
            };
            m.last_seq = m.last_seq.max(r.seq);
            if r.time.as_str() < month {
                if matches!(r.event, Event::Checkpoint { .. }) {
                    m.checkpoint = Some((r.seq, r.time.clone()));
                }
                continue;
            }
            if !r.time.starts_with(month) {
                continue;
            }
            let day = r.time.get(..10).unwrap_or("").to_string();
            match r.event {
                Event::Checkpoint { .. } => m.checkpoint = Some((r.seq, r.time.clone())),
                Event::Received(x) => {
                    m.messages += 1;
                    m.recipients += x.recipients.len() as u64;
                    m.daily.entry(day).or_default().0 += 1;
                    received.insert(x.queue_id, r.time);
                }
                Event::Scan(s) if s.phi || s.uninspectable => {
                    m.phi_messages += 1;
                    m.daily.entry(day).or_default().1 += 1;
                    for c in &s.categories {
                        *m.categories.entry(c.clone()).or_default() += 1;
                    }
                    if s.uninspectable {
                        *m.categories.entry("uninspectable".into()).or_default() += 1;
                    }
                    phi.insert(s.queue_id);
                }
                Event::Decision(d) => {
                    *m.rules.entry(d.rule.clone()).or_default() += 1;
                    if let Some(w) = d.would {
                        m.would.push(Note {
                            time: r.time,
                            what: format!(
                                "{}: rule {} would have done {} (recipient domain {})",
                                d.queue_id,
                                w.rule,
                                w.action,
                                crate::policy::domain_of(&d.recipient)
                            ),
                        });
                    }
                }
                Event::Refused { .. } => m.refused += 1,
                Event::Attempt(a) => {
                    let protection = if !matches!(a.route.as_str(), "mx" | "route" | "smarthost") {
                        "encrypted route".to_string()
                    } else {
                        a.tls_auth.clone().unwrap_or_else(|| {
                            match (&a.tls_version, a.cert_verified) {
                                (Some(_), true) => "verify",
                                (Some(_), false) => "encrypt",
                                (None, _) => "none",
                            }
                            .to_string()
                        })
                    };
                    let tls = match (&a.tls_version, &a.tls_cipher) {
                        (Some(v), Some(c)) => format!("{v} {c}"),
                        _ => "plaintext".to_string(),
                    };
                    for (rcpt, outcome) in a.recipients.iter().zip(&a.outcomes) {
                        if outcome == "delivered" {
                            how.insert(
                                (a.queue_id.clone(), rcpt.clone()),
                                (protection.clone(), tls.clone()),
                            );
                        }
                    }
                }
                Event::Outcome(o) => {
                    let why = match (&o.stage, &o.reason, &o.status) {
                        (Some(stage), Some(reason), Some(status)) => {
                            format!("{stage}: {status} {reason}")
                        }
                        _ => o.detail.clone().unwrap_or_default(),
                    };
                    *m.daily_outcomes
                        .entry(day)
                        .or_default()
                        .entry(o.outcome.clone())
                        .or_default() += 1;
                    last.insert((o.queue_id, o.recipient), (o.outcome, why));
                }
                Event::Quarantine {
                    queue_id,
                    op,
                    recipients,
                    by,
                    reason,
                } => m.quarantine.push(Note {
                    time: r.time,
                    what: format!(
                        "{op} of {queue_id} ({} recipient(s)) by {by}{}",
                        recipients.len(),
                        reason.map_or(String::new(), |r| format!(": {r}"))
                    ),
                }),
                Event::ConfigReload { ok, config } => m.reloads.push(Note {
                    time: r.time,
                    what: format!(
                        "{} {config}",
                        if ok { "reloaded" } else { "reload refused:" }
                    ),
                }),
                _ => {}
            }
        }
    }
    let mut domains: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for ((id, rcpt), (outcome, why)) in &last {
        *m.outcomes.entry(outcome.clone()).or_default() += 1;
        let delivered = how.get(&(id.clone(), rcpt.clone()));
        if outcome == "delivered"
            && let Some((protection, tls)) = delivered
        {
            *m.protection.entry(protection.clone()).or_default() += 1;
            *m.tls.entry(tls.clone()).or_default() += 1;
            domains
                .entry(protection.clone())
                .or_default()
                .insert(crate::policy::domain_of(rcpt));
        }
        if !phi.contains(id) {
            continue;
        }
        let protected = outcome == "delivered"
            && delivered.is_some_and(|(p, _)| AUTHENTICATED.contains(&p.as_str()));
        if !protected {
            m.exceptions.push(Exception {
                time: received.get(id).cloned().unwrap_or_default(),
                queue_id: id.clone(),
                domain: crate::policy::domain_of(rcpt),
                outcome: outcome.clone(),
                detail: match delivered {
                    Some((p, tls)) if outcome == "delivered" => format!("{p}: {tls}"),
                    _ => why.clone(),
                },
            });
        }
    }
    m.destinations = domains
        .into_iter()
        .map(|(p, d)| (p, d.len() as u64))
        .collect();
    m.exceptions
        .sort_by(|a, b| (&a.time, &a.queue_id).cmp(&(&b.time, &b.queue_id)));
    Ok(m)
}
