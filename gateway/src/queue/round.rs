//! One delivery round of one message: its due recipients grouped by how
//! they are delivered (destination, TLS requirement, changes), each group
//! sent, the outcomes recorded durably, DSNs and notices sent.

use super::retry::{next_due, next_state};
use super::scheduler::{Known, Round};
use super::*;
use crate::delivery::certs::Source;

pub(super) fn outcome_event(
    envelope: &Envelope,
    i: usize,
    outcome: &str,
    action: Action,
    detail: Option<String>,
    why: Option<&Failure>,
) -> Event {
    Event::Outcome(event::Outcome {
        queue_id: envelope.id.to_string(),
        recipient: envelope.rcpt_to[i].clone(),
        outcome: outcome.to_string(),
        action: action.as_str().to_string(),
        detail,
        stage: why.map(|f| f.stage.as_str().to_string()),
        reason: why.map(|f| f.class.as_str().to_string()),
        code: why.and_then(|f| f.code),
        status: why.map(|f| f.status.clone()),
    })
}

/// How a group of recipients is delivered: same destination, same TLS
/// level, same changes to the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Plan {
    /// `None`: the encrypted route.
    pub(super) domain: Option<String>,
    pub(super) required: transport::Requirement,
    pub(super) tag: Option<String>,
    pub(super) header: Option<(String, String)>,
    /// S/MIME-encrypted to this certificate (one recipient per group).
    pub(super) smime: Option<CertRef>,
}

/// A certificate in a plan, the same certificate when its hash is.
#[derive(Debug, Clone)]
pub(super) struct CertRef(pub(super) Arc<RecipientCert>);

impl PartialEq for CertRef {
    fn eq(&self, other: &Self) -> bool {
        self.0.sha256 == other.0.sha256
    }
}

impl Eq for CertRef {}

impl Plan {
    /// The PHI chain for `encrypt`: S/MIME to the recipient's certificate,
    /// else the provider relay, else the domain at the PHI level (held when
    /// a hop cannot meet it). Other actions go to the domain at the level
    /// `transport` says; a hop that fails PHI's level sends the recipient
    /// back here as `encrypt` (see [`deliver_message`]).
    async fn for_rcpt(live: &Live, envelope: &Envelope, i: usize, action: Action) -> Plan {
        let decision = decision(envelope, i);
        let domain = domain_of(&envelope.rcpt_to[i]);
        let phi = envelope.phi.unwrap_or(true);
        let cert = if action == Action::Encrypt {
            live.smime_cert(&envelope.rcpt_to[i]).await.ok()
        } else {
            None
        };
        let route = cert.is_none() && action == Action::Encrypt && live.encryptor.is_some();
        let destination = if cert.is_some() {
            TransportTo::Smime(&domain)
        } else if route {
            TransportTo::EncryptedRoute
        } else {
            TransportTo::Domain(&domain)
        };
        let required =
            transport::required(action, decision.opt_out, phi, &live.config.tls, destination);
        // `TLS-Required: No` counts for mail without PHI only.
        let required = if envelope.tls_optional && !phi && !route {
            transport::waived_by_sender(required)
        } else {
            required
        };
        Plan {
            domain: (!route).then_some(domain),
            required,
            tag: decision.modifiers.tag_subject,
            header: decision.modifiers.add_header,
            smime: cert.map(CertRef),
        }
    }
}

/// Delivers the due recipients of one message.
pub(super) async fn deliver_message(shared: &Shared, id: QueueId, before: Option<Known>) -> Round {
    let live = shared.live();
    let (envelope, message) = match shared.spool.read(id).await {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(queue_id = %id, error = %e, "cannot read message for delivery");
            return Round {
                next: None,
                known: Known {
                    states: Vec::new(),
                    actions: Vec::new(),
                    received_at: 0,
                },
                finished: true,
            };
        }
    };
    let mut k = before
        .filter(|k| k.states.len() == envelope.rcpt_to.len())
        .unwrap_or_else(|| Known {
            states: envelope.initial_states(),
            actions: initial_actions(&envelope),
            received_at: envelope.received_at,
        });
    let t = now();
    let due: Vec<usize> = (0..k.states.len())
        .filter(|&i| match &k.states[i] {
            RcptState::Pending => true,
            RcptState::Deferred { next_attempt, .. } => *next_attempt <= t,
            _ => false,
        })
        .collect();
    let mut groups: Vec<(Plan, Vec<usize>)> = Vec::new();
    for i in due {
        let plan = Plan::for_rcpt(&live, &envelope, i, k.actions[i]).await;
        match groups.iter_mut().find(|(p, _)| *p == plan) {
            Some((_, v)) => v.push(i),
            None => groups.push((plan, vec![i])),
        }
    }
    let mut updates = Vec::new();
    let mut events = Vec::new();
    let mut rerouted = Vec::new();
    let mut no_route = Vec::new();
    let mut to_smime = Vec::new();
    let mut chain_notes: Vec<Option<String>> = vec![None; envelope.rcpt_to.len()];
    for (plan, idx) in groups {
        let outcomes =
            deliver_group(shared, &live, &envelope, &message, &plan, &idx, &mut events).await;
        for (&i, outcome) in idx.iter().zip(outcomes) {
            let action = k.actions[i];
            let mut rerouted_why = None;
            let (state, new_action, word) = match outcome {
                Outcome::Temporary {
                    policy: true,
                    failure,
                } if plan.required.protects_phi() => {
                    // The next step of the chain: S/MIME when the recipient
                    // has a usable certificate, else the provider relay.
                    let smime = live.smime_cert(&envelope.rcpt_to[i]).await;
                    chain_notes[i] = Some(chain_note(&live, &smime));
                    if smime.is_ok() || live.encryptor.is_some() {
                        if smime.is_ok() {
                            to_smime.push(i);
                        } else {
                            rerouted.push(i);
                        }
                        rerouted_why = Some(failure);
                        (RcptState::Pending, Some(Action::Encrypt), "rerouted")
                    } else {
                        no_route.push(i);
                        // Held for want of a secure route; the class says
                        // why the hop would not do (not offered, name
                        // mismatch...), which is what an operator fixes.
                        let held = RcptState::Held {
                            at: t,
                            reason: format!("{}: {failure}", NO_SECURE_ROUTE),
                            why: Some(failure),
                        };
                        (held, Some(Action::Quarantine), "held")
                    }
                }
                outcome => {
                    let state = next_state(&live, &envelope, &k.states[i], outcome);
                    let word = match &state {
                        RcptState::Delivered { .. } => "delivered",
                        RcptState::Bounced { .. } => "bounced",
                        _ => "deferred",
                    };
                    (state, None, word)
                }
            };
            let now_action = new_action.unwrap_or(action);
            let detail = match &state {
                RcptState::Bounced { reason, .. } if reason == dsn::TLS_POLICY_REASON => {
                    Some("no verified TLS".to_string())
                }
                RcptState::Held { .. } if word == "held" => Some(format!(
                    "{NO_SECURE_ROUTE} ({})",
                    chain_notes[i].as_deref().unwrap_or("")
                )),
                RcptState::Delivered { .. } if plan.smime.is_some() => plan
                    .smime
                    .as_ref()
                    .map(|c| format!("S/MIME {}", c.0.short())),
                _ if word == "rerouted" => chain_notes[i].clone(),
                _ => None,
            };
            let why = state.why().or(rerouted_why.as_ref());
            log_outcome(envelope.id, &envelope.rcpt_to[i], word, &state, why);
            events.push(outcome_event(&envelope, i, word, now_action, detail, why));

            let m = &shared.metrics;
            m.recipients_total.with_label_values(&[word]).inc();
            match word {
                "deferred" => m.retries_total.inc(),
                "bounced" => m.bounces_total.inc(),
                _ => {}
            }
            k.states[i] = state.clone();
            k.actions[i] = now_action;
            updates.push(StatusUpdate {
                rcpt: i as u32,
                state,
                action: new_action,
            });
        }
    }
    if updates.is_empty() {
        // Nothing was due (all held, say): nothing to record.
        return Round {
            next: next_due(&k.states),
            known: k,
            finished: false,
        };
    }
    // Recorded before it takes effect: the audit log, then the spool.
    if let Err(e) = shared.audit.log(events).await {
        tracing::error!(queue_id = %id, error = %e, "could not audit delivery outcomes; will retry");
        return Round {
            next: Some(now() + 60),
            known: k,
            finished: false,
        };
    }
    if let Err(e) = shared.spool.update(id, &updates).await {
        tracing::error!(queue_id = %id, error = %e, "could not record delivery outcomes; will retry");
        return Round {
            next: Some(now() + 60),
            known: k,
            finished: false,
        };
    }
    let ctx = Context {
        spool: &shared.spool,
        wake: &shared.handle,
        audit: &shared.audit,
        metrics: &shared.metrics,
        hostname: &live.config.server.hostname,
        engine: &live.engine,
        policy: &live.policy,
        local_domains: &live.config.server.local_domains,
    };
    send_dsn(&ctx, &envelope, &updates).await;
    let names = |idx: &[usize]| -> Vec<&str> {
        idx.iter()
            .filter(|&&i| decision(&envelope, i).modifiers.notify_sender)
            .map(|&i| envelope.rcpt_to[i].as_str())
            .collect()
    };
    notice::send(&ctx, &envelope, &names(&rerouted), Reason::Rerouted).await;
    notice::send(&ctx, &envelope, &names(&to_smime), Reason::Encrypted).await;
    // The sender always hears of a message that went nowhere.
    let stuck: Vec<&str> = no_route
        .iter()
        .map(|&i| envelope.rcpt_to[i].as_str())
        .collect();
    notice::send(&ctx, &envelope, &stuck, Reason::NoSecureRoute).await;
    if k.states.iter().all(RcptState::is_final) {
        if let Err(e) = shared.spool.complete(id).await {
            tracing::error!(queue_id = %id, error = %e, "could not mark message done");
        }
        tracing::info!(queue_id = %id, "message left the queue");
        return Round {
            next: None,
            known: k,
            finished: true,
        };
    }
    Round {
        next: next_due(&k.states),
        known: k,
        finished: false,
    }
}

/// What the chain found after TLS for a recipient: the S/MIME step's
/// certificate or why it was skipped, and the relay's presence.
fn chain_note(live: &Live, smime: &Result<Arc<RecipientCert>, Skip>) -> String {
    let relay = if live.encryptor.is_some() {
        "encrypted route"
    } else {
        "no encrypted route"
    };
    match smime {
        Ok(c) if c.source == Source::Smimea => {
            format!("S/MIME to certificate {} (SMIMEA)", c.short())
        }
        Ok(c) if c.source == Source::Directory => {
            format!("S/MIME to certificate {} (directory)", c.short())
        }
        Ok(c) => format!("S/MIME to certificate {}", c.short()),
        Err(skip) if live.certs.is_none() => format!("S/MIME off; {relay} ({skip})"),
        Err(skip) => format!("S/MIME skipped: {skip}; {relay}"),
    }
}

/// Why PHI was held rather than delivered, in the hold and its record.
const NO_SECURE_ROUTE: &str = "policy: no secure route";

/// Outcome of one recipient's attempt.
pub(super) enum Outcome {
    Delivered(String),
    Permanent(Failure),
    Temporary { failure: Failure, policy: bool },
}

/// One line per recipient that did not go: the stage, class and codes an
/// operator acts on; the recipient by domain only.
fn log_outcome(id: QueueId, rcpt: &str, word: &str, state: &RcptState, why: Option<&Failure>) {
    if word == "delivered" {
        return;
    }
    let next = match state {
        RcptState::Deferred { next_attempt, .. } => crate::date::rfc3339(*next_attempt),
        _ => String::new(),
    };
    tracing::info!(
        queue_id = %id,
        rcpt_domain = %domain_of(rcpt),
        outcome = word,
        stage = why.map_or("", |f| f.stage.as_str()),
        reason = why.map_or("", |f| f.class.as_str()),
        code = why.and_then(|f| f.code).unwrap_or(0),
        status = why.map_or("", |f| f.status.as_str()),
        next_attempt = %next,
        "recipient {word}"
    );
}

/// A group's destination, AUTH, message as changed for it (empty: as
/// stored) and the kind of route, for the audit log.
pub(super) struct Routed<'a> {
    pub(super) dest: Destination,
    pub(super) auth: Option<(&'a str, &'a str)>,
    pub(super) prepared: Vec<u8>,
    pub(super) kind: &'a str,
}

pub(super) async fn deliver_group(
    shared: &Shared,
    live: &Live,
    envelope: &Envelope,
    message: &[u8],
    plan: &Plan,
    idx: &[usize],
    events: &mut Vec<Event>,
) -> Vec<Outcome> {
    let cfg = &live.config;
    let tags: Vec<&str> = plan.tag.iter().map(String::as_str).collect();
    let headers: Vec<(&str, &str)> = plan
        .header
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let routed: Result<Routed<'_>, RouteError> = match (&plan.domain, &live.encryptor) {
        (None, Some(enc)) => {
            let Via::Hop(hop, auth) = enc.via();
            let prepared = enc.prepare(message, &tags, &headers);
            live.router.next_hop(hop).await.map(|dest| Routed {
                dest,
                auth,
                prepared,
                kind: enc.name(),
            })
        }
        (domain, _) => {
            let domain = domain.as_deref().unwrap_or("");
            let mut prepared = if tags.is_empty() && headers.is_empty() {
                Vec::new()
            } else {
                rewrite::apply(message, &tags, &headers)
            };
            if let Some(CertRef(cert)) = &plan.smime {
                // The whole message as it would have left, encrypted; the
                // gateway's DKIM signature (below) goes on the outside.
                let inner = if prepared.is_empty() {
                    message
                } else {
                    &prepared[..]
                };
                let rcpts: Vec<String> = idx.iter().map(|&i| envelope.rcpt_to[i].clone()).collect();
                let sealed = smime::seal(
                    inner,
                    cert,
                    cfg.smime.algorithms(domain),
                    &rcpts,
                    &cfg.smime.outer_subject,
                    live.smime_signer.as_ref(),
                );
                match sealed {
                    Ok(m) => prepared = m,
                    Err(e) => {
                        // Never sent in clear instead: it waits.
                        tracing::error!(queue_id = %envelope.id, cert = cert.short(), error = %e, "S/MIME encryption failed");
                        let f = Failure::ours(Stage::Policy, Class::SmimeFailed, false);
                        return temporary(idx, &f, false);
                    }
                }
            }
            live.router.route(domain).await.map(|d| {
                let auth = if d.smarthost {
                    cfg.delivery
                        .relay_auth
                        .as_ref()
                        .map(|(u, p)| (u.as_str(), p.as_str()))
                } else {
                    None
                };
                let kind = if d.smarthost {
                    "smarthost"
                } else if d.key.starts_with("mx:") {
                    "mx"
                } else {
                    "route"
                };
                Routed {
                    dest: d,
                    auth,
                    prepared,
                    kind,
                }
            })
        }
    };
    let Routed {
        dest,
        auth,
        prepared,
        kind,
    } = match routed {
        Ok(x) => x,
        Err(e) => {
            tracing::debug!(queue_id = %envelope.id, error = %e, "no next hop");
            let f = e.failure();
            return idx
                .iter()
                .map(|_| {
                    if f.permanent() {
                        Outcome::Permanent(f.clone())
                    } else {
                        Outcome::Temporary {
                            failure: f.clone(),
                            policy: false,
                        }
                    }
                })
                .collect();
        }
    };
    tracing::debug!(
        queue_id = %envelope.id,
        route = kind,
        destination = %dest.key,
        hosts = dest.hops.len(),
        tls_required = plan.required.level().as_str(),
        "next hop resolved"
    );
    let changed = !prepared.is_empty();
    let message = if changed { &prepared[..] } else { message };
    // The DKIM signature goes on last, over the message as it will leave.
    let signed;
    let message = match &live.dkim {
        Some(signer) if changed || signer.sign_all() => match signer.sign(message) {
            Ok(Some(m)) => {
                signed = m;
                &signed[..]
            }
            Ok(None) => {
                tracing::debug!(queue_id = %envelope.id, "From is outside the DKIM domain: not signed");
                message
            }
            Err(e) => {
                tracing::warn!(queue_id = %envelope.id, error = %e, "sent without the gateway's DKIM signature");
                message
            }
        },
        _ => message,
    };
    let limit = {
        let mut map = shared.per_destination.lock().expect("destination limits");
        map.entry(dest.key.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(cfg.delivery.per_destination)))
            .clone()
    };
    let _slot = limit
        .acquire()
        .await
        .expect("destination semaphore never closes");
    let rcpts: Vec<String> = idx.iter().map(|&i| envelope.rcpt_to[i].clone()).collect();
    let job = Job {
        helo: &cfg.server.hostname,
        from: &envelope.mail_from,
        rcpts: &rcpts,
        message,
        eight_bit: envelope.body_type == crate::spool::BodyType::EightBitMime,
        smtputf8: envelope.smtputf8,
        requiretls: envelope.requiretls,
        offer_requiretls: cfg.tls.requiretls_for_phi && envelope.phi.unwrap_or(true),
        mx: kind == "mx",
        required: plan.required,
        auth,
        connect_timeout: cfg.delivery.connect_timeout,
        command_timeout: cfg.delivery.command_timeout,
    };
    // MTA-STS (RFC 8461) for MX delivery at `secure` and `mta-sts`: an
    // enforced policy names the MX hosts that may have the message.
    let level = plan.required.level();
    let published = match plan.domain.as_deref() {
        Some(domain) if kind == "mx" && (level >= TlsLevel::Secure || envelope.requiretls) => {
            live.sts.published(&live.router, domain).await
        }
        _ => Published::Nothing,
    };
    // DANE (RFC 7672) first: a DNSSEC-secure MX answer and TLSA records.
    let dane = match (&live.dane, plan.domain.as_deref()) {
        (Some(d), Some(domain))
            if kind == "mx" && matches!(level, TlsLevel::Secure | TlsLevel::Dane) =>
        {
            d.lookup(domain, &dane::hosts(&dest.hops), dane::port_of(&dest.hops))
                .await
        }
        _ => Found::Insecure,
    };
    // Nothing sent: `policy` when no hop can meet the requirement (PHI is
    // rerouted or held), not when DNS must be asked again later.
    let stopped =
        |class, policy| temporary(idx, &Failure::ours(Stage::Policy, class, false), policy);
    if dane == Found::Bogus {
        // Never a bounce, never less: wait for DNS to validate again.
        tracing::warn!(queue_id = %envelope.id, "DNSSEC validation failed for the MX or TLSA answer");
        return stopped(Class::DnssecBogus, false);
    }
    if level == TlsLevel::Dane && !dane.any() {
        tracing::info!(queue_id = %envelope.id, "level dane and no DNSSEC-secure TLSA records");
        return stopped(Class::DaneMissing, true);
    }
    if level == TlsLevel::MtaSts && !matches!(published, Published::Enforce(_)) {
        tracing::info!(queue_id = %envelope.id, "level mta-sts and the domain has no policy in enforce mode");
        return stopped(Class::MtaStsMissing, true);
    }
    let mut last = None;
    let mut unlisted = 0;
    for hop in &dest.hops {
        if is_self(hop, &cfg.server.hostname, &shared.own_addrs) {
            // Delivering to ourselves would loop (an MX pointing back here):
            // bounce now rather than relay the message to itself forever.
            shared.metrics.loops_total.inc();
            tracing::warn!(queue_id = %envelope.id, host = %hop.name, addr = %hop.addr, "next hop is this gateway: mail loop");
            let f = Failure::ours(Stage::Policy, Class::MailLoop, true);
            return idx.iter().map(|_| Outcome::Permanent(f.clone())).collect();
        }
        let tlsa = dane.tlsa(&hop.name).to_vec();
        let approval = published.approve(&hop.name);
        if tlsa.is_empty() && matches!(published, Published::Enforce(_)) && approval.is_none() {
            // An MX the domain's policy does not list (a spoofed MX answer,
            // or a stale one): it gets nothing.
            unlisted += 1;
            tracing::warn!(queue_id = %envelope.id, host = %hop.name, "MX host not listed by the domain's MTA-STS policy: skipped");
            if let Some(domain) = plan.domain.as_deref() {
                let s = tls_session(domain, &HopAuth::default(), &published, hop, None);
                if let Some(s) = s {
                    shared.tlsrpt.record(&s, now()).await;
                }
            }
            continue;
        }
        let hop_auth = HopAuth {
            mta_sts: approval,
            tlsa,
        };
        let attempt = client::deliver(hop, &job, &hop_auth, &live.trust, &shared.pool).await;
        if kind == "mx"
            && let Some(domain) = plan.domain.as_deref()
            && let Some(s) = tls_session(domain, &hop_auth, &published, hop, Some(&attempt))
        {
            shared.tlsrpt.record(&s, now()).await;
        }
        let sts = sts_note(&published, &hop.name);
        let auth = mechanism(&hop_auth, &attempt);
        log_attempt(envelope.id, level.as_str(), &attempt, auth, sts.as_deref());
        count_attempt(&shared.metrics, kind, &attempt);
        shared
            .metrics
            .delivery_auth_total
            .with_label_values(&[auth])
            .inc();
        let mut event = attempt_event(envelope, &rcpts, kind, level, &attempt);
        if let Event::Attempt(a) = &mut event {
            a.smime = plan.smime.as_ref().map(|c| {
                let algorithms = cfg.smime.algorithms(plan.domain.as_deref().unwrap_or(""));
                format!("{} {}", smime::method(&c.0, algorithms), c.0.sha256)
            });
            a.tls_auth = Some(auth.to_string());
            a.mta_sts = sts;
            a.dane = attempt.tls.as_ref().and_then(|t| t.dane.clone());
        }
        events.push(event);
        let failed_to_connect = attempt.connection_failed;
        last = Some(attempt);
        if !failed_to_connect {
            break;
        }
    }
    let Some(attempt) = last else {
        if unlisted > 0 {
            return stopped(Class::MtaStsUnlisted, true);
        }
        let failure = Failure::ours(Stage::Dns, Class::NoRoute, false);
        return temporary(idx, &failure, false);
    };
    let policy = attempt.refusal.is_some();
    attempt
        .results
        .into_iter()
        .map(|r| match r {
            RcptResult::Delivered(reply) => Outcome::Delivered(reply),
            RcptResult::Permanent(f) => Outcome::Permanent(f),
            RcptResult::Temporary(failure) => Outcome::Temporary { failure, policy },
        })
        .collect()
}

/// The same temporary outcome for every recipient of a group.
fn temporary(idx: &[usize], failure: &Failure, policy: bool) -> Vec<Outcome> {
    idx.iter()
        .map(|_| Outcome::Temporary {
            failure: failure.clone(),
            policy,
        })
        .collect()
}

/// Whether `hop` is one of our own listeners (or carries our host name).
pub(super) fn is_self(hop: &client::Hop, hostname: &str, own: &[std::net::SocketAddr]) -> bool {
    if hop.name.eq_ignore_ascii_case(hostname) {
        return true;
    }
    let ip = phigate_config::canonical_ip(hop.addr.ip());
    own.iter().any(|l| {
        l.port() == hop.addr.port()
            && (phigate_config::canonical_ip(l.ip()) == ip
                || (l.ip().is_unspecified() && (ip.is_loopback() || ip.is_unspecified())))
    })
}

pub(super) fn count_attempt(m: &Metrics, route: &str, a: &client::Attempt) {
    let tls = a.tls.as_ref();
    let result = if a.refusal.is_some() {
        "policy_refused"
    } else if a.connection_failed {
        "connect_failed"
    } else if a
        .results
        .iter()
        .any(|r| matches!(r, RcptResult::Delivered(_)))
    {
        "delivered"
    } else {
        "failed"
    };
    m.delivery_attempts_total
        .with_label_values(&[
            route,
            tls.map_or("none", |t| t.version.as_str()),
            if tls.is_some_and(|t| t.verified) {
                "true"
            } else {
                "false"
            },
            result,
        ])
        .inc();
}

pub(super) fn outcome_words(a: &client::Attempt) -> Vec<String> {
    a.results
        .iter()
        .map(|r| {
            match r {
                RcptResult::Delivered(_) => "delivered",
                RcptResult::Permanent(_) => "permanent",
                RcptResult::Temporary(_) => "temporary",
            }
            .to_string()
        })
        .collect()
}

pub(super) fn attempt_event(
    envelope: &Envelope,
    rcpts: &[String],
    route: &str,
    required: TlsLevel,
    a: &client::Attempt,
) -> Event {
    let tls = a.tls.as_ref();
    Event::Attempt(event::Attempt {
        queue_id: envelope.id.to_string(),
        recipients: rcpts.to_vec(),
        route: route.to_string(),
        host: a.hop.name.clone(),
        addr: a.hop.addr.to_string(),
        tls_required: required.as_str().to_string(),
        tls_version: tls.map(|t| t.version.clone()),
        tls_cipher: tls.map(|t| t.cipher.clone()),
        cert_verified: tls.is_some_and(|t| t.verified),
        cert_sha256: tls.map(|t| t.fingerprint.clone()),
        policy_refused: a.refusal.is_some(),
        outcomes: outcome_words(a),
        duration_ms: a.duration.as_millis() as u64,
        tls_auth: None,
        mta_sts: None,
        dane: None,
        smime: None,
    })
}

/// What authenticated the next hop of an attempt, for the audit record
/// and the metric.
pub(super) fn mechanism(auth: &HopAuth, a: &client::Attempt) -> &'static str {
    match &a.tls {
        Some(t) if t.verified && t.dane.is_some() => "dane",
        Some(t) if t.verified && auth.mta_sts.is_some() => "mta-sts",
        Some(t) if t.verified => "verify",
        Some(_) => "encrypt",
        None => "none",
    }
}

/// One TLS session (or a refusal before one) for the domain's TLS report;
/// `None` when no TLS was tried and none was required (not a TLS session).
fn tls_session(
    domain: &str,
    auth: &HopAuth,
    published: &Published,
    hop: &client::Hop,
    attempt: Option<&client::Attempt>,
) -> Option<Session> {
    let (policy_type, policy_string) = if !auth.tlsa.is_empty() {
        let records = auth
            .tlsa
            .iter()
            .map(|t| {
                let hex: String = t.data.iter().map(|b| format!("{b:02x}")).collect();
                format!("{} {hex}", t.params())
            })
            .collect();
        ("tlsa", records)
    } else {
        match published {
            Published::Enforce(p) | Published::Testing(p) => ("sts", p.lines()),
            Published::Nothing => ("no-policy-found", Vec::new()),
        }
    };
    let failure = match attempt {
        // Skipped: an MX host the enforced policy does not list.
        None => Some("validation-failure"),
        Some(a) => {
            let refused = a
                .refusal
                .as_ref()
                .and_then(|r| tlsrpt::result_type(r.failure().class));
            // Testing mode: delivered, but a host the policy would refuse.
            let unlisted = matches!(published, Published::Testing(p) if !p.allows(&hop.name));
            if a.tls.is_none() && refused.is_none() {
                return None;
            }
            refused.or(unlisted.then_some("validation-failure"))
        }
    };
    Some(Session {
        domain: domain.to_string(),
        policy_type: policy_type.to_string(),
        policy_string,
        mx_host: hop.name.clone(),
        receiving_ip: hop.addr.ip().to_string(),
        failure: failure.map(str::to_string),
    })
}

/// The domain's MTA-STS policy as it bore on `host`, for the records.
fn sts_note(published: &Published, host: &str) -> Option<String> {
    match published {
        Published::Nothing => None,
        Published::Enforce(p) => Some(format!("enforce {}", p.id)),
        Published::Testing(p) if p.allows(host) => Some(format!("testing {}", p.id)),
        Published::Testing(p) => Some(format!("testing {} unlisted", p.id)),
    }
}

/// One event per attempt, with what the audit record holds. Replies are
/// logged by code only: their text may quote an address.
pub(super) fn log_attempt(
    id: QueueId,
    required: &str,
    a: &client::Attempt,
    auth: &str,
    mta_sts: Option<&str>,
) {
    let tls = a.tls.as_ref();
    tracing::info!(
        queue_id = %id,
        host = %a.hop.name,
        ip = %a.hop.addr.ip(),
        port = a.hop.addr.port(),
        tls_required = required,
        tls_version = tls.map_or("none", |t| t.version.as_str()),
        tls_cipher = tls.map_or("", |t| t.cipher.as_str()),
        cert_verified = tls.is_some_and(|t| t.verified),
        cert_subject = tls.map_or("", |t| t.subject.as_str()),
        cert_sha256 = tls.map_or("", |t| t.fingerprint.as_str()),
        policy_refused = a.refusal.is_some(),
        tls_auth = auth,
        mta_sts = mta_sts.unwrap_or(""),
        outcomes = ?outcome_words(a),
        duration_ms = a.duration.as_millis() as u64,
        "delivery attempt"
    );
}

/// Sends a DSN for recipients bounced in this round (never to `<>`),
/// through the outbox: inspected, decided and audited like any message.
pub(super) async fn send_dsn(ctx: &Context<'_>, envelope: &Envelope, updates: &[StatusUpdate]) {
    if envelope.mail_from.is_empty() {
        return;
    }
    let failed: Vec<dsn::Failed<'_>> = updates
        .iter()
        .filter_map(|u| match &u.state {
            RcptState::Bounced { reason, why, .. } => Some(dsn::Failed {
                rcpt: &envelope.rcpt_to[u.rcpt as usize],
                reason,
                why: why.as_ref(),
            }),
            _ => None,
        })
        .collect();
    if failed.is_empty() {
        return;
    }
    let id = ctx.spool.next_id();
    let body = dsn::build(ctx.hostname, envelope, &failed, id, now());
    if crate::outbox::send(ctx, envelope, crate::outbox::Kind::Dsn, id, body)
        .await
        .is_some()
    {
        tracing::info!(queue_id = %id, original = %envelope.id, recipients = failed.len(), "DSN queued");
    }
}
