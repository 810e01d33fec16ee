//! Listeners, connection limits and graceful shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;

use phigate_config::Config;

use crate::smtp::session::Limits;
use crate::spool::{Spool, SpoolError};
use crate::tls::TlsError;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The spool could not be opened.
    #[error("spool {dir}: {source}")]
    Spool {
        /// Spool directory.
        dir: String,
        /// Cause.
        source: SpoolError,
    },
    /// The TLS identity could not be loaded.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The detectors could not be built from `[detectors]`.
    #[error("detectors: {0}")]
    Detectors(#[from] phigate_detectors::BuildError),
    /// Outbound TLS trust anchors could not be loaded.
    #[error("{0}")]
    Trust(String),
    /// The audit log could not be opened.
    #[error("audit log {dir}: {source}")]
    Audit {
        /// Audit directory.
        dir: String,
        /// Cause.
        source: crate::audit::AuditError,
    },
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
}

/// What every session shares.
pub(crate) struct Shared {
    pub config: Arc<Config>,
    pub limits: Limits,
    pub spool: Spool,
    pub acceptor: Option<TlsAcceptor>,
    /// PHI detectors, run on every message before it is spooled.
    pub engine: Arc<phigate_detectors::Engine>,
    /// Tells the queue manager about new messages.
    pub queue: crate::delivery::QueueHandle,
    /// Decides what happens to each recipient.
    pub policy: crate::policy::Policy,
    /// The audit log.
    pub audit: crate::audit::Audit,
}

/// Counts sessions in total and per client address.
#[derive(Default)]
struct Slots {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// A session's place in [`Slots`], given back when dropped.
struct Slot {
    slots: Arc<Mutex<Slots>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut s = self.slots.lock().expect("slots lock");
        s.total -= 1;
        if let Some(n) = s.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                s.per_ip.remove(&self.ip);
            }
        }
    }
}

fn take_slot(
    slots: &Arc<Mutex<Slots>>,
    ip: IpAddr,
    max_total: usize,
    max_per_ip: usize,
) -> Option<Slot> {
    let mut s = slots.lock().expect("slots lock");
    let mine = s.per_ip.get(&ip).copied().unwrap_or(0);
    if s.total >= max_total || mine >= max_per_ip {
        return None;
    }
    s.total += 1;
    *s.per_ip.entry(ip).or_insert(0) += 1;
    Some(Slot {
        slots: slots.clone(),
        ip,
    })
}

/// A bound, ready gateway.
pub struct Server {
    listeners: Vec<TcpListener>,
    shared: Arc<Shared>,
    queue_rx: tokio::sync::mpsc::UnboundedReceiver<crate::delivery::queue::Command>,
    trust: crate::delivery::tls::Trust,
    /// Messages found waiting in the spool at start.
    pub waiting: usize,
}

impl Server {
    /// Opens the spool, loads TLS and binds every listener; nothing is
    /// accepted until [`Server::run`].
    pub async fn bind(config: Config) -> Result<Server, StartError> {
        let acceptor = config
            .server
            .tls
            .as_ref()
            .map(crate::tls::acceptor)
            .transpose()?;
        let engine = Arc::new(crate::inspect::engine(&config.detectors)?);
        let trust = crate::delivery::queue::trust(&config).map_err(StartError::Trust)?;
        let (queue, queue_rx) = crate::delivery::queue::channel();
        let sp = &config.spool;
        let opened = Spool::open(&sp.dir, sp.segment_size, sp.group_commit).map_err(|source| {
            StartError::Spool {
                dir: sp.dir.display().to_string(),
                source,
            }
        })?;
        let audit =
            crate::audit::Audit::open(&config.audit).map_err(|source| StartError::Audit {
                dir: config.audit.dir.display().to_string(),
                source,
            })?;
        audit
            .log(vec![crate::audit::Event::Start {
                version: env!("CARGO_PKG_VERSION").to_string(),
                config: config.origin.clone(),
            }])
            .await
            .map_err(|source| StartError::Audit {
                dir: config.audit.dir.display().to_string(),
                source,
            })?;
        let mut listeners = Vec::new();
        for &addr in &config.server.listen {
            listeners.push(listen(addr).map_err(|source| StartError::Bind { addr, source })?);
        }
        let policy = crate::policy::Policy::new(config.policy.clone(), config.encryption.is_some());
        let limits = Limits {
            hostname: config.server.hostname.clone(),
            max_message_size: config.server.max_message_size,
            max_recipients: config.server.max_recipients,
            max_errors: config.server.max_errors,
            tls_available: acceptor.is_some(),
            auth_available: !config.server.users.is_empty(),
        };
        Ok(Server {
            listeners,
            shared: Arc::new(Shared {
                config: Arc::new(config),
                limits,
                spool: opened.spool,
                acceptor,
                engine,
                queue,
                policy,
                audit,
            }),
            queue_rx,
            trust,
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
        crate::delivery::queue::spawn(
            self.shared.spool.clone(),
            self.shared.audit.clone(),
            self.shared.config.clone(),
            self.trust,
            (self.shared.queue.clone(), self.queue_rx),
            stop_rx.clone(),
        );
        let control = match crate::control::listen(
            self.shared.spool.dir(),
            self.shared.queue.clone(),
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
        shutdown.await;
        tracing::info!("shutting down: no new sessions");
        for t in &accept_tasks {
            t.abort();
        }
        for t in accept_tasks {
            let _ = t.await;
        }
        let _ = stop_tx.send(true);
        let grace = self.shared.config.server.shutdown_grace;
        if tokio::time::timeout(grace, done_rx.recv()).await.is_err() {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "sessions still open after the grace period; closing them"
            );
        }
        if let Some(t) = control {
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
    let cfg = shared.config.clone();
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
        let slot = take_slot(
            &slots,
            ip,
            cfg.server.max_connections,
            cfg.server.max_connections_per_ip,
        );
        let shared = shared.clone();
        let stop_rx = stop_rx.clone();
        let done_tx = done_tx.clone();
        tokio::spawn(async move {
            let _done = done_tx;
            match slot {
                Some(_slot) => crate::connection::serve(tcp, peer, shared, stop_rx).await,
                None => {
                    tracing::info!(client = %ip, "connection refused: too many connections");
                    let host = &shared.config.server.hostname;
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
