//! What Prometheus scrapes from `/metrics`, and the health flags behind
//! `/readyz`. One [`Metrics`] per gateway (its own registry), shared by the
//! sessions, the queue manager and the audit writer's callers.
//!
//! Label values are bounded by construction: fixed words (outcomes,
//! actions, TLS versions) and names an administrator wrote in the config
//! (rule ids, custom categories). Never an address, a domain from mail, or
//! anything from a message.

use std::sync::atomic::{AtomicBool, Ordering};

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Every metric phigate exports.
#[derive(Debug)]
#[allow(missing_docs)]
pub struct Metrics {
    registry: Registry,
    pub connections_current: IntGauge,
    pub connections_total: IntCounterVec,
    pub sessions_ended_total: IntCounterVec,
    pub messages_received_total: IntCounter,
    pub messages_accepted_total: IntCounter,
    pub messages_refused_total: IntCounterVec,
    pub received_bytes_total: IntCounter,
    pub scan_duration_seconds: Histogram,
    pub phi_messages_total: IntCounter,
    pub findings_total: IntCounterVec,
    pub decisions_total: IntCounterVec,
    pub delivery_attempts_total: IntCounterVec,
    pub recipients_total: IntCounterVec,
    pub retries_total: IntCounter,
    pub bounces_total: IntCounter,
    pub notices_total: IntCounterVec,
    pub queue_messages: IntGauge,
    pub queue_oldest_age_seconds: IntGauge,
    pub quarantine_messages: IntGauge,
    pub audit_write_seconds: Histogram,
    pub audit_write_failures_total: IntCounter,
    pub audit_witness_failures_total: IntCounterVec,
    pub audit_halted: IntGauge,
    pub auth_failures_total: IntCounterVec,
    pub console_requests_total: IntCounterVec,
    pub console_signin_failures_total: IntCounter,
    pub reports_built_total: IntCounter,
    pub inspections_incomplete_total: IntCounterVec,
    pub loops_total: IntCounter,
    /// Deliveries by what authenticated the next hop.
    pub delivery_auth_total: IntCounterVec,
    pub spool_write_failures_total: IntCounter,
    /// Messages refused (452 4.3.1) because all sessions together held
    /// `server.content_memory` of content.
    pub content_memory_refused_total: IntCounter,
    pub config_reloads_total: IntCounterVec,
    pub config_last_reload_success: IntGauge,
    pub build_info: IntGaugeVec,
    /// S/MIME recipient certificates in the store, by state (valid,
    /// expiring, unusable).
    pub smime_certificates: IntGaugeVec,
    /// Seconds until the first usable S/MIME certificate expires (0: none).
    pub smime_certificate_expiry_seconds: IntGauge,
    /// Listeners bound and accepting.
    pub listening: AtomicBool,
    /// The last spool write succeeded.
    pub spool_ok: AtomicBool,
    /// The last audit write succeeded.
    pub audit_ok: AtomicBool,
}

fn counter(r: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).expect("valid metric");
    r.register(Box::new(c.clone())).expect("unique metric");
    c
}

fn counter_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(c.clone())).expect("unique metric");
    c
}

fn gauge(r: &Registry, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::new(name, help).expect("valid metric");
    r.register(Box::new(g.clone())).expect("unique metric");
    g
}

fn histogram(r: &Registry, name: &str, help: &str, buckets: Vec<f64>) -> Histogram {
    let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
        .expect("valid metric");
    r.register(Box::new(h.clone())).expect("unique metric");
    h
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered at zero.
    pub fn new() -> Metrics {
        let r = Registry::new();
        #[cfg(target_os = "linux")]
        {
            let pc = prometheus::process_collector::ProcessCollector::for_self();
            let _ = r.register(Box::new(pc));
        }
        let fast = vec![
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
        ];
        let build_info = IntGaugeVec::new(
            Opts::new("phigate_build_info", "phigate version (value 1)"),
            &["version"],
        )
        .expect("valid metric");
        r.register(Box::new(build_info.clone()))
            .expect("unique metric");
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        let m = Metrics {
            connections_current: gauge(&r, "phigate_connections_current", "SMTP sessions open now"),
            connections_total: counter_vec(
                &r,
                "phigate_connections_total",
                "SMTP connections by outcome (accepted, refused_limit)",
                &["outcome"],
            ),
            sessions_ended_total: counter_vec(
                &r,
                "phigate_sessions_ended_total",
                "SMTP sessions ended, by how",
                &["end"],
            ),
            messages_received_total: counter(
                &r,
                "phigate_messages_received_total",
                "Messages whose data was received complete",
            ),
            messages_accepted_total: counter(
                &r,
                "phigate_messages_accepted_total",
                "Messages accepted (250) after inspection, audit and spool",
            ),
            messages_refused_total: counter_vec(
                &r,
                "phigate_messages_refused_total",
                "Messages refused at end of data, by reason (policy, inspection, audit, spool)",
                &["reason"],
            ),
            received_bytes_total: counter(
                &r,
                "phigate_received_bytes_total",
                "Bytes of message data accepted",
            ),
            scan_duration_seconds: histogram(
                &r,
                "phigate_scan_duration_seconds",
                "Time to inspect one message",
                fast.clone(),
            ),
            phi_messages_total: counter(
                &r,
                "phigate_phi_messages_total",
                "Messages found to carry PHI (or not fully inspectable)",
            ),
            findings_total: counter_vec(
                &r,
                "phigate_findings_total",
                "Messages with findings over threshold, by category",
                &["category"],
            ),
            decisions_total: counter_vec(
                &r,
                "phigate_decisions_total",
                "Policy decisions per recipient, by action and rule",
                &["action", "rule"],
            ),
            delivery_auth_total: counter_vec(
                &r,
                "phigate_delivery_auth_total",
                "Delivery attempts by what authenticated the next hop: mta-sts, verify (certificate for the host name), encrypt (TLS, not verified), none",
                &["mechanism"],
            ),
            delivery_attempts_total: counter_vec(
                &r,
                "phigate_delivery_attempts_total",
                "Delivery attempts by route, TLS version, certificate verification and result",
                &["route", "tls_version", "verified", "result"],
            ),
            recipients_total: counter_vec(
                &r,
                "phigate_recipients_total",
                "Recipient outcomes (delivered, deferred, bounced, held, rerouted, released, deleted)",
                &["outcome"],
            ),
            retries_total: counter(
                &r,
                "phigate_retries_total",
                "Recipients deferred for another attempt",
            ),
            bounces_total: counter(
                &r,
                "phigate_bounces_total",
                "Recipients that failed for good",
            ),
            notices_total: counter_vec(
                &r,
                "phigate_notices_total",
                "Notices sent to senders, by reason (held, rerouted, refused)",
                &["reason"],
            ),
            queue_messages: gauge(
                &r,
                "phigate_queue_messages",
                "Messages waiting in the spool",
            ),
            queue_oldest_age_seconds: gauge(
                &r,
                "phigate_queue_oldest_age_seconds",
                "Age of the oldest message waiting for delivery",
            ),
            quarantine_messages: gauge(
                &r,
                "phigate_quarantine_messages",
                "Messages with recipients held in quarantine",
            ),
            audit_write_seconds: histogram(
                &r,
                "phigate_audit_write_seconds",
                "Time for audit records to become durable",
                fast,
            ),
            audit_write_failures_total: counter(
                &r,
                "phigate_audit_write_failures_total",
                "Audit writes that failed",
            ),
            audit_witness_failures_total: counter_vec(
                &r,
                "phigate_audit_witness_failures_total",
                "Checkpoints a witness (file, syslog) could not take",
                &["witness"],
            ),
            audit_halted: gauge(
                &r,
                "phigate_audit_halted",
                "1 when the audit writer refuses to continue the log (behind its witness, or its chain does not verify)",
            ),
            auth_failures_total: counter_vec(
                &r,
                "phigate_auth_failures_total",
                "SMTP AUTH attempts refused, by reason (invalid, locked_out, busy)",
                &["reason"],
            ),
            console_requests_total: counter_vec(
                &r,
                "phigate_console_requests_total",
                "Web console requests, by page and HTTP status",
                &["page", "code"],
            ),
            console_signin_failures_total: counter(
                &r,
                "phigate_console_signin_failures_total",
                "Console sign-ins refused (wrong name, password or code, or locked out)",
            ),
            reports_built_total: counter(
                &r,
                "phigate_reports_built_total",
                "Monthly compliance reports the console built",
            ),
            inspections_incomplete_total: counter_vec(
                &r,
                "phigate_inspections_incomplete_total",
                "Inspections that did not complete (timeout, internal), and messages then accepted as uninspectable",
                &["reason"],
            ),
            loops_total: counter(
                &r,
                "phigate_mail_loops_total",
                "Deliveries refused because the next hop is this gateway",
            ),
            spool_write_failures_total: counter(
                &r,
                "phigate_spool_write_failures_total",
                "Spool writes that failed",
            ),
            content_memory_refused_total: counter(
                &r,
                "phigate_content_memory_refused_total",
                "Messages refused with 452 4.3.1 because sessions held all of server.content_memory",
            ),
            config_reloads_total: counter_vec(
                &r,
                "phigate_config_reloads_total",
                "Configuration reloads by result (ok, failed)",
                &["result"],
            ),
            config_last_reload_success: gauge(
                &r,
                "phigate_config_last_reload_success",
                "1 if the last reload succeeded (or none was tried), 0 if it failed",
            ),
            build_info,
            smime_certificates: {
                let g = IntGaugeVec::new(
                    Opts::new(
                        "phigate_smime_certificates",
                        "S/MIME recipient certificates in the store, by state (valid, expiring, unusable)",
                    ),
                    &["state"],
                )
                .expect("valid metric");
                r.register(Box::new(g.clone())).expect("unique metric");
                g
            },
            smime_certificate_expiry_seconds: gauge(
                &r,
                "phigate_smime_certificate_expiry_seconds",
                "Seconds until the first usable S/MIME recipient certificate expires (0: none)",
            ),
            registry: r,
            listening: AtomicBool::new(false),
            spool_ok: AtomicBool::new(true),
            audit_ok: AtomicBool::new(true),
        };
        m.config_last_reload_success.set(1);
        // Known label values start at zero, so dashboards and alerts see a
        // series (0) rather than none before the first event.
        for (vec, values) in [
            (&m.config_reloads_total, &["ok", "failed"][..]),
            (&m.connections_total, &["accepted", "refused_limit"]),
            (
                &m.messages_refused_total,
                &["policy", "inspection", "audit", "spool"],
            ),
            (&m.notices_total, &["held", "rerouted", "refused"]),
            (&m.audit_witness_failures_total, &["file", "syslog"]),
            (&m.auth_failures_total, &["invalid", "locked_out", "busy"]),
            (
                &m.inspections_incomplete_total,
                &["timeout", "internal", "accepted_uninspectable"],
            ),
            (
                &m.recipients_total,
                &[
                    "delivered",
                    "deferred",
                    "bounced",
                    "held",
                    "rerouted",
                    "released",
                    "deleted",
                ],
            ),
            (
                &m.delivery_auth_total,
                &["mta-sts", "verify", "encrypt", "none"],
            ),
        ] {
            for v in values {
                vec.with_label_values(&[v]);
            }
        }
        m
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding cannot fail");
        out
    }

    /// Ready: listeners up, the last spool and audit writes succeeded.
    pub fn ready(&self) -> Result<(), &'static str> {
        if !self.listening.load(Ordering::Relaxed) {
            return Err("listeners not up");
        }
        if !self.spool_ok.load(Ordering::Relaxed) {
            return Err("spool not writable");
        }
        if self.audit_halted.get() != 0 {
            return Err("audit log halted: behind its witness or its chain does not verify");
        }
        if !self.audit_ok.load(Ordering::Relaxed) {
            return Err("audit log not writable");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_with_help() {
        let m = Metrics::new();
        m.decisions_total
            .with_label_values(&["encrypt", "payer-claims"])
            .inc();
        let text = String::from_utf8(m.render()).unwrap();
        assert!(
            text.contains("phigate_decisions_total{action=\"encrypt\",rule=\"payer-claims\"} 1")
        );
        assert!(text.contains("# HELP phigate_queue_messages Messages waiting in the spool"));
        assert!(text.contains("phigate_build_info{version="));
        assert!(m.ready().is_err(), "not ready before listening");
        m.listening.store(true, Ordering::Relaxed);
        assert!(m.ready().is_ok());
    }
}
