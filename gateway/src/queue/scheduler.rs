//! The scheduler: which waiting message is due next, the queue manager's
//! loop (new messages, reloads, quarantine commands, shutdown) and the
//! gauges it keeps.

use super::quarantine::quarantine;
use super::retry::next_due;
use super::round::deliver_message;
use super::*;

/// When each waiting message is next due.
/// Waiting messages in order of when they are next due. A message being
/// delivered is out of the schedule until its attempt returns.
#[derive(Default)]
pub(super) struct Schedule {
    pub(super) order: BTreeSet<(u64, QueueId)>,
    pub(super) due: HashMap<QueueId, u64>,
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
pub(super) struct Known {
    pub(super) states: Vec<RcptState>,
    pub(super) actions: Vec<Action>,
    /// When the message was received, for the queue-age gauge.
    pub(super) received_at: u64,
}

/// What a delivery round leaves: when the message is next due (`None`:
/// nothing is due, it waits for an administrator or has left the queue),
/// and its recipients.
pub(super) struct Round {
    pub(super) next: Option<u64>,
    pub(super) known: Known,
    pub(super) finished: bool,
}

pub(super) async fn run(
    shared: Arc<Shared>,
    mut rx: mpsc::UnboundedReceiver<Command>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut schedule = Schedule::default();
    // Every waiting message's recipients, held ones included.
    let mut known: HashMap<QueueId, Known> = HashMap::new();
    let mut cert_gauges_at = None;
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
                        actions: m
                            .actions
                            .iter()
                            .enumerate()
                            .map(|(i, a)| a.unwrap_or_else(|| decision(&m.envelope, i).action))
                            .collect(),
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
    // Finished days' TLS reports: looked for a minute after start, then hourly.
    let mut next_reports = now() + 60;
    loop {
        if now() >= next_reports {
            next_reports = now() + 3600;
            let shared = shared.clone();
            tokio::spawn(async move {
                if let Err(e) = super::report::send(&shared, None).await {
                    tracing::warn!(error = %e, "TLS reports not sent");
                }
                if let Err(e) = super::report::scheduled_digest(&shared).await {
                    tracing::warn!(error = %e, "audit review digest not sent");
                }
            });
        }
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
        // The certificate store is a directory: looked at every 10 s at most.
        if cert_gauges_at.is_none_or(|t: std::time::Instant| t.elapsed() >= Duration::from_secs(10))
        {
            shared.live().certificate_gauges(&shared.metrics);
            cert_gauges_at = Some(std::time::Instant::now());
        }
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
            Wake::Command(Command::Review {
                since,
                until,
                reply,
            }) => {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = reply.send(super::report::digest(&shared, since, until).await);
                });
            }
            Wake::Command(Command::TlsReport { day, reply }) => {
                // DNS and the network: not in the scheduler's own loop.
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = reply.send(super::report::send(&shared, day).await);
                });
            }
            Wake::Command(Command::New(id)) => {
                if !in_flight.contains(&id) {
                    schedule.set(id, now());
                }
            }
            Wake::Command(Command::Quarantine {
                id,
                op,
                by,
                reason,
                reply,
            }) => {
                let r = if in_flight.contains(&id) {
                    Err(QuarantineError::Busy(id))
                } else {
                    quarantine(&shared, id, op, (&by, reason.as_deref()), &mut known).await
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
pub(super) fn set_gauges(m: &Metrics, known: &HashMap<QueueId, Known>) {
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
pub(super) enum Wake {
    Command(Command),
    Finished(Result<(tokio::task::Id, (QueueId, Round)), tokio::task::JoinError>),
    Stop,
}
