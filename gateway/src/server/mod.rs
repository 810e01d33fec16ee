//! Listeners, connection limits and graceful shutdown.

pub mod budget;
mod connection;
pub mod control;
mod stream;

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;

use phigate_config::Config;

use crate::metrics::Metrics;
use crate::spool::{Spool, SpoolError};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The spool could not be opened.
    #[error("spool {dir}")]
    Spool {
        /// Spool directory.
        dir: String,
        /// Cause.
        source: SpoolError,
    },
    /// Something the configuration asks for could not be built.
    #[error(transparent)]
    Build(#[from] crate::app::BuildError),
    /// The audit log could not be opened.
    #[error("audit log {dir}")]
    Audit {
        /// Audit directory.
        dir: String,
        /// Cause.
        source: crate::audit::AuditError,
    },
    /// A listener could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
}

/// What every session shares.
pub(crate) struct Shared {
    /// What a reload can change. A session takes the version in force when
    /// it starts and keeps it to its end.
    live: RwLock<Arc<crate::app::Live>>,
    pub spool: Spool,
    pub acceptor: Option<TlsAcceptor>,
    /// Tells the queue manager about new messages.
    pub queue: crate::queue::QueueHandle,
    /// The audit log.
    pub audit: crate::audit::Audit,
    /// Counters and health.
    pub metrics: Arc<Metrics>,
    /// Bounds AUTH work (checks in flight, lockouts after failures).
    pub auth_guard: crate::auth::Guard,
    /// Inspections running at once: each can hold a large message and
    /// what it decodes, so they are bounded like the cores that run them.
    pub inspections: Arc<tokio::sync::Semaphore>,
    /// Memory all sessions together may hold as content (fixed at start).
    pub content: budget::ContentBudget,
    /// Contents whose inspection failed lately.
    pub failed_scans: Mutex<crate::intake::failed::FailedScans>,
    /// The file the configuration came from; `None`: the embedded default.
    config_path: Option<PathBuf>,
}

impl Shared {
    /// The configuration in force now.
    pub fn live(&self) -> Arc<crate::app::Live> {
        self.live.read().expect("live config").clone()
    }
}

/// Counts sessions in total, from clients that may not relay without AUTH,
/// and per client network (an IPv4 address or an IPv6 /64).
#[derive(Default)]
struct Slots {
    total: usize,
    untrusted: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// A session's place in [`Slots`], given back when dropped.
struct Slot {
    slots: Arc<Mutex<Slots>>,
    net: IpAddr,
    untrusted: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut s = self.slots.lock().expect("slots lock");
        s.total -= 1;
        if self.untrusted {
            s.untrusted -= 1;
        }
        if let Some(n) = s.per_ip.get_mut(&self.net) {
            *n -= 1;
            if *n == 0 {
                s.per_ip.remove(&self.net);
            }
        }
    }
}

/// A slot for a client, unless a limit is reached. Clients outside
/// `relay_networks` share a smaller pool, so that a flood from the
/// Internet cannot take every slot from the practice's own servers.
fn take_slot(
    slots: &Arc<Mutex<Slots>>,
    ip: IpAddr,
    cfg: &phigate_config::ServerConfig,
) -> Option<Slot> {
    let net = crate::auth::client_net(ip);
    let untrusted = !cfg.is_relay_client(ip);
    let mut s = slots.lock().expect("slots lock");
    let mine = s.per_ip.get(&net).copied().unwrap_or(0);
    if s.total >= cfg.max_connections
        || mine >= cfg.max_connections_per_ip
        || (untrusted && s.untrusted >= cfg.max_connections_untrusted)
    {
        return None;
    }
    s.total += 1;
    if untrusted {
        s.untrusted += 1;
    }
    *s.per_ip.entry(net).or_insert(0) += 1;
    Some(Slot {
        slots: slots.clone(),
        net,
        untrusted,
    })
}

/// A bound, ready gateway.
pub struct Server {
    listeners: Vec<TcpListener>,
    shared: Arc<Shared>,
    queue_rx: tokio::sync::mpsc::UnboundedReceiver<crate::queue::Command>,
    delivery: Arc<crate::queue::Live>,
    /// Messages found waiting in the spool at start.
    pub waiting: usize,
}

impl Server {
    /// Opens the spool, loads TLS and binds every listener; nothing is
    /// accepted until [`Server::run`].
    pub async fn bind(config: Config) -> Result<Server, StartError> {
        Self::bind_from(config, None).await
    }

    /// As [`Server::bind`], remembering the file the configuration came
    /// from so that SIGHUP and `phigate reload` can read it again.
    pub async fn bind_from(config: Config, path: Option<PathBuf>) -> Result<Server, StartError> {
        let acceptor = crate::app::acceptor(&config)?;
        let live = crate::app::Live::build(config, acceptor.is_some())?;
        let config = live.config.clone();
        let delivery = live.delivery.clone();
        let (queue, queue_rx) = crate::queue::channel();
        let sp = &config.spool;
        let opened = Spool::open(&sp.dir, sp.segment_size, sp.group_commit).map_err(|source| {
            StartError::Spool {
                dir: sp.dir.display().to_string(),
                source,
            }
        })?;
        let metrics = Arc::new(Metrics::new());
        let audit_error = |source| StartError::Audit {
            dir: config.audit.dir.display().to_string(),
            source,
        };
        let audit =
            crate::audit::Audit::open(&config.audit, &config.server.hostname, metrics.clone())
                .map_err(audit_error)?;
        let started = audit
            .log(vec![crate::audit::Event::Start {
                version: env!("CARGO_PKG_VERSION").to_string(),
                config: config.origin.clone(),
            }])
            .await;
        match started {
            Ok(_) => {}
            // A halted log is reported loudly and the gateway runs on, not
            // ready and refusing mail, so monitoring sees why.
            Err(crate::audit::AuditError::Halted(reason)) => {
                tracing::error!(reason = %reason, "audit log halted: mail will be refused with 451 until it is resolved");
            }
            Err(e) => return Err(audit_error(e)),
        }
        for w in config.warnings() {
            tracing::warn!("{w}");
        }
        let mut listeners = Vec::new();
        for &addr in &config.server.listen {
            listeners.push(listen(addr).map_err(|source| StartError::Bind { addr, source })?);
        }
        Ok(Server {
            listeners,
            shared: Arc::new(Shared {
                live: RwLock::new(Arc::new(live)),
                spool: opened.spool,
                acceptor,
                queue,
                audit,
                metrics,
                auth_guard: crate::auth::Guard::new(
                    config.server.auth_concurrency,
                    config.server.auth_max_failures,
                    config.server.auth_lockout,
                ),
                inspections: Arc::new(tokio::sync::Semaphore::new(
                    std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
                )),
                failed_scans: Mutex::new(Default::default()),
                content: budget::ContentBudget::new(config.server.content_memory),
                config_path: path,
            }),
            queue_rx,
            delivery,
            waiting: opened.waiting,
        })
    }

    /// The addresses actually bound (useful with port 0).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Serves until `shutdown` completes, then stops accepting, tells idle
    /// sessions 421, lets sessions in a transaction finish, and returns when
    /// all have ended or the configured grace period is over.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let own_addrs = self.local_addrs();
        crate::queue::spawn(
            self.shared.spool.clone(),
            self.shared.audit.clone(),
            self.shared.metrics.clone(),
            self.delivery,
            (self.shared.queue.clone(), self.queue_rx),
            stop_rx.clone(),
            own_addrs,
        );
        let reloader = Reloader {
            shared: self.shared.clone(),
        };
        let hup = tokio::spawn(reload_on_sighup(reloader.clone()));
        let ops = {
            let addr = self.shared.live().config.metrics.listen;
            match crate::http::serve(addr, self.shared.metrics.clone()).await {
                Ok((bound, task)) => {
                    tracing::info!(addr = %bound, "metrics and health on http");
                    Some(task)
                }
                Err(e) => {
                    tracing::error!(addr = %addr, error = %e, "cannot serve metrics");
                    None
                }
            }
        };
        let console = match self.shared.live().config.console.clone() {
            None => None,
            Some(cfg) => {
                let shared = self.shared.clone();
                let console = crate::console::Console::new(
                    Box::new(move || shared.live()),
                    self.shared.queue.clone(),
                    self.shared.spool.clone(),
                    self.shared.audit.clone(),
                    self.shared.metrics.clone(),
                    cfg.tls.is_some(),
                );
                match crate::console::serve(console).await {
                    Ok((bound, task)) => {
                        let scheme = if cfg.tls.is_some() { "https" } else { "http" };
                        tracing::info!(addr = %bound, "console on {scheme}");
                        Some(task)
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot serve the console");
                        None
                    }
                }
            }
        };
        let control = match crate::server::control::listen(
            self.shared.spool.dir(),
            self.shared.queue.clone(),
            reloader,
        ) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::error!(error = %e, "no control socket; quarantine commands will not reach this gateway");
                None
            }
        };
        // Every session holds a clone of `done_tx`; when the last one is
        // dropped, `done_rx` yields None: all sessions have ended.
        let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
        let slots = Arc::new(Mutex::new(Slots::default()));
        let mut accept_tasks = Vec::new();
        for listener in self.listeners {
            let shared = self.shared.clone();
            let stop_rx = stop_rx.clone();
            let done_tx = done_tx.clone();
            let slots = slots.clone();
            accept_tasks.push(tokio::spawn(accept_loop(
                listener, shared, stop_rx, done_tx, slots,
            )));
        }
        drop(done_tx);
        self.shared.metrics.listening.store(true, Ordering::Relaxed);
        shutdown.await;
        self.shared
            .metrics
            .listening
            .store(false, Ordering::Relaxed);
        hup.abort();
        tracing::info!("shutting down: no new sessions");
        for t in &accept_tasks {
            t.abort();
        }
        for t in accept_tasks {
            let _ = t.await;
        }
        let _ = stop_tx.send(true);
        let grace = self.shared.live().config.server.shutdown_grace;
        if tokio::time::timeout(grace, done_rx.recv()).await.is_err() {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "sessions still open after the grace period; closing them"
            );
        }
        if let Some(t) = control {
            t.abort();
        }
        if let Some(t) = console {
            t.abort();
        }
        if let Some(t) = ops {
            t.abort();
        }
        let audit = &self.shared.audit;
        if let Err(e) = audit.log(vec![crate::audit::Event::Stop]).await {
            tracing::error!(error = %e, "could not audit the stop");
        }
        // The log ends on a signature.
        audit.checkpoint().await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    stop_rx: watch::Receiver<bool>,
    done_tx: mpsc::Sender<()>,
    slots: Arc<Mutex<Slots>>,
) {
    loop {
        let (mut tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: back off, keep serving.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let ip = phigate_config::canonical_ip(peer.ip());
        let server = shared.live().config.server.clone();
        let slot = take_slot(&slots, ip, &server);
        let outcome = if slot.is_some() {
            "accepted"
        } else {
            "refused_limit"
        };
        shared
            .metrics
            .connections_total
            .with_label_values(&[outcome])
            .inc();
        let shared = shared.clone();
        let stop_rx = stop_rx.clone();
        let done_tx = done_tx.clone();
        tokio::spawn(async move {
            let _done = done_tx;
            match slot {
                Some(_slot) => crate::server::connection::serve(tcp, peer, shared, stop_rx).await,
                None => {
                    tracing::info!(client = %ip, "connection refused: too many connections");
                    let host = &server.hostname;
                    let msg = format!("421 4.7.0 {host} Too many connections, try again later\r\n");
                    let _ = tokio::time::timeout(
                        std::time::Duration::from_secs(5),
                        tcp.write_all(msg.as_bytes()),
                    )
                    .await;
                }
            }
        });
    }
}

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Reads the configuration file again and puts it in force: new sessions
/// and delivery rounds use it, sessions in progress finish on theirs. An
/// invalid file changes nothing. Either way the attempt is audited.
#[derive(Clone)]
pub(crate) struct Reloader {
    shared: Arc<Shared>,
}

impl Reloader {
    /// Reloads; the new configuration's origin, or why it was refused.
    pub async fn reload(&self) -> Result<String, ReloadError> {
        let shared = &self.shared;
        let result = match &shared.config_path {
            None => Err(ReloadError::EmbeddedDefault),
            Some(path) => {
                let path = path.clone();
                // Reading files and compiling the detectors is blocking work.
                let tls = shared.acceptor.is_some();
                tokio::task::spawn_blocking(move || prepare(&path, tls))
                    .await
                    .unwrap_or(Err(ReloadError::Interrupted))
            }
        };
        let m = &shared.metrics;
        let origin = shared.live().config.origin.clone();
        let outcome = match result {
            Ok(live) => {
                let old = shared.live();
                for key in restart_only(&old.config, &live.config) {
                    tracing::warn!(
                        key,
                        "changed in the file but needs a restart; the old value stays"
                    );
                }
                let origin = live.config.origin.clone();
                let delivery = live.delivery.clone();
                *shared.live.write().expect("live config") = Arc::new(live);
                shared.queue.reload(delivery);
                tracing::info!(config = %origin, "configuration reloaded");
                Ok(origin)
            }
            Err(e) => {
                // The error names file, line and key; it never holds message content.
                tracing::error!(error = %e, "configuration reload refused; the running configuration stays");
                Err(e)
            }
        };
        let ok = outcome.is_ok();
        m.config_reloads_total
            .with_label_values(&[if ok { "ok" } else { "failed" }])
            .inc();
        m.config_last_reload_success.set(i64::from(ok));
        let event = crate::audit::Event::ConfigReload {
            ok,
            config: outcome.as_ref().map_or(origin, Clone::clone),
        };
        if let Err(e) = shared.audit.log(vec![event]).await {
            tracing::error!(error = %e, "could not audit the reload");
        }
        outcome
    }
}

/// Why a reload changed nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// There is no file to read again.
    #[error("running on the embedded default configuration: nothing to reload")]
    EmbeddedDefault,
    /// The file is not valid (each problem with file, line and key).
    #[error("{0}")]
    Config(#[from] phigate_config::ConfigErrors),
    /// Something it asks for could not be built.
    #[error(transparent)]
    Build(#[from] crate::app::BuildError),
    /// The work was cut short (the gateway is stopping).
    #[error("reload interrupted")]
    Interrupted,
}

/// Loads and builds everything a reload replaces, or says what is wrong.
fn prepare(path: &std::path::Path, tls_available: bool) -> Result<crate::app::Live, ReloadError> {
    let config = Config::load(path)?;
    Ok(crate::app::Live::build(config, tls_available)?)
}

/// Keys whose new value only a restart can bring in force.
fn restart_only(old: &Config, new: &Config) -> Vec<&'static str> {
    let mut keys = Vec::new();
    if old.server.listen != new.server.listen {
        keys.push("server.listen");
    }
    if old.server.tls != new.server.tls {
        keys.push("server.tls");
    }
    if old.spool.dir != new.spool.dir {
        keys.push("spool.dir");
    }
    if old.audit.dir != new.audit.dir || old.audit.signing_key != new.audit.signing_key {
        keys.push("audit");
    }
    if old.metrics.listen != new.metrics.listen {
        keys.push("metrics.listen");
    }
    if old.delivery.concurrency != new.delivery.concurrency {
        keys.push("delivery.concurrency");
    }
    keys
}

async fn reload_on_sighup(reloader: Reloader) {
    let Some(mut hup) = crate::app::shutdown::hangups() else {
        return;
    };
    while hup.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading the configuration");
        let _ = reloader.reload().await;
    }
}
