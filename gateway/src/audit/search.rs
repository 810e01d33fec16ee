//! `phigate audit search`: answers "who sent what to whom, and how was it
//! protected" by folding every record about a message into one trail.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Serialize;

use super::chain::Record;
use super::event::Event;
use super::writer::list;

/// What to look for; every filter given must match.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Exact queue ID.
    pub queue_id: Option<String>,
    /// Sender address (case-insensitive; `@domain` matches the domain).
    pub sender: Option<String>,
    /// A recipient address (same forms).
    pub recipient: Option<String>,
    /// A PHI category found.
    pub category: Option<String>,
    /// An action decided for some recipient.
    pub action: Option<String>,
    /// Received at or after (Unix seconds).
    pub since: Option<u64>,
    /// Received before (Unix seconds).
    pub until: Option<u64>,
}

/// Everything the log says about one message.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trail {
    /// Queue ID.
    pub queue_id: String,
    /// When it was received (RFC 3339).
    pub received: String,
    /// Sender.
    pub sender: String,
    /// Client address.
    pub client_ip: String,
    /// Inbound TLS.
    pub inbound_tls: Option<String>,
    /// Authenticated user.
    pub auth_user: Option<String>,
    /// PHI categories found.
    pub categories: Vec<String>,
    /// Per recipient: decision, rule and what became of it.
    pub recipients: BTreeMap<String, RcptTrail>,
    /// Refused at end of data with this code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<u16>,
    /// For a message the gateway wrote itself: what it is (`dsn`, or the
    /// notice's reason: `held`, `rerouted`, `refused`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// For a DSN or notice: the queue ID of the message it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// DSNs and notices sent about this message (`dsn QUEUEID`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
}

/// One recipient's part of a trail.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RcptTrail {
    /// Action decided (and changed, e.g. rerouted to encrypt).
    pub action: String,
    /// Rule that decided.
    pub rule: String,
    /// Latest outcome.
    pub outcome: Option<String>,
    /// Where the latest deferral, bounce or hold happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Its reason class (`no_such_domain`, `mailbox_unknown`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The server's reply code behind it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Its enhanced status code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Our note on the outcome (`by root` for a release...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// TLS of the delivery that took it: version, cipher, verified.
    pub delivered_over: Option<String>,
    /// Next hop of that delivery.
    pub host: Option<String>,
}

fn address_matches(pattern: &str, addr: &str) -> bool {
    let (p, a) = (pattern.to_ascii_lowercase(), addr.to_ascii_lowercase());
    if p.starts_with('@') {
        a.ends_with(&p)
    } else {
        a == p
    }
}

/// Reads every file in `dir` and returns the trails matching `q`, oldest first.
pub fn search(dir: &Path, q: &Query) -> std::io::Result<Vec<Trail>> {
    let mut trails: BTreeMap<String, (u64, Trail)> = BTreeMap::new();
    for name in list(dir)? {
        let reader = BufReader::new(std::fs::File::open(dir.join(&name))?);
        for line in reader.split(b'\n') {
            let line = line?;
            let Ok(r) = serde_json::from_slice::<Record>(&line) else {
                continue;
            };
            fold(&mut trails, r);
        }
    }
    Ok(trails
        .into_values()
        .filter(|(t, trail)| matches(q, *t, trail))
        .map(|(_, trail)| trail)
        .collect())
}

fn fold(trails: &mut BTreeMap<String, (u64, Trail)>, r: Record) {
    // A DSN or notice: a trail of its own that says what it is, and a
    // pointer from the message it is about.
    if let Event::Notice {
        queue_id,
        notice_id,
        reason,
        ..
    } = &r.event
    {
        let unix = crate::date::parse(&r.time).unwrap_or(0);
        let own = &mut trails
            .entry(notice_id.clone())
            .or_insert_with(|| (unix, Trail::default()))
            .1;
        own.queue_id.clone_from(notice_id);
        own.received.clone_from(&r.time);
        own.kind = Some(reason.clone());
        own.about = Some(queue_id.clone());
        if let Some((_, t)) = trails.get_mut(queue_id) {
            t.notices.push(format!("{reason} {notice_id}"));
        }
        return;
    }
    let id = match &r.event {
        Event::Received(m) => &m.queue_id,
        Event::Scan(s) => &s.queue_id,
        Event::Decision(d) => &d.queue_id,
        Event::Refused { queue_id, .. } => queue_id,
        Event::Outcome(o) => &o.queue_id,
        Event::Attempt(a) => &a.queue_id,
        _ => return,
    }
    .clone();
    let unix = crate::date::parse(&r.time).unwrap_or(0);
    let t = &mut trails
        .entry(id.clone())
        .or_insert_with(|| {
            (
                unix,
                Trail {
                    queue_id: id,
                    received: r.time.clone(),
                    ..Trail::default()
                },
            )
        })
        .1;
    match r.event {
        Event::Received(m) => {
            t.sender = m.sender;
            t.client_ip = m.client_ip;
            t.inbound_tls = m.inbound_tls;
            t.auth_user = m.auth_user;
            for rc in m.recipients {
                t.recipients.entry(rc).or_default();
            }
        }
        Event::Scan(s) => t.categories = s.categories,
        Event::Decision(d) => {
            let rc = t.recipients.entry(d.recipient).or_default();
            rc.action = d.action;
            rc.rule = d.rule;
        }
        Event::Refused { code, .. } => t.refused = Some(code),
        Event::Outcome(o) => {
            let rc = t.recipients.entry(o.recipient).or_default();
            rc.outcome = Some(o.outcome);
            rc.action = o.action;
            rc.stage = o.stage;
            rc.reason = o.reason;
            rc.code = o.code;
            rc.status = o.status;
            rc.detail = o.detail;
        }
        Event::Attempt(a) => {
            for (rcpt, outcome) in a.recipients.iter().zip(&a.outcomes) {
                if outcome != "delivered" {
                    continue;
                }
                let rc = t.recipients.entry(rcpt.clone()).or_default();
                rc.delivered_over = Some(match (&a.tls_version, &a.tls_cipher) {
                    (Some(v), Some(c)) => {
                        let verified = if a.cert_verified {
                            "verified"
                        } else {
                            "not verified"
                        };
                        format!("{v} {c} ({verified})")
                    }
                    _ => "plaintext".to_string(),
                });
                rc.host = Some(format!("{} [{}] via {}", a.host, a.addr, a.route));
            }
        }
        _ => {}
    }
}

fn matches(q: &Query, unix: u64, t: &Trail) -> bool {
    q.queue_id
        .as_ref()
        .is_none_or(|id| id.eq_ignore_ascii_case(&t.queue_id))
        && q.sender
            .as_ref()
            .is_none_or(|s| address_matches(s, &t.sender))
        && q.recipient
            .as_ref()
            .is_none_or(|p| t.recipients.keys().any(|r| address_matches(p, r)))
        && q.category.as_ref().is_none_or(|c| t.categories.contains(c))
        && q.action
            .as_ref()
            .is_none_or(|a| t.recipients.values().any(|r| r.action == *a))
        && q.since.is_none_or(|s| unix >= s)
        && q.until.is_none_or(|u| unix < u)
}

impl std::fmt::Display for Trail {
    /// One line for the message, one per recipient; a field that is not
    /// known is left out rather than printed empty.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.received, self.queue_id)?;
        match (&self.kind, &self.about) {
            (Some(kind), Some(about)) => {
                let what = if kind == "dsn" {
                    "DSN".to_string()
                } else {
                    format!("notice ({kind})")
                };
                write!(f, " {what} about {about}")?;
            }
            _ => {
                let sender = if self.sender.is_empty() {
                    "<>".to_string()
                } else {
                    format!("<{}>", self.sender)
                };
                write!(f, " from {sender}")?;
                if !self.client_ip.is_empty() {
                    write!(f, " client {}", self.client_ip)?;
                }
                if self.categories.is_empty() {
                    write!(f, " no PHI")?;
                } else {
                    write!(f, " PHI: {}", self.categories.join(","))?;
                }
            }
        }
        if let Some(code) = self.refused {
            write!(f, " refused {code}")?;
        }
        for n in &self.notices {
            write!(f, "; sent {n}")?;
        }
        for (rcpt, r) in &self.recipients {
            write!(f, "\n  to <{rcpt}>:")?;
            if !r.action.is_empty() {
                write!(f, " {}", r.action)?;
            }
            if !r.rule.is_empty() {
                write!(f, " (rule {})", r.rule)?;
            }
            if let Some(o) = &r.outcome {
                write!(f, " -> {o}")?;
            }
            if let (Some(reason), Some(status)) = (&r.reason, &r.status) {
                let stage = r.stage.as_deref().unwrap_or("?");
                match r.code {
                    Some(code) => write!(f, " at {stage}: {code} {status} {reason}")?,
                    None => write!(f, " at {stage}: {status} {reason}")?,
                }
            }
            if let Some(d) = &r.detail {
                write!(f, " ({d})")?;
            }
            if let (Some(tls), Some(host)) = (&r.delivered_over, &r.host) {
                write!(f, " over {tls} to {host}")?;
            }
        }
        Ok(())
    }
}
