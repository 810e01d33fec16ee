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
