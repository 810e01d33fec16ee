//! One client session over a socket: reads commands and data, writes
//! replies, and does what the [`Session`] state machine asks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use phigate_config::Action as PolicyAction;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::timeout;

use crate::app::Live;
use crate::audit::{AuditError, Event};
use crate::intake;
use crate::outbox::notice;
use crate::server::Shared;
use crate::server::stream::Stream;
use crate::smtp::command::{Line, find_line, line_text};
use crate::smtp::reply::common;
use crate::smtp::session::{Accepted, AuthOutcome, Credential, TlsInfo};
use crate::smtp::{Action, Content, DataReader, Reply, Session, Step};
use crate::spool::{Envelope, QueueId, SpoolError};

/// Why a session ended; for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Quit,
    ClientClosed,
    Timeout,
    Shutdown,
    TooManyErrors,
    TlsFailed,
    Io,
}

impl End {
    fn as_str(self) -> &'static str {
        match self {
            End::Quit => "quit",
            End::ClientClosed => "client_closed",
            End::Timeout => "timeout",
            End::Shutdown => "shutdown",
            End::TooManyErrors => "too_many_errors",
            End::TlsFailed => "tls_failed",
            End::Io => "io_error",
        }
    }
}

struct Connection {
    stream: Stream,
    /// Bytes read but not yet used. Emptied at STARTTLS so that nothing a
    /// client pipelined in plaintext is taken as said under TLS (CVE-2011-0411).
    input: Vec<u8>,
    /// Replies not yet written: flushed just before we wait for input, which
    /// is what PIPELINING (RFC 2920) asks of a server.
    output: Vec<u8>,
    shared: Arc<Shared>,
    /// The configuration in force when the session started, kept to its end.
    live: Arc<Live>,
    shutdown: watch::Receiver<bool>,
    /// Content of a BDAT transaction so far.
    bdat_body: Vec<u8>,
    /// Room in the shared content budget for the message being read.
    held: super::budget::Held,
    accepted: u32,
}

/// Runs a session to its end.
pub(crate) async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let ip = phigate_config::canonical_ip(peer.ip());
    let live = shared.live();
    let relay = live.config.server.is_relay_client(ip);
    let session = Session::new(live.limits.clone(), ip, relay);
    shared.metrics.connections_current.inc();
    let mut conn = Connection {
        stream: Stream::Plain(tcp),
        input: Vec::with_capacity(4096),
        output: Vec::with_capacity(1024),
        shared,
        live,
        shutdown,
        bdat_body: Vec::new(),
        held: Default::default(),
        accepted: 0,
    };
    let end = conn.run(session).await;
    let m = &conn.shared.metrics;
    m.connections_current.dec();
    m.sessions_ended_total
        .with_label_values(&[end.as_str()])
        .inc();
    tracing::info!(client = %ip, accepted = conn.accepted, end = end.as_str(), "session closed");
}

impl Connection {
    async fn run(&mut self, mut session: Session) -> End {
        session.greeting().write_to(&mut self.output);
        let max_line = self.live.config.server.max_line_length;
        let mut discarding = false;
        // A whole command line must arrive within command_timeout of when we
        // started waiting for it: a client trickling a byte at a time does
        // not reset the clock (slowloris).
        let mut line_deadline = Instant::now() + self.live.config.server.command_timeout;
        loop {
            if discarding {
                // Skipping the rest of an over-long line.
                match memchr::memchr(b'\n', &self.input) {
                    Some(i) => {
                        self.input.drain(..=i);
                        discarding = false;
                        let step = session.line_too_long();
                        if let Some(end) = self.perform(&mut session, step).await {
                            return end;
                        }
                    }
                    None => self.input.clear(),
                }
            }
            match find_line(&self.input, max_line) {
                _ if discarding => {}
                Line::Complete { len } => {
                    let line: Vec<u8> = self.input.drain(..len).collect();
                    let text = line_text(&line);
                    let step = if session.wants_auth_line() {
                        session.auth_line(text)
                    } else {
                        session.command(text)
                    };
                    if let Some(end) = self.perform(&mut session, step).await {
                        return end;
                    }
                    line_deadline = Instant::now() + self.live.config.server.command_timeout;
                    if *self.shutdown.borrow() && !session.in_transaction() {
                        return self.say_shutdown().await;
                    }
                    continue;
                }
                Line::TooLong => {
                    // The terminator may already be buffered: the discarding
                    // branch above looks for it before anything is thrown away.
                    discarding = true;
                    continue;
                }
                Line::Incomplete => {}
            }
            if let Err(end) = self.flush().await {
                return end;
            }
            let wait = line_deadline.saturating_duration_since(Instant::now());
            let idle = !session.in_transaction();
            match self.read_more(wait, idle).await {
                Ok(()) => {}
                Err(End::Shutdown) => return self.say_shutdown().await,
                Err(End::Timeout) => {
                    return self.say_timeout("waiting for command").await;
                }
                Err(end) => return end,
            }
        }
    }

    /// Writes the step's replies and carries out its action, and those of
    /// the steps that follow from it. `Some(end)` when the session is over.
    async fn perform(&mut self, session: &mut Session, mut step: Step) -> Option<End> {
        loop {
            for r in &step.replies {
                r.write_to(&mut self.output);
            }
            step = match step.action {
                Action::Continue => return None,
                Action::Close => {
                    let end = if step.replies.iter().any(|r| r.code() == 221) {
                        End::Quit
                    } else {
                        End::TooManyErrors
                    };
                    let _ = self.flush().await;
                    return Some(end);
                }
                Action::StartTls => {
                    if let Err(end) = self.flush().await {
                        return Some(end);
                    }
                    match self.start_tls().await {
                        Ok(info) => {
                            session.tls_established(info);
                            return None;
                        }
                        Err(end) => return Some(end),
                    }
                }
                Action::ReadData => match self.read_data().await {
                    Ok(result) => {
                        let content = session.data_done(result);
                        let step = self.content(session, content).await;
                        self.held.release();
                        step
                    }
                    Err(end) => return Some(end),
                },
                Action::ReadChunk { size, last, keep } => {
                    let mut body = std::mem::take(&mut self.bdat_body);
                    let room = !keep || self.make_room(body.len() as u64 + size).await;
                    let read = self
                        .read_chunk(size, (keep && room).then_some(&mut body))
                        .await;
                    if let Err(end) = read {
                        return Some(end);
                    }
                    let content = if room {
                        session.chunk_done(size, last, keep, &mut body)
                    } else {
                        session.chunk_refused(&mut body)
                    };
                    self.bdat_body = body;
                    let step = self.content(session, content).await;
                    if self.bdat_body.is_empty() {
                        self.held.release();
                    }
                    step
                }
                Action::DiscardChunk { size, then } => {
                    if let Err(end) = self.read_chunk(size, None).await {
                        return Some(end);
                    }
                    Step {
                        replies: vec![then],
                        action: Action::Continue,
                    }
                }
                Action::Authenticate(cred) => {
                    let ip = session.facts().client_ip;
                    let outcome = self.check_password(ip, cred).await;
                    session.auth_checked(outcome)
                }
            };
        }
    }

    /// Spools an accepted message, or passes on the refusal.
    async fn content(&mut self, session: &Session, content: Content) -> Step {
        match content {
            Content::Replied(step) => step,
            Content::Accepted(msg) => {
                let m = self.shared.metrics.clone();
                m.messages_received_total.inc();
                let reply = match self.spool(session, msg).await {
                    Ok((id, size)) => {
                        self.accepted += 1;
                        m.messages_accepted_total.inc();
                        m.received_bytes_total.inc_by(size);
                        m.spool_ok.store(true, Ordering::Relaxed);
                        Reply::new(250, format!("2.0.0 Ok: queued as {id}"))
                    }
                    Err(e) => {
                        m.messages_refused_total
                            .with_label_values(&[e.reason()])
                            .inc();
                        if let AcceptError::Spool(_) = e {
                            m.spool_write_failures_total.inc();
                            m.spool_ok.store(false, Ordering::Relaxed);
                        }
                        accept_error_reply(&e)
                    }
                };
                Step {
                    replies: vec![reply],
                    action: Action::Continue,
                }
            }
        }
    }

    /// Inspects the message, lets the policy decide for each recipient,
    /// records it all in the audit log and makes the message durable, as
    /// intake's stages (each made only from the one before), so no 250
    /// goes out before the audit record and the message are both on
    /// stable storage.
    async fn spool(&self, session: &Session, msg: Accepted) -> Result<(QueueId, u64), AcceptError> {
        let shared = &self.shared;
        let id = shared.spool.next_id();
        let inspection = intake::Inspection {
            engine: self.live.engine.clone(),
            slots: shared.inspections.clone(),
            failed: &shared.failed_scans,
            metrics: &shared.metrics,
            timeout: self.live.policy.inspection_timeout(),
        };
        let inspected = match intake::inspect(msg, &inspection).await {
            Ok(x) => x,
            Err(reason) => {
                let event = Event::ScanFailed {
                    queue_id: id.to_string(),
                    reason: reason.to_string(),
                };
                // Refused either way; the record says why, if it can be written.
                let _ = shared.audit.log(vec![event]).await;
                return Err(AcceptError::Inspection(reason));
            }
        };
        let origin = intake::Origin {
            session: session.facts(),
            protocol: session.protocol(),
            hostname: &self.live.config.server.hostname,
        };
        let decided = inspected.decide(&self.live.policy, &origin, id, crate::date::now());
        self.count_scan(&decided);
        let mut events = decided.records(&shared.audit);
        if let Some(rule) = decided.refusal().map(str::to_string) {
            events.push(Event::Refused {
                queue_id: id.to_string(),
                code: 550,
                rule: Some(rule.clone()),
            });
            shared.audit.log(events).await.map_err(AcceptError::Audit)?;
            let envelope = decided.envelope();
            if envelope
                .decisions
                .iter()
                .any(|d| d.action == PolicyAction::Reject && d.modifiers.notify_sender)
            {
                let rcpts = recipients_with(envelope, PolicyAction::Reject);
                notice::send(
                    &self.context(),
                    envelope,
                    &rcpts,
                    notice::Reason::Refused { rule: &rule },
                )
                .await;
            }
            return Err(AcceptError::Refused {
                rule,
                phi: !envelope.categories.is_empty(),
            });
        }
        let receipt = shared.audit.log(events).await.map_err(AcceptError::Audit)?;
        let phi = decided.content().phi();
        let envelope = match decided.spool(&shared.spool, &receipt).await {
            Ok(envelope) => envelope,
            Err(e) => {
                // The decisions above never took effect: the log says so.
                let e = AcceptError::Spool(e);
                let event = Event::Refused {
                    queue_id: id.to_string(),
                    code: accept_error_reply(&e).code(),
                    rule: None,
                };
                let _ = shared.audit.log(vec![event]).await;
                return Err(e);
            }
        };
        shared.queue.notify(id);
        tracing::info!(queue_id = %id, recipients = envelope.rcpt_to.len(), size = envelope.size, phi, "queued");
        let held: Vec<&crate::spool::Decision> = envelope
            .decisions
            .iter()
            .filter(|d| d.action == PolicyAction::Quarantine && d.modifiers.notify_sender)
            .collect();
        if let Some(first) = held.first() {
            let rcpts = recipients_with(&envelope, PolicyAction::Quarantine);
            let reason = notice::Reason::Quarantined { rule: &first.rule };
            notice::send(&self.context(), &envelope, &rcpts, reason).await;
        }
        Ok((id, envelope.size))
    }

    fn count_scan(&self, decided: &intake::Decided) {
        let m = &self.shared.metrics;
        let (report, envelope) = (decided.content().report(), decided.envelope());
        m.scan_duration_seconds
            .observe(decided.content().duration().as_secs_f64());
        if envelope.phi == Some(true) {
            m.phi_messages_total.inc();
        }
        for c in &report.categories {
            m.findings_total.with_label_values(&[c.as_str()]).inc();
        }
        for d in &envelope.decisions {
            m.decisions_total
                .with_label_values(&[d.action.as_str(), &d.rule])
                .inc();
        }
    }

    fn context(&self) -> crate::outbox::Context<'_> {
        crate::outbox::Context {
            spool: &self.shared.spool,
            wake: &self.shared.queue,
            audit: &self.shared.audit,
            metrics: &self.shared.metrics,
            hostname: &self.live.config.server.hostname,
            engine: &self.live.engine,
            policy: &self.live.policy,
            local_domains: &self.live.config.server.local_domains,
        }
    }

    /// Reads message content after 354 up to the terminating dot line.
    async fn read_data(&mut self) -> Result<Result<Vec<u8>, crate::smtp::data::DataError>, End> {
        self.flush().await?;
        let mut reader = DataReader::new(self.live.config.server.max_message_size);
        let mut pace = DataPace::new(&self.live.config.server);
        loop {
            // Room for what this input can add, before the content grows.
            if reader.keeping()
                && !self
                    .make_room((reader.kept() + self.input.len()) as u64)
                    .await
            {
                reader.refuse(crate::smtp::data::DataError::NoMemory);
            }
            let (used, done) = reader.feed(&self.input);
            self.input.drain(..used);
            pace.received(used);
            if done {
                return Ok(reader.finish());
            }
            match self.read_more(pace.wait(), false).await {
                Ok(()) => {}
                Err(End::Timeout) => return Err(self.say_timeout("reading message data").await),
                Err(end) => return Err(end),
            }
        }
    }

    /// Makes the room this session holds in the shared content budget
    /// cover content of `bytes` (as a `Vec` growing by doubling holds it,
    /// up to the size limit), waiting for others to give room back; false,
    /// holding nothing, if the room did not come. Nothing is read while it
    /// waits, so TCP slows the client down.
    async fn make_room(&mut self, bytes: u64) -> bool {
        let cap = usize::try_from(bytes)
            .ok()
            .and_then(usize::checked_next_power_of_two)
            .unwrap_or(usize::MAX);
        // Content is kept only up to the size limit, and the budget is at
        // least that: a message of the largest size always fits an idle
        // gateway's budget.
        let limit = usize::try_from(self.live.config.server.max_message_size).unwrap_or(usize::MAX);
        let want = cap.min(limit);
        let budget = self.shared.content.clone();
        if budget
            .cover(&mut self.held, want, super::budget::WAIT)
            .await
        {
            return true;
        }
        self.held.release();
        self.shared.metrics.content_memory_refused_total.inc();
        tracing::warn!(
            free_bytes = budget.available(),
            "content memory spent: message refused with 452 4.3.1"
        );
        false
    }

    /// Reads exactly `size` bytes of a BDAT chunk, into `body` if given.
    async fn read_chunk(&mut self, size: u64, mut body: Option<&mut Vec<u8>>) -> Result<(), End> {
        let mut pace = DataPace::new(&self.live.config.server);
        let mut left = size;
        loop {
            let take = left.min(self.input.len() as u64) as usize;
            if let Some(b) = body.as_deref_mut() {
                b.extend_from_slice(&self.input[..take]);
            }
            self.input.drain(..take);
            pace.received(take);
            left -= take as u64;
            if left == 0 {
                return Ok(());
            }
            match self.read_more(pace.wait(), false).await {
                Ok(()) => {}
                Err(End::Timeout) => return Err(self.say_timeout("reading BDAT chunk").await),
                Err(end) => return Err(end),
            }
        }
    }

    /// Reads more input within `wait`. With `interruptible`, a shutdown
    /// ends the wait.
    async fn read_more(&mut self, wait: Duration, interruptible: bool) -> Result<(), End> {
        if wait.is_zero() {
            return Err(End::Timeout);
        }
        self.input.reserve(16 * 1024);
        let read = async {
            match self.stream.read_buf(&mut self.input).await {
                Ok(0) => Err(End::ClientClosed),
                Ok(_) => Ok(()),
                Err(_) => Err(End::Io),
            }
        };
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            r = timeout(wait, read) => r.unwrap_or(Err(End::Timeout)),
            _ = shutdown.wait_for(|down| *down), if interruptible => Err(End::Shutdown),
        }
    }

    async fn flush(&mut self) -> Result<(), End> {
        if self.output.is_empty() {
            return Ok(());
        }
        let wait = self.live.config.server.command_timeout;
        let write = async {
            self.stream.write_all(&self.output).await?;
            self.stream.flush().await
        };
        match timeout(wait, write).await {
            Ok(Ok(())) => {
                self.output.clear();
                Ok(())
            }
            Ok(Err(_)) => Err(End::Io),
            Err(_) => Err(End::Timeout),
        }
    }

    async fn say_timeout(&mut self, what: &str) -> End {
        let host = &self.live.config.server.hostname;
        Reply::new(
            421,
            format!("4.4.2 {host} Timeout {what}, closing connection"),
        )
        .write_to(&mut self.output);
        let _ = self.flush().await;
        End::Timeout
    }

    async fn say_shutdown(&mut self) -> End {
        common::shutting_down(&self.live.config.server.hostname).write_to(&mut self.output);
        let _ = self.flush().await;
        End::Shutdown
    }

    async fn start_tls(&mut self) -> Result<TlsInfo, End> {
        let Some(acceptor) = self.shared.acceptor.clone() else {
            return Err(End::TlsFailed);
        };
        // Plaintext the client pipelined after STARTTLS is thrown away.
        self.input.clear();
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Detached) else {
            return Err(End::TlsFailed);
        };
        let wait = self.live.config.server.command_timeout;
        match timeout(wait, acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => {
                let conn = tls.get_ref().1;
                let (version, cipher) = crate::tls::negotiated(conn);
                let relay_client = conn.peer_certificates().and_then(|chain| {
                    let names = &self.live.config.server.relay_client_names;
                    crate::tls::relay_client_name(chain.first()?, names)
                });
                if let Some(name) = &relay_client {
                    tracing::info!(certificate = %name, "client certificate allows relaying");
                }
                let info = TlsInfo {
                    version,
                    cipher,
                    relay_client,
                };
                self.stream = Stream::Tls(Box::new(tls));
                Ok(info)
            }
            Ok(Err(e)) => {
                tracing::info!(error = %e, "inbound TLS handshake failed");
                Err(End::TlsFailed)
            }
            Err(_) => Err(End::Timeout),
        }
    }

    /// Checks a password within the AUTH guard's bounds: a locked-out
    /// client or user, or no free check slot, gets 454 without any argon2
    /// work; a failure is counted, logged and audited (never the password,
    /// and the user name only if it is a configured account: a mistyped
    /// password in the user field must not be recorded).
    async fn check_password(&self, ip: std::net::IpAddr, cred: Credential) -> AuthOutcome {
        let shared = &self.shared;
        let m = &shared.metrics;
        let permit = match shared.auth_guard.admit(ip, &cred.user) {
            Ok(p) => p,
            Err(refused) => {
                let reason = match refused {
                    crate::auth::Refused::LockedOut => "locked_out",
                    crate::auth::Refused::Busy => "busy",
                };
                m.auth_failures_total.with_label_values(&[reason]).inc();
                tracing::debug!(client = %ip, reason, "AUTH not checked");
                return AuthOutcome::TryLater;
            }
        };
        let live = self.live.clone();
        let Credential { user, password } = cred;
        let known = live.config.server.users.iter().any(|u| u.name == user);
        let checked_user = user.clone();
        let ok = tokio::task::spawn_blocking(move || {
            let _slot = permit;
            crate::auth::verify(&live.config.server.users, &checked_user, &password)
        })
        .await
        .unwrap_or(false);
        if ok {
            shared.auth_guard.succeeded(ip, &user);
            return AuthOutcome::Ok(user);
        }
        m.auth_failures_total.with_label_values(&["invalid"]).inc();
        let lockout = shared.auth_guard.failed(ip, &user);
        let shown = known.then(|| user.clone());
        tracing::warn!(client = %ip, user = shown.as_deref().unwrap_or("<not a configured user>"), lockout_secs = lockout.map(|d| d.as_secs()), "AUTH failed");
        let event = Event::AuthFailure {
            client_ip: ip.to_string(),
            user: shown,
            lockout_secs: lockout.map(|d| d.as_secs()),
        };
        if let Err(e) = shared.audit.log(vec![event]).await {
            tracing::error!(error = %e, "could not audit an AUTH failure");
        }
        AuthOutcome::Invalid
    }
}

/// The pace DATA (or a BDAT chunk) must keep: no read may wait longer than
/// `data_timeout`, and the whole must end by `data_timeout` plus the time
/// its size takes at `min_data_rate`, so trickling a byte now and then
/// cannot hold a session open (slowloris).
struct DataPace {
    started: Instant,
    idle: Duration,
    rate: u64,
    received: u64,
}

impl DataPace {
    fn new(cfg: &phigate_config::ServerConfig) -> DataPace {
        DataPace {
            started: Instant::now(),
            idle: cfg.data_timeout,
            rate: cfg.min_data_rate,
            received: 0,
        }
    }

    fn received(&mut self, n: usize) {
        self.received += n as u64;
    }

    /// How long the next read may wait.
    fn wait(&self) -> Duration {
        if self.rate == 0 {
            return self.idle;
        }
        let allowed = self.idle + Duration::from_secs(self.received / self.rate);
        let left = allowed.saturating_sub(self.started.elapsed());
        left.min(self.idle)
    }
}

/// The recipients whose decision is `action`.
fn recipients_with(envelope: &Envelope, action: PolicyAction) -> Vec<&str> {
    envelope
        .rcpt_to
        .iter()
        .zip(&envelope.decisions)
        .filter(|(_, d)| d.action == action)
        .map(|(r, _)| r.as_str())
        .collect()
}

/// Why an accepted message could not be queued.
#[derive(Debug)]
enum AcceptError {
    /// PHI inspection did not complete.
    Inspection(intake::InspectionFailed),
    /// A policy rule refuses it.
    Refused { rule: String, phi: bool },
    /// The audit log could not record it.
    Audit(AuditError),
    /// The spool refused the write.
    Spool(SpoolError),
}

impl AcceptError {
    /// The metrics label.
    fn reason(&self) -> &'static str {
        match self {
            AcceptError::Inspection(_) => "inspection",
            AcceptError::Refused { .. } => "policy",
            AcceptError::Audit(_) => "audit",
            AcceptError::Spool(_) => "spool",
        }
    }
}

/// The one place acceptance failures become SMTP replies. None of them
/// says anything about the content beyond that it holds PHI.
fn accept_error_reply(e: &AcceptError) -> Reply {
    match e {
        AcceptError::Inspection(why) => {
            tracing::error!(reason = %why, "message inspection did not complete; refused with 451");
            Reply::new(451, "4.7.0 Message could not be inspected, try again later")
        }
        AcceptError::Refused { rule, phi: true } => Reply::new(
            550,
            format!(
                "5.7.1 Refused by mail policy (rule {rule}): the message appears to contain protected health information that may not be sent to one of its recipients"
            ),
        ),
        AcceptError::Refused { rule, phi: false } => {
            Reply::new(550, format!("5.7.1 Refused by mail policy (rule {rule})"))
        }
        AcceptError::Audit(e) => {
            tracing::error!(error = %e, "audit log unavailable; message refused with 451");
            Reply::new(451, "4.3.0 Audit log unavailable, try again later")
        }
        AcceptError::Spool(SpoolError::Full(_)) => {
            Reply::new(452, "4.3.1 Insufficient system storage, try again later")
        }
        AcceptError::Spool(_) => {
            Reply::new(451, "4.3.0 Local error writing the queue, try again later")
        }
    }
}
