//! Sending a day's TLS reports (RFC 8460): per recipient domain that
//! publishes a `_smtp._tls` record, the aggregate of that day's sessions to
//! each `rua` — by mail through the outbox (inspected, decided, audited,
//! queued like any message the gateway writes) or by HTTPS POST.

use super::*;
use crate::delivery::https;
use crate::delivery::tlsrpt::{Rua, gzip, message, parse_rua, report};

/// Sends the reports of `day`, or of every finished day not yet reported;
/// a line per report sent.
pub(super) async fn send(shared: &Shared, day: Option<String>) -> Result<Vec<String>, String> {
    let live = shared.live();
    let days = match day {
        Some(d) if crate::date::parse(&format!("{d}T00:00:00Z")).is_some() => vec![d],
        Some(d) => return Err(format!("`{d}` is not a day (YYYY-MM-DD)")),
        None => shared.tlsrpt.pending(&crate::date::day(now())),
    };
    let hostname = live.config.server.hostname.clone();
    let mut sent = Vec::new();
    for day in days {
        for (domain, sessions) in shared.tlsrpt.read(&day) {
            let records = live
                .router
                .txt(&format!("_smtp._tls.{domain}"))
                .await
                .unwrap_or_default();
            let ruas: Vec<Rua> = records.iter().flat_map(|r| parse_rua(r)).collect();
            if ruas.is_empty() {
                continue;
            }
            let report_id = format!("{day}.{domain}.{}", shared.spool.next_id());
            let json = report(
                &hostname,
                &format!("postmaster@{hostname}"),
                &report_id,
                &day,
                &domain,
                &sessions,
            );
            let text = serde_json::to_vec(&json).expect("reports serialise");
            let gz = gzip(&text);
            let ok = sessions.iter().filter(|s| s.failure.is_none()).count();
            for rua in ruas {
                let event = |rua: String, queue_id: Option<String>| Event::TlsReport {
                    report_id: report_id.clone(),
                    policy_domain: domain.clone(),
                    rua,
                    queue_id,
                    successful: ok,
                    failed: sessions.len() - ok,
                };
                match rua {
                    Rua::Mail(to) => {
                        let id = shared.spool.next_id();
                        let body = message(
                            &hostname,
                            &format!("noreply-tlsrpt@{hostname}"),
                            &to,
                            &domain,
                            &report_id,
                            &day,
                            &gz,
                            now(),
                        );
                        let ctx = Context {
                            spool: &shared.spool,
                            wake: &shared.handle,
                            audit: &shared.audit,
                            metrics: &shared.metrics,
                            hostname: &hostname,
                            engine: &live.engine,
                            policy: &live.policy,
                            local_domains: &live.config.server.local_domains,
                        };
                        let e = event(format!("mailto:{to}"), Some(id.to_string()));
                        if crate::outbox::report(&ctx, &to, id, &text, body, e)
                            .await
                            .is_some()
                        {
                            sent.push(format!("{domain} {day}: mailto:{to} (queue ID {id})"));
                        }
                    }
                    Rua::Https(url) => match post(&live, &url, &gz).await {
                        Ok(status) => {
                            if let Err(e) = shared.audit.log(vec![event(url.clone(), None)]).await {
                                tracing::error!(error = %e, "could not audit a TLS report");
                            }
                            sent.push(format!("{domain} {day}: {url} (HTTP {status})"));
                        }
                        Err(e) => {
                            tracing::warn!(domain = %domain, error = %e, "TLS report POST failed")
                        }
                    },
                }
            }
        }
        shared.tlsrpt.done(&day);
    }
    Ok(sent)
}

/// POSTs a report (`application/tlsrpt+gzip`, RFC 8460 section 5.4).
async fn post(live: &Live, url: &str, gz: &[u8]) -> Result<u16, String> {
    let (host, port, path) = https::split_url(url).ok_or("not an https URL")?;
    let addrs = live
        .router
        .address_list(&host, port.unwrap_or(443))
        .await
        .map_err(|e| e.to_string())?;
    let req = https::Request {
        host: &host,
        path: &path,
        post: Some(("application/tlsrpt+gzip", gz)),
    };
    let raw = tokio::time::timeout(
        Duration::from_secs(60),
        https::send(&req, &addrs, &live.trust),
    )
    .await
    .map_err(|_| "timed out".to_string())?
    .map_err(|e| e.to_string())?;
    match https::status(&raw) {
        Some(s) if (200..300).contains(&s) => Ok(s),
        Some(s) => Err(format!("HTTP status {s}")),
        None => Err("malformed response".into()),
    }
}

/// Mails the audit review of `[since, until)` to `review.officer` through
/// the outbox; its queue ID.
pub(super) async fn digest(shared: &Shared, since: u64, until: u64) -> Result<String, String> {
    let live = shared.live();
    let cfg = &live.config;
    let officer = cfg
        .review
        .officer
        .clone()
        .ok_or("review.officer is not set: nobody to mail the review to")?;
    let dir = cfg.audit.dir.clone();
    let thresholds = cfg.review.clone();
    let items = tokio::task::spawn_blocking(move || {
        crate::report::review::review(&dir, since, until, &thresholds)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("reading the audit log: {e}"))?;
    let period = format!(
        "{} to {}",
        crate::date::rfc3339(since),
        crate::date::rfc3339(until)
    );
    let id = shared.spool.next_id();
    let hostname = &cfg.server.hostname;
    let body = crate::report::review::digest_message(
        hostname,
        &officer,
        &period,
        &items,
        &id.to_string(),
        now(),
    );
    let ctx = Context {
        spool: &shared.spool,
        wake: &shared.handle,
        audit: &shared.audit,
        metrics: &shared.metrics,
        hostname,
        engine: &live.engine,
        policy: &live.policy,
        local_domains: &cfg.server.local_domains,
    };
    let event = Event::ReviewDigest {
        queue_id: id.to_string(),
        period: period.clone(),
        items: items.len(),
    };
    match crate::outbox::report(&ctx, &officer, id, &body, body.clone(), event).await {
        Some(id) => Ok(format!(
            "review of {period}: {} item(s), mailed to {officer} (queue ID {id})",
            items.len()
        )),
        None => Err("the review could not be queued (see the log)".into()),
    }
}

/// The digest `review.digest` asks for, when a period has ended since the
/// last one (kept in the spool directory, so a restart neither skips nor
/// repeats one).
pub(super) async fn scheduled_digest(shared: &Shared) -> Result<(), String> {
    let live = shared.live();
    let Some(days) = live.config.review.digest_days else {
        return Ok(());
    };
    let marker = shared.spool.dir().join("review-digest.last");
    let today = now() / 86_400 * 86_400;
    let last = std::fs::read_to_string(&marker)
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .unwrap_or(today.saturating_sub(days * 86_400));
    if today < last + days * 86_400 {
        return Ok(());
    }
    let until = last + days * 86_400;
    let line = digest(shared, last, until).await?;
    tracing::info!("{line}");
    let write = || -> std::io::Result<()> {
        let mut f = crate::fsmode::create_private(&marker)?;
        std::io::Write::write_all(&mut f, until.to_string().as_bytes())
    };
    write().map_err(|e| e.to_string())
}
