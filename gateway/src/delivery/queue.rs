//! The queue manager: takes waiting messages from the spool (also after a
//! restart), delivers each recipient through its destination under the TLS
//! policy, and records every outcome durably before acting on it, so a
//! crash may repeat a delivery but never lose a recipient.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use phigate_config::Config;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use phigate_config::{Action, TlsLevel};
use tokio::sync::oneshot;

use super::client::{self, Job, RcptResult};
use super::encrypt::{Encryptor, Via};
use super::notice::{self, Reason};
use super::route::{Destination, RouteError, Router};
use super::tls::Trust;
use super::{Context, dsn, rewrite};
use crate::audit::{Audit, Event, event};
use crate::metrics::Metrics;
use crate::policy::domain_of;
use crate::spool::{Envelope, QueueId, RcptState, Spool, StatusUpdate};

use crate::date::now;

/// What the queue manager is told.
#[derive(Debug)]
pub enum Command {
    /// A message was spooled and is ready for delivery.
    New(QueueId),
    /// An administrator releases or deletes a held message.
    Quarantine {
        /// The message.
        id: QueueId,
        /// Release (deliver it) or delete it.
        op: QuarantineOp,
        /// Who asked.
        by: String,
        /// The recipients affected, or why nothing was done.
        reply: oneshot::Sender<Result<Vec<String>, String>>,
    },
    /// The configuration was reloaded: deliveries from now on use this.
    Reload(Arc<Live>),
}

/// What an administrator does with a held message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuarantineOp {
    /// Deliver it, under verified TLS if it carries PHI (never plaintext).
    Release,
    /// Drop it; the sender is not told.
    Delete,
}

impl QuarantineOp {
    fn as_str(self) -> &'static str {
        match self {
            QuarantineOp::Release => "release",
            QuarantineOp::Delete => "delete",
        }
    }
}

/// Tells the queue manager about newly spooled messages and quarantine
/// decisions.
#[derive(Clone, Debug)]
pub struct QueueHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl QueueHandle {
    /// A message was spooled and is ready for delivery.
    pub fn notify(&self, id: QueueId) {
        let _ = self.tx.send(Command::New(id));
    }

    /// Delivery rounds starting from now use `live`.
    pub fn reload(&self, live: Live) {
        let _ = self.tx.send(Command::Reload(Arc::new(live)));
    }

    /// Releases or deletes the held recipients of `id`; the recipients
    /// affected.
    pub async fn quarantine(
        &self,
        id: QueueId,
        op: QuarantineOp,
        by: &str,
    ) -> Result<Vec<String>, String> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(Command::Quarantine {
                id,
                op,
                by: by.to_string(),
                reply,
            })
            .map_err(|_| "the queue manager has stopped".to_string())?;
        wait.await
            .map_err(|_| "the queue manager has stopped".to_string())?
    }
}

struct Shared {
    spool: Spool,
    audit: Audit,
    metrics: Arc<Metrics>,
    /// What a reload can change; each delivery round takes the version in
    /// force when it starts.
    live: std::sync::RwLock<Arc<Live>>,
    handle: QueueHandle,
    per_destination: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Open sessions to next hops, reused between messages.
    pool: client::Pool,
    /// The addresses our SMTP listeners are bound to: never a next hop.
    own_addrs: Vec<std::net::SocketAddr>,
}

impl Shared {
    fn live(&self) -> Arc<Live> {
        self.live.read().expect("live delivery config").clone()
    }
}

/// Delivery's part of the configuration, built once per (re)load.
pub struct Live {
    config: Arc<Config>,
    router: Router,
    encryptor: Option<Encryptor>,
    trust: Trust,
    /// The detectors, for what the gateway writes (DSNs, notices).
    engine: Arc<phigate_detectors::Engine>,
    /// The policy, for what the gateway writes.
    policy: crate::policy::Policy,
}

impl Live {
    /// Builds routing, the encrypted route and trust anchors from `config`
    /// (a bad `ca_file` is an error here, not in every delivery); `engine`
    /// is the relay's, shared.
    pub fn new(
        config: Arc<Config>,
        engine: Arc<phigate_detectors::Engine>,
    ) -> Result<Live, String> {
        Ok(Live {
            router: Router::new(config.delivery.clone()),
            encryptor: config.encryption.as_ref().map(Encryptor::new),
            trust: Trust::load(config.tls.ca_file.as_deref())?,
            policy: crate::policy::Policy::new(config.policy.clone(), config.encryption.is_some()),
            engine,
            config,
        })
    }
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("delivery::Live")
    }
}

/// The queue manager's inbox: the handle for sessions, the receiver for
/// [`spawn`].
pub fn channel() -> (QueueHandle, mpsc::UnboundedReceiver<Command>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (QueueHandle { tx }, rx)
}

/// Starts the queue manager; it runs until `shutdown` turns true.
pub fn spawn(
    spool: Spool,
    audit: Audit,
    metrics: Arc<Metrics>,
    live: Live,
    (handle, rx): (QueueHandle, mpsc::UnboundedReceiver<Command>),
    shutdown: watch::Receiver<bool>,
    own_addrs: Vec<std::net::SocketAddr>,
) {
    let shared = Arc::new(Shared {
        spool,
        audit,
        metrics,
        live: std::sync::RwLock::new(Arc::new(live)),
        handle: handle.clone(),
        per_destination: Mutex::new(HashMap::new()),
        pool: client::Pool::default(),
        own_addrs,
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

/// Where each recipient of a waiting message stands, and its action.
#[derive(Debug, Clone)]
struct Known {
    states: Vec<RcptState>,
    actions: Vec<Action>,
    /// When the message was received, for the queue-age gauge.
    received_at: u64,
}

/// What a delivery round leaves: when the message is next due (`None`:
/// nothing is due, it waits for an administrator or has left the queue),
/// and its recipients.
struct Round {
    next: Option<u64>,
    known: Known,
    finished: bool,
}

async fn run(
    shared: Arc<Shared>,
    mut rx: mpsc::UnboundedReceiver<Command>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut schedule = Schedule::default();
    // Every waiting message's recipients, held ones included.
    let mut known: HashMap<QueueId, Known> = HashMap::new();
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
                }
                known.insert(
                    m.envelope.id,
                    Known {
                        states: m.rcpts,
                        actions: m.actions,
                        received_at: m.envelope.received_at,
                    },
                );
            }
            tracing::info!(
                waiting = known.len(),
                due = schedule.due.len(),
                "queue manager started"
            );
        }
        Err(e) => tracing::error!(error = %e, "queue manager could not read the spool"),
    }
    let global = Arc::new(Semaphore::new(shared.live().config.delivery.concurrency));
    let mut in_flight: HashSet<QueueId> = HashSet::new();
    // Which message each task delivers, so a task that fails still frees it.
    let mut task_of: HashMap<tokio::task::Id, QueueId> = HashMap::new();
    let mut tasks: JoinSet<(QueueId, Round)> = JoinSet::new();
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
            let before = known.get(&id).cloned();
            let handle = tasks.spawn(async move {
                let round = deliver_message(&shared, id, before).await;
                drop(permit);
                (id, round)
            });
            task_of.insert(handle.id(), id);
        }
        set_gauges(&shared.metrics, &known);
        let sleep_for = schedule.next().map_or(Duration::from_secs(60), |t| {
            Duration::from_secs(t.saturating_sub(now()).clamp(1, 60))
        });
        let wake = tokio::select! {
            Some(cmd) = rx.recv() => Wake::Command(cmd),
            Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => Wake::Finished(done),
            _ = tokio::time::sleep(sleep_for) => continue,
            _ = shutdown.wait_for(|s| *s) => Wake::Stop,
        };
        match wake {
            Wake::Command(Command::Reload(live)) => {
                *shared.live.write().expect("live delivery config") = live;
                tracing::info!("delivery configuration reloaded");
            }
            Wake::Command(Command::New(id)) => {
                if !in_flight.contains(&id) {
                    schedule.set(id, now());
                }
            }
            Wake::Command(Command::Quarantine { id, op, by, reply }) => {
                let r = if in_flight.contains(&id) {
                    Err(format!(
                        "message {id} is being delivered right now; try again"
                    ))
                } else {
                    quarantine(&shared, id, op, &by, &mut known).await
                };
                if r.is_ok() {
                    let k = known.get(&id).expect("quarantine keeps the message");
                    if let Some(t) = next_due(&k.states) {
                        schedule.set(id, t);
                    } else if k.states.iter().all(RcptState::is_final) {
                        known.remove(&id);
                        if let Err(e) = shared.spool.complete(id).await {
                            tracing::error!(queue_id = %id, error = %e, "could not mark message done");
                        }
                    }
                }
                let _ = reply.send(r);
            }
            Wake::Finished(Ok((task, (id, round)))) => {
                task_of.remove(&task);
                in_flight.remove(&id);
                if round.finished {
                    known.remove(&id);
                } else {
                    if let Some(t) = round.next {
                        schedule.set(id, t);
                    }
                    known.insert(id, round.known);
                }
            }
            Wake::Finished(Err(e)) => {
                if let Some(id) = task_of.remove(&e.id()) {
                    tracing::error!(queue_id = %id, error = %e, "delivery task failed; retrying in a minute");
                    in_flight.remove(&id);
                    schedule.set(id, now() + 60);
                }
            }
            Wake::Stop => {
                tracing::info!(in_flight = in_flight.len(), "queue manager stopping");
                tasks.abort_all();
                return;
            }
        }
    }
}

/// Queue size, age of the oldest waiting message, messages held.
fn set_gauges(m: &Metrics, known: &HashMap<QueueId, Known>) {
    m.queue_messages.set(known.len() as i64);
    let held = known
        .values()
        .filter(|k| k.states.iter().any(|s| matches!(s, RcptState::Held { .. })))
        .count();
    m.quarantine_messages.set(held as i64);
    let oldest = known
        .values()
        .filter(|k| next_due(&k.states).is_some())
        .map(|k| k.received_at)
        .min();
    m.queue_oldest_age_seconds
        .set(oldest.map_or(0, |t| now().saturating_sub(t)) as i64);
}

/// What woke the queue manager.
enum Wake {
    Command(Command),
    Finished(Result<(tokio::task::Id, (QueueId, Round)), tokio::task::JoinError>),
    Stop,
}

/// The earliest time something must happen to a message; `None` when no
/// recipient is waiting for delivery (all settled, or held).
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

/// Releases or deletes the held recipients of `id`: audited, then recorded
/// in the spool, then in `known`.
async fn quarantine(
    shared: &Shared,
    id: QueueId,
    op: QuarantineOp,
    by: &str,
    known: &mut HashMap<QueueId, Known>,
) -> Result<Vec<String>, String> {
    let k = known
        .get(&id)
        .ok_or_else(|| format!("no message {id} is waiting"))?;
    let held: Vec<usize> = (0..k.states.len())
        .filter(|&i| matches!(k.states[i], RcptState::Held { .. }))
        .collect();
    if held.is_empty() {
        return Err(format!("message {id} has no held recipient"));
    }
    let (envelope, _) = shared.spool.read(id).await.map_err(|e| e.to_string())?;
    let t = now();
    let mut updates = Vec::new();
    let mut events = Vec::new();
    let rcpts: Vec<String> = held.iter().map(|&i| envelope.rcpt_to[i].clone()).collect();
    events.push(Event::Quarantine {
        queue_id: id.to_string(),
        op: op.as_str().to_string(),
        recipients: rcpts.clone(),
        by: by.to_string(),
    });
    for &i in &held {
        let (state, action) = match op {
            // Released mail still never goes below the PHI floor.
            QuarantineOp::Release => (
                RcptState::Pending,
                if envelope.phi.unwrap_or(true) {
                    Action::RequireTls
                } else {
                    Action::Deliver
                },
            ),
            QuarantineOp::Delete => (RcptState::Deleted { at: t }, k.actions[i]),
        };
        events.push(outcome_event(
            &envelope,
            i,
            match op {
                QuarantineOp::Release => "released",
                QuarantineOp::Delete => "deleted",
            },
            action,
            Some(format!("by {by}")),
        ));
        updates.push(StatusUpdate {
            rcpt: i as u32,
            state,
            action: Some(action),
        });
    }
    shared.audit.log(events).await.map_err(|e| e.to_string())?;
    shared
        .spool
        .update(id, &updates)
        .await
        .map_err(|e| e.to_string())?;
    let k = known.get_mut(&id).expect("checked above");
    for u in updates {
        k.states[u.rcpt as usize] = u.state;
        if let Some(a) = u.action {
            k.actions[u.rcpt as usize] = a;
        }
    }
    tracing::info!(queue_id = %id, op = op.as_str(), recipients = rcpts.len(), "quarantine");
    Ok(rcpts)
}

fn outcome_event(
    envelope: &Envelope,
    i: usize,
    outcome: &str,
    action: Action,
    detail: Option<String>,
) -> Event {
    Event::Outcome(event::Outcome {
        queue_id: envelope.id.to_string(),
        recipient: envelope.rcpt_to[i].clone(),
        outcome: outcome.to_string(),
        action: action.as_str().to_string(),
        detail,
    })
}

/// How a group of recipients is delivered: same destination, same TLS
/// level, same changes to the message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    /// `None`: the encrypted route.
    domain: Option<String>,
    required: TlsLevel,
    tag: Option<String>,
    header: Option<(String, String)>,
}

impl Plan {
    fn for_rcpt(live: &Live, envelope: &Envelope, i: usize, action: Action) -> Plan {
        let decision = envelope.decision(i);
        let domain = domain_of(&envelope.rcpt_to[i]);
        let phi = envelope.phi.unwrap_or(true);
        let tls = &live.config.tls;
        let (domain, required) = match action {
            Action::Encrypt if live.encryptor.is_some() => (None, TlsLevel::Verify),
            Action::Deliver => {
                let level = tls.required(&domain, phi && !decision.opt_out);
                (Some(domain), level)
            }
            // require_tls; encrypt with the route gone from the config; and
            // anything else that reaches delivery: the PHI floor.
            _ => {
                let level = tls.required(&domain, true);
                (Some(domain), level)
            }
        };
        Plan {
            domain,
            required,
            tag: decision.modifiers.tag_subject,
            header: decision.modifiers.add_header,
        }
    }
}

/// Whether a recipient's TLS need comes from PHI (so that a server without
/// verified TLS sends it to the encrypted route or to quarantine, rather
/// than to the retry queue).
fn protects_phi(envelope: &Envelope, i: usize, action: Action) -> bool {
    match action {
        Action::RequireTls => true,
        Action::Deliver => envelope.phi.unwrap_or(true) && !envelope.decision(i).opt_out,
        _ => false,
    }
}

/// Delivers the due recipients of one message.
async fn deliver_message(shared: &Shared, id: QueueId, before: Option<Known>) -> Round {
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
            actions: envelope.initial_actions(),
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
        let plan = Plan::for_rcpt(&live, &envelope, i, k.actions[i]);
        match groups.iter_mut().find(|(p, _)| *p == plan) {
            Some((_, v)) => v.push(i),
            None => groups.push((plan, vec![i])),
        }
    }
    let mut updates = Vec::new();
    let mut events = Vec::new();
    let mut rerouted = Vec::new();
    let mut no_route = Vec::new();
    for (plan, idx) in groups {
        let outcomes =
            deliver_group(shared, &live, &envelope, &message, &plan, &idx, &mut events).await;
        for (&i, outcome) in idx.iter().zip(outcomes) {
            let action = k.actions[i];
            let (state, new_action, word) = match outcome {
                Outcome::Temporary { policy: true, .. } if protects_phi(&envelope, i, action) => {
                    if live.encryptor.is_some() {
                        rerouted.push(i);
                        (RcptState::Pending, Some(Action::Encrypt), "rerouted")
                    } else {
                        no_route.push(i);
                        let held = RcptState::Held {
                            at: t,
                            reason: "no verified TLS to the recipient's server".into(),
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
                _ => None,
            };
            events.push(outcome_event(&envelope, i, word, now_action, detail));
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
        queue: &shared.handle,
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
            .filter(|&&i| envelope.decision(i).modifiers.notify_sender)
            .map(|&i| envelope.rcpt_to[i].as_str())
            .collect()
    };
    notice::send(&ctx, &envelope, &names(&rerouted), Reason::Rerouted).await;
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

/// Outcome of one recipient's attempt.
enum Outcome {
    Delivered(String),
    Permanent(String),
    Temporary { reason: String, policy: bool },
}

/// A group's destination, AUTH, message as changed for it (empty: as
/// stored) and the kind of route, for the audit log.
struct Routed<'a> {
    dest: Destination,
    auth: Option<(&'a str, &'a str)>,
    prepared: Vec<u8>,
    kind: &'a str,
}

async fn deliver_group(
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
            let prepared = if tags.is_empty() && headers.is_empty() {
                Vec::new()
            } else {
                rewrite::apply(message, &tags, &headers)
            };
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
    let message = if prepared.is_empty() {
        message
    } else {
        &prepared[..]
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
        eight_bit: envelope.body_type == crate::smtp::command::BodyType::EightBitMime,
        smtputf8: envelope.smtputf8,
        required: plan.required,
        auth,
        connect_timeout: cfg.delivery.connect_timeout,
        command_timeout: cfg.delivery.command_timeout,
    };
    let mut last = None;
    for hop in &dest.hops {
        if is_self(hop, &cfg.server.hostname, &shared.own_addrs) {
            // Delivering to ourselves would loop (an MX pointing back here):
            // bounce now rather than relay the message to itself forever.
            shared.metrics.loops_total.inc();
            tracing::warn!(queue_id = %envelope.id, host = %hop.name, addr = %hop.addr, "next hop is this gateway: mail loop");
            return idx
                .iter()
                .map(|_| Outcome::Permanent(LOOP_REASON.to_string()))
                .collect();
        }
        let attempt = client::deliver(hop, &job, &live.trust, &shared.pool).await;
        log_attempt(envelope.id, plan.required.as_str(), &attempt);
        count_attempt(&shared.metrics, kind, &attempt);
        events.push(attempt_event(
            envelope,
            &rcpts,
            kind,
            plan.required,
            &attempt,
        ));
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

/// Why a recipient whose next hop is this gateway was bounced.
pub const LOOP_REASON: &str = "5.4.6 mail for this domain loops back to this gateway";

/// Whether `hop` is one of our own listeners (or carries our host name).
fn is_self(hop: &client::Hop, hostname: &str, own: &[std::net::SocketAddr]) -> bool {
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

fn count_attempt(m: &Metrics, route: &str, a: &client::Attempt) {
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

fn outcome_words(a: &client::Attempt) -> Vec<String> {
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

fn attempt_event(
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
    })
}

/// One event per attempt, with what the audit record holds. Replies are
/// logged by code only: their text may quote an address.
fn log_attempt(id: QueueId, required: &str, a: &client::Attempt) {
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
        outcomes = ?outcome_words(a),
        duration_ms = a.duration.as_millis() as u64,
        "delivery attempt"
    );
}

fn next_state(live: &Live, envelope: &Envelope, before: &RcptState, outcome: Outcome) -> RcptState {
    let t = now();
    match outcome {
        Outcome::Delivered(reply) => RcptState::Delivered { at: t, reply },
        Outcome::Permanent(reason) => RcptState::Bounced { at: t, reason },
        Outcome::Temporary { reason, policy } => {
            let retry = &live.config.delivery.retry;
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

/// Sends a DSN for recipients bounced in this round (never to `<>`),
/// through the outbox: inspected, decided and audited like any message.
async fn send_dsn(ctx: &Context<'_>, envelope: &Envelope, updates: &[StatusUpdate]) {
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
    let id = ctx.spool.next_id();
    let body = dsn::build(ctx.hostname, envelope, &failed, id, now());
    if super::outbox::send(ctx, envelope, super::outbox::Kind::Dsn, id, body)
        .await
        .is_some()
    {
        tracing::info!(queue_id = %id, original = %envelope.id, recipients = failed.len(), "DSN queued");
    }
}
