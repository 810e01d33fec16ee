//! The queue manager: takes waiting messages from the spool (also after a
//! restart), delivers each recipient through its destination under the TLS
//! policy, and records every outcome durably before acting on it, so a
//! crash may repeat a delivery but never lose a recipient.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use phigate_config::Config;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use super::client::{self, Job, RcptResult};
use super::dsn;
use super::route::{RouteError, Router};
use super::tls::Trust;
use crate::spool::{Envelope, QueueId, RcptState, Spool, StatusUpdate};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Tells the queue manager about newly spooled messages.
#[derive(Clone, Debug)]
pub struct QueueHandle {
    tx: mpsc::UnboundedSender<QueueId>,
}

impl QueueHandle {
    /// A message was spooled and is ready for delivery.
    pub fn notify(&self, id: QueueId) {
        let _ = self.tx.send(id);
    }
}

struct Shared {
    spool: Spool,
    config: Arc<Config>,
    router: Router,
    trust: Trust,
    handle: QueueHandle,
    per_destination: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Open sessions to next hops, reused between messages.
    pool: client::Pool,
}

/// The queue manager's inbox: the handle for sessions, the receiver for
/// [`spawn`].
pub fn channel() -> (QueueHandle, mpsc::UnboundedReceiver<QueueId>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (QueueHandle { tx }, rx)
}

/// Loads the trust anchors for outbound TLS (done at start so that a bad
/// `ca_file` stops the gateway instead of every delivery).
pub fn trust(config: &Config) -> Result<Trust, String> {
    Trust::load(config.tls.ca_file.as_deref())
}

/// Starts the queue manager; it runs until `shutdown` turns true.
pub fn spawn(
    spool: Spool,
    config: Arc<Config>,
    trust: Trust,
    (handle, rx): (QueueHandle, mpsc::UnboundedReceiver<QueueId>),
    shutdown: watch::Receiver<bool>,
) {
    let shared = Arc::new(Shared {
        router: Router::new(config.delivery.clone()),
        spool,
        config,
        trust,
        handle: handle.clone(),
        per_destination: Mutex::new(HashMap::new()),
        pool: client::Pool::default(),
    });
    tokio::spawn(run(shared, rx, shutdown));
}

/// When each waiting message is next due.
/// Waiting messages in order of when they are next due. A message being
/// delivered is out of the schedule until its attempt returns.
#[derive(Default)]
struct Schedule {
    order: BTreeSet<(u64, QueueId)>,
    due: HashMap<QueueId, u64>,
}

impl Schedule {
    fn set(&mut self, id: QueueId, t: u64) {
        if let Some(old) = self.due.insert(id, t) {
            self.order.remove(&(old, id));
        }
        self.order.insert((t, id));
    }

    /// The next message due by `now`, taken out of the schedule.
    fn pop_ready(&mut self, now: u64) -> Option<QueueId> {
        let &(t, id) = self.order.first()?;
        if t > now {
            return None;
        }
        self.order.pop_first();
        self.due.remove(&id);
        Some(id)
    }

    fn next(&self) -> Option<u64> {
        self.order.first().map(|(t, _)| *t)
    }
}

async fn run(
    shared: Arc<Shared>,
    mut rx: mpsc::UnboundedReceiver<QueueId>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut schedule = Schedule::default();
    // Recipient states of waiting messages; a message not here is all Pending.
    let mut states: HashMap<QueueId, Vec<RcptState>> = HashMap::new();
    // Reading every segment is blocking work: off the async threads.
    let dir = shared.spool.dir().to_path_buf();
    let found = tokio::task::spawn_blocking(move || crate::spool::scan(&dir, false))
        .await
        .unwrap_or(Err(crate::spool::SpoolError::Closed));
    match found {
        Ok(found) => {
            for m in found.messages {
                if let Some(t) = next_due(&m.rcpts) {
                    schedule.set(m.envelope.id, t);
                    states.insert(m.envelope.id, m.rcpts);
                }
            }
            tracing::info!(waiting = schedule.due.len(), "queue manager started");
        }
        Err(e) => tracing::error!(error = %e, "queue manager could not read the spool"),
    }
    let global = Arc::new(Semaphore::new(shared.config.delivery.concurrency));
    let mut in_flight: HashSet<QueueId> = HashSet::new();
    // Which message each task delivers, so a task that fails still frees it.
    let mut task_of: HashMap<tokio::task::Id, QueueId> = HashMap::new();
    let mut tasks: JoinSet<(QueueId, Option<u64>, Vec<RcptState>)> = JoinSet::new();
    loop {
        while global.available_permits() > 0 {
            let Some(id) = schedule.pop_ready(now()) else {
                break;
            };
            let permit = global
                .clone()
                .try_acquire_owned()
                .expect("a permit is available");
            in_flight.insert(id);
            let shared = shared.clone();
            let known = states.get(&id).cloned();
            let handle = tasks.spawn(async move {
                let (next, now_states) = deliver_message(&shared, id, known).await;
                drop(permit);
                (id, next, now_states)
            });
            task_of.insert(handle.id(), id);
        }
        let sleep_for = schedule.next().map_or(Duration::from_secs(60), |t| {
            Duration::from_secs(t.saturating_sub(now()).clamp(1, 60))
        });
        tokio::select! {
            Some(id) = rx.recv() => {
                if !in_flight.contains(&id) {
                    schedule.set(id, now());
                }
            }
            Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => match done {
                Ok((task, (id, next, now_states))) => {
                    task_of.remove(&task);
                    in_flight.remove(&id);
                    match next {
                        Some(t) => {
                            schedule.set(id, t);
                            states.insert(id, now_states);
                        }
                        None => {
                            states.remove(&id);
                        }
                    }
                }
                Err(e) => {
                    if let Some(id) = task_of.remove(&e.id()) {
                        tracing::error!(queue_id = %id, error = %e, "delivery task failed; retrying in a minute");
                        in_flight.remove(&id);
                        schedule.set(id, now() + 60);
                    }
                }
            },
            _ = tokio::time::sleep(sleep_for) => {}
            _ = shutdown.wait_for(|s| *s) => {
                tracing::info!(in_flight = in_flight.len(), "queue manager stopping");
                tasks.abort_all();
                return;
            }
        }
    }
}

/// The earliest time something must happen to a message; `None` when all
/// its recipients are settled.
fn next_due(rcpts: &[RcptState]) -> Option<u64> {
    rcpts
        .iter()
        .filter_map(|r| match r {
            RcptState::Pending => Some(0),
            RcptState::Deferred { next_attempt, .. } => Some(*next_attempt),
            _ => None,
        })
        .min()
}

/// Delivers the due recipients of one message; returns when it is next
/// due (`None`: it has left the queue) and its recipients' states.
async fn deliver_message(
    shared: &Shared,
    id: QueueId,
    known: Option<Vec<RcptState>>,
) -> (Option<u64>, Vec<RcptState>) {
    let (envelope, message) = match shared.spool.read(id).await {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(queue_id = %id, error = %e, "cannot read message for delivery");
            return (None, Vec::new());
        }
    };
    let mut rcpts = known
        .filter(|k| k.len() == envelope.rcpt_to.len())
        .unwrap_or_else(|| vec![RcptState::Pending; envelope.rcpt_to.len()]);
    let t = now();
    let due: Vec<usize> = (0..rcpts.len())
        .filter(|&i| match &rcpts[i] {
            RcptState::Pending => true,
            RcptState::Deferred { next_attempt, .. } => *next_attempt <= t,
            _ => false,
        })
        .collect();
    // Group due recipients by domain; each domain is one destination.
    let mut by_domain: Vec<(String, Vec<usize>)> = Vec::new();
    for i in due {
        let domain = envelope.rcpt_to[i]
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
            .unwrap_or_default();
        match by_domain.iter_mut().find(|(d, _)| *d == domain) {
            Some((_, v)) => v.push(i),
            None => by_domain.push((domain, vec![i])),
        }
    }
    let mut updates = Vec::new();
    for (domain, idx) in by_domain {
        let results = deliver_group(shared, &envelope, &message, &domain, &idx).await;
        for (i, result) in idx.iter().zip(results) {
            let state = next_state(shared, &envelope, &rcpts[*i], result);
            rcpts[*i] = state.clone();
            updates.push(StatusUpdate {
                rcpt: *i as u32,
                state,
            });
        }
    }
    send_dsn(shared, &envelope, &updates).await;
    if let Err(e) = shared.spool.update(id, &updates).await {
        tracing::error!(queue_id = %id, error = %e, "could not record delivery outcomes; will retry");
        return (Some(now() + 60), rcpts);
    }
    match next_due(&rcpts) {
        None => {
            if let Err(e) = shared.spool.complete(id).await {
                tracing::error!(queue_id = %id, error = %e, "could not mark message done");
            }
            tracing::info!(queue_id = %id, "message left the queue");
            (None, rcpts)
        }
        some => (some, rcpts),
    }
}

/// Outcome of one recipient's attempt.
enum Outcome {
    Delivered(String),
    Permanent(String),
    Temporary { reason: String, policy: bool },
}

async fn deliver_group(
    shared: &Shared,
    envelope: &Envelope,
    message: &[u8],
    domain: &str,
    idx: &[usize],
) -> Vec<Outcome> {
    let dest = match shared.router.route(domain).await {
        Ok(d) => d,
        Err(RouteError::Permanent(m)) => {
            return idx.iter().map(|_| Outcome::Permanent(m.clone())).collect();
        }
        Err(RouteError::Temporary(m)) => {
            return idx
                .iter()
                .map(|_| Outcome::Temporary {
                    reason: format!("DNS: {m}"),
                    policy: false,
                })
                .collect();
        }
    };
    let limit = {
        let mut map = shared.per_destination.lock().expect("destination limits");
        map.entry(dest.key.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(shared.config.delivery.per_destination)))
            .clone()
    };
    let _slot = limit
        .acquire()
        .await
        .expect("destination semaphore never closes");
    // Unknown PHI status is PHI: fail closed.
    let phi = envelope.phi.unwrap_or(true);
    let cfg = &shared.config;
    let required = cfg.tls.required(domain, phi);
    let rcpts: Vec<String> = idx.iter().map(|&i| envelope.rcpt_to[i].clone()).collect();
    let auth = if dest.smarthost {
        cfg.delivery
            .relay_auth
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    } else {
        None
    };
    let job = Job {
        helo: &cfg.server.hostname,
        from: &envelope.mail_from,
        rcpts: &rcpts,
        message,
        eight_bit: envelope.body_type == crate::smtp::command::BodyType::EightBitMime,
        smtputf8: envelope.smtputf8,
        required,
        auth,
        connect_timeout: cfg.delivery.connect_timeout,
        command_timeout: cfg.delivery.command_timeout,
    };
    let mut last = None;
    for hop in &dest.hops {
        let attempt = client::deliver(hop, &job, &shared.trust, &shared.pool).await;
        log_attempt(envelope.id, phi, required.as_str(), &attempt);
        let failed_to_connect = attempt.connection_failed;
        last = Some(attempt);
        if !failed_to_connect {
            break;
        }
    }
    let Some(attempt) = last else {
        return idx
            .iter()
            .map(|_| Outcome::Temporary {
                reason: "no host to deliver to".into(),
                policy: false,
            })
            .collect();
    };
    let policy = attempt.refusal.is_some();
    attempt
        .results
        .into_iter()
        .map(|r| match r {
            RcptResult::Delivered(reply) => Outcome::Delivered(reply),
            RcptResult::Permanent(reply) => Outcome::Permanent(reply),
            RcptResult::Temporary(reason) => Outcome::Temporary { reason, policy },
        })
        .collect()
}

/// One event per attempt, with what the audit record will need. Replies
/// are logged by code only: their text may quote an address.
fn log_attempt(id: QueueId, phi: bool, required: &str, a: &client::Attempt) {
    let codes: Vec<&str> = a
        .results
        .iter()
        .map(|r| match r {
            RcptResult::Delivered(_) => "delivered",
            RcptResult::Permanent(_) => "permanent",
            RcptResult::Temporary(_) => "temporary",
        })
        .collect();
    let tls = a.tls.as_ref();
    tracing::info!(
        queue_id = %id,
        host = %a.hop.name,
        ip = %a.hop.addr.ip(),
        port = a.hop.addr.port(),
        phi,
        tls_required = required,
        tls_version = tls.map_or("none", |t| t.version.as_str()),
        tls_cipher = tls.map_or("", |t| t.cipher.as_str()),
        cert_verified = tls.is_some_and(|t| t.verified),
        cert_subject = tls.map_or("", |t| t.subject.as_str()),
        cert_sha256 = tls.map_or("", |t| t.fingerprint.as_str()),
        policy_refused = a.refusal.is_some(),
        outcomes = ?codes,
        duration_ms = a.duration.as_millis() as u64,
        "delivery attempt"
    );
}

fn next_state(
    shared: &Shared,
    envelope: &Envelope,
    before: &RcptState,
    outcome: Outcome,
) -> RcptState {
    let t = now();
    match outcome {
        Outcome::Delivered(reply) => RcptState::Delivered { at: t, reply },
        Outcome::Permanent(reason) => RcptState::Bounced { at: t, reason },
        Outcome::Temporary { reason, policy } => {
            let retry = &shared.config.delivery.retry;
            let attempts = match before {
                RcptState::Deferred { attempts, .. } => attempts + 1,
                _ => 1,
            };
            let age = t.saturating_sub(envelope.received_at);
            if age >= retry.give_up_after.as_secs() {
                let reason = if policy {
                    dsn::TLS_POLICY_REASON.to_string()
                } else {
                    format!("gave up after {} days: {reason}", age / 86_400)
                };
                return RcptState::Bounced { at: t, reason };
            }
            let backoff = retry
                .initial
                .as_secs()
                .saturating_mul(1u64 << (attempts - 1).min(20))
                .min(retry.max.as_secs());
            RcptState::Deferred {
                attempts,
                next_attempt: t + backoff.max(1),
                last: reason,
            }
        }
    }
}

/// Spools a DSN for recipients bounced in this round (never to `<>`).
async fn send_dsn(shared: &Shared, envelope: &Envelope, updates: &[StatusUpdate]) {
    if envelope.mail_from.is_empty() {
        return;
    }
    let failed: Vec<dsn::Failed<'_>> = updates
        .iter()
        .filter_map(|u| match &u.state {
            RcptState::Bounced { reason, .. } => Some(dsn::Failed {
                rcpt: &envelope.rcpt_to[u.rcpt as usize],
                reason,
            }),
            _ => None,
        })
        .collect();
    if failed.is_empty() {
        return;
    }
    let id = shared.spool.next_id();
    let t = now();
    let body = dsn::build(&shared.config.server.hostname, envelope, &failed, id, t);
    let dsn_env = Envelope {
        id,
        received_at: t,
        client_ip: std::net::IpAddr::from([127, 0, 0, 1]),
        helo: shared.config.server.hostname.clone(),
        mail_from: String::new(),
        rcpt_to: vec![envelope.mail_from.clone()],
        body_type: Default::default(),
        smtputf8: envelope.smtputf8,
        tls: None,
        auth_user: None,
        size: body.len() as u64,
        // The report quotes no content: no PHI.
        phi: Some(false),
    };
    match shared.spool.append(&dsn_env, &[&body]).await {
        Ok(()) => {
            tracing::info!(queue_id = %id, original = %envelope.id, recipients = failed.len(), "DSN queued");
            shared.handle.notify(id);
        }
        Err(e) => tracing::error!(original = %envelope.id, error = %e, "could not queue a DSN"),
    }
}
