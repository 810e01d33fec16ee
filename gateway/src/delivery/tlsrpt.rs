//! SMTP TLS Reporting (RFC 8460): what became of our TLS sessions to each
//! recipient domain that publishes a policy, told to the domain once a day.
//!
//! Each MX delivery attempt is one line in the day's file under the spool
//! directory (`tlsrpt/YYYY-MM-DD.jsonl`; appended, no fsync: a crash loses
//! at most a few lines of statistics, never mail). A day is reported once
//! it is over: per policy domain, an aggregate report (JSON, gzip) to each
//! `rua` of its `_smtp._tls` TXT record, by mail through the queue
//! (`mailto:`) or by HTTPS POST (`https:`). Nothing in a report names a
//! message, a sender or a recipient: domains, hosts, addresses and counts.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::smtp::status::Class;

/// One session (or one refusal before a session) to a policy domain's MX.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The recipient domain.
    pub domain: String,
    /// `tlsa`, `sts` or `no-policy-found`.
    pub policy_type: String,
    /// The policy as published (MTA-STS policy lines, TLSA records).
    pub policy_string: Vec<String>,
    /// The MX host.
    pub mx_host: String,
    /// Its address.
    pub receiving_ip: String,
    /// RFC 8460 section 4.3 result type; `None` for a success.
    pub failure: Option<String>,
}

/// The RFC 8460 result type for a failure class; `None` for classes that
/// are not TLS negotiation failures (a rejected recipient, say).
pub fn result_type(class: Class) -> Option<&'static str> {
    Some(match class {
        Class::TlsNotOffered => "starttls-not-supported",
        Class::CertNameMismatch => "certificate-host-mismatch",
        Class::CertExpired => "certificate-expired",
        Class::CertUntrusted => "certificate-not-trusted",
        Class::CertInvalid | Class::TlsFailed | Class::DaneMismatch | Class::MtaStsUnlisted => {
            "validation-failure"
        }
        Class::DnssecBogus => "dnssec-invalid",
        Class::DaneMissing => "dane-required",
        _ => return None,
    })
}

/// The day files.
pub struct Recorder {
    dir: PathBuf,
    /// One writer at a time, so lines never interleave.
    lock: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("dir", &self.dir).finish()
    }
}

impl Recorder {
    /// Day files under `dir` (made 0700 when first written).
    pub fn new(dir: PathBuf) -> Recorder {
        Recorder {
            dir,
            lock: Arc::default(),
        }
    }

    /// Appends `s` to the file of the day `unix` falls in, off the async
    /// threads (a file write per session).
    pub async fn record(&self, s: &Session, unix: u64) {
        let mut line = serde_json::to_vec(s).expect("sessions serialise");
        line.push(b'\n');
        let (dir, lock) = (self.dir.clone(), self.lock.clone());
        let path = dir.join(format!("{}.jsonl", crate::date::day(unix)));
        let written = tokio::task::spawn_blocking(move || {
            let _one = lock.lock().expect("tlsrpt lock");
            append(&dir, &path, &line)
        })
        .await;
        if let Ok(Err(e)) = written {
            tracing::warn!(error = %e, "could not record a TLS report session");
        }
    }

    /// Days with sessions and no report sent yet, before `today`.
    pub fn pending(&self, today: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut days: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                let day = name.strip_suffix(".jsonl")?.to_string();
                (day.as_str() < today).then_some(day)
            })
            .collect();
        days.sort();
        days
    }

    /// The day's sessions by policy domain.
    pub fn read(&self, day: &str) -> BTreeMap<String, Vec<Session>> {
        let mut out: BTreeMap<String, Vec<Session>> = BTreeMap::new();
        let text = std::fs::read_to_string(self.day_file(day)).unwrap_or_default();
        for line in text.lines() {
            if let Ok(s) = serde_json::from_str::<Session>(line) {
                out.entry(s.domain.clone()).or_default().push(s);
            }
        }
        out
    }

    /// Marks the day reported (its file renamed `.sent`, kept for review).
    pub fn done(&self, day: &str) {
        let from = self.day_file(day);
        if let Err(e) = std::fs::rename(&from, from.with_extension("sent")) {
            tracing::warn!(error = %e, day, "could not mark a TLS report day sent");
        }
    }

    fn day_file(&self, day: &str) -> PathBuf {
        self.dir.join(format!("{day}.jsonl"))
    }
}

fn append(dir: &Path, path: &Path, line: &[u8]) -> std::io::Result<()> {
    crate::fsmode::create_private_dir(dir)?;
    let mut f = crate::fsmode::private_options()
        .append(true)
        .create(true)
        .open(path)?;
    f.write_all(line)
}

/// Where a domain wants its reports (`_smtp._tls` TXT, RFC 8460 section 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rua {
    /// By mail to this address.
    Mail(String),
    /// By HTTPS POST to this URL.
    Https(String),
}

/// The `rua` destinations of a `v=TLSRPTv1` record; none for other records.
pub fn parse_rua(record: &str) -> Vec<Rua> {
    let mut fields = record.split(';').map(str::trim);
    if fields.next() != Some("v=TLSRPTv1") {
        return Vec::new();
    }
    fields
        .filter_map(|f| f.strip_prefix("rua="))
        .flat_map(|v| v.split(','))
        .filter_map(|u| {
            let u = u.trim();
            if let Some(addr) = u.strip_prefix("mailto:") {
                let addr = addr.split('?').next().unwrap_or("");
                (addr.contains('@') && !addr.contains(['<', '>', ' ', '\r', '\n']))
                    .then(|| Rua::Mail(addr.to_string()))
            } else if u.starts_with("https://") && !u.contains([' ', '\r', '\n']) {
                Some(Rua::Https(u.to_string()))
            } else {
                None
            }
        })
        .collect()
}

/// The aggregate report for one policy domain and one UTC day (RFC 8460
/// section 4.4), as JSON.
pub fn report(
    organization: &str,
    contact: &str,
    report_id: &str,
    day: &str,
    domain: &str,
    sessions: &[Session],
) -> serde_json::Value {
    // One entry per distinct policy seen that day.
    let mut policies: BTreeMap<(String, Vec<String>), Vec<&Session>> = BTreeMap::new();
    for s in sessions {
        policies
            .entry((s.policy_type.clone(), s.policy_string.clone()))
            .or_default()
            .push(s);
    }
    let policies: Vec<serde_json::Value> = policies
        .into_iter()
        .map(|((kind, strings), group)| {
            let ok = group.iter().filter(|s| s.failure.is_none()).count();
            let mut mx: Vec<&str> = group.iter().map(|s| s.mx_host.as_str()).collect();
            mx.sort_unstable();
            mx.dedup();
            let mut failures: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
            for s in group.iter().filter(|s| s.failure.is_some()) {
                *failures
                    .entry((
                        s.failure.as_deref().unwrap_or(""),
                        s.mx_host.as_str(),
                        s.receiving_ip.as_str(),
                    ))
                    .or_default() += 1;
            }
            let details: Vec<serde_json::Value> = failures
                .into_iter()
                .map(|((kind, host, ip), n)| {
                    serde_json::json!({
                        "result-type": kind,
                        "receiving-mx-hostname": host,
                        "receiving-ip": ip,
                        "failed-session-count": n,
                    })
                })
                .collect();
            let mut policy = serde_json::json!({
                "policy-type": kind,
                "policy-domain": domain,
            });
            if !strings.is_empty() {
                policy["policy-string"] = serde_json::json!(strings);
            }
            if kind == "sts" {
                policy["mx-host"] = serde_json::json!(mx);
            }
            serde_json::json!({
                "policy": policy,
                "summary": {
                    "total-successful-session-count": ok,
                    "total-failure-session-count": group.len() - ok,
                },
                "failure-details": details,
            })
        })
        .collect();
    serde_json::json!({
        "organization-name": organization,
        "date-range": {
            "start-datetime": format!("{day}T00:00:00Z"),
            "end-datetime": format!("{day}T23:59:59Z"),
        },
        "contact-info": contact,
        "report-id": report_id,
        "policies": policies,
    })
}

/// gzip of `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("writing to memory");
    e.finish().expect("writing to memory")
}

/// The report as a message (RFC 8460 section 5.3): `multipart/report;
/// report-type=tlsrpt`, the gzipped JSON as `application/tlsrpt+gzip`.
#[allow(clippy::too_many_arguments)]
pub fn message(
    hostname: &str,
    from: &str,
    to: &str,
    domain: &str,
    report_id: &str,
    day: &str,
    json_gz: &[u8],
    now: u64,
) -> Vec<u8> {
    use mail_builder::headers::content_type::ContentType;
    use mail_builder::headers::raw::Raw;
    use mail_builder::mime::{BodyPart, MimePart};
    let start = crate::date::parse(&format!("{day}T00:00:00Z")).unwrap_or(0);
    let file = format!(
        "{hostname}!{domain}!{start}!{}!{report_id}.json.gz",
        start + 86_399
    );
    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "tlsrpt"),
        vec![
            MimePart::new(
                "text/plain",
                format!(
                    "This is an aggregate TLS report from {hostname} for {domain}, {day} (UTC).\r\n"
                ),
            ),
            MimePart::new(
                "application/tlsrpt+gzip",
                BodyPart::Binary(json_gz.to_vec().into()),
            )
            .attachment(file),
        ],
    );
    mail_builder::MessageBuilder::new()
        .from(("TLS reporting".to_string(), from.to_string()))
        .to(to)
        .subject(format!(
            "Report Domain: {domain} Submitter: {hostname} Report-ID: <{report_id}>"
        ))
        .date(now)
        .message_id(format!("{report_id}@{hostname}"))
        .header("TLS-Report-Domain", Raw::new(domain))
        .header("TLS-Report-Submitter", Raw::new(hostname))
        .header("Auto-Submitted", Raw::new("auto-generated"))
        .body(report)
        .write_to_vec()
        .expect("writing a message into memory cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(domain: &str, host: &str, failure: Option<&str>) -> Session {
        Session {
            domain: domain.into(),
            policy_type: "sts".into(),
            policy_string: vec!["version: STSv1".into(), "mode: enforce".into()],
            mx_host: host.into(),
            receiving_ip: "192.0.2.1".into(),
            failure: failure.map(str::to_string),
        }
    }

    #[test]
    fn reports_count_per_policy_and_failure() {
        let s = [
            session("good.test", "mx.good.test", None),
            session("good.test", "mx.good.test", None),
            session("good.test", "mx.evil.test", Some("validation-failure")),
        ];
        let r = report(
            "gw.example",
            "postmaster@gw.example",
            "r1",
            "2026-12-01",
            "good.test",
            &s,
        );
        assert_eq!(r["date-range"]["start-datetime"], "2026-12-01T00:00:00Z");
        let p = &r["policies"][0];
        assert_eq!(p["policy"]["policy-type"], "sts");
        assert_eq!(p["summary"]["total-successful-session-count"], 2);
        assert_eq!(p["summary"]["total-failure-session-count"], 1);
        assert_eq!(p["failure-details"][0]["result-type"], "validation-failure");
        assert_eq!(
            p["failure-details"][0]["receiving-mx-hostname"],
            "mx.evil.test"
        );
        assert_eq!(p["failure-details"][0]["failed-session-count"], 1);
    }

    #[test]
    fn rua_records() {
        assert_eq!(
            parse_rua("v=TLSRPTv1; rua=mailto:tls@x.example,https://r.example/v1"),
            vec![
                Rua::Mail("tls@x.example".into()),
                Rua::Https("https://r.example/v1".into())
            ]
        );
        assert!(parse_rua("v=spf1 -all").is_empty());
        assert!(parse_rua("v=TLSRPTv1; rua=http://plain.example/").is_empty());
        assert!(parse_rua("v=TLSRPTv1; rua=mailto:<x@y>").is_empty());
    }

    #[tokio::test]
    async fn day_files_round_trip_and_are_marked_sent() {
        let dir = tempfile::tempdir().unwrap();
        let r = Recorder::new(dir.path().join("tlsrpt"));
        let day = crate::date::parse("2026-12-01T10:00:00Z").unwrap();
        r.record(&session("a.test", "mx.a.test", None), day).await;
        let failed = session("b.test", "mx.b.test", Some("starttls-not-supported"));
        r.record(&failed, day).await;
        assert_eq!(r.pending("2026-12-02"), vec!["2026-12-01".to_string()]);
        assert!(r.pending("2026-12-01").is_empty(), "today is not over");
        let read = r.read("2026-12-01");
        assert_eq!(read.len(), 2);
        r.done("2026-12-01");
        assert!(r.pending("2026-12-02").is_empty());
    }
}
