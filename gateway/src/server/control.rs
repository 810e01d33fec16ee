//! The control socket: how `phigate quarantine release|delete` and
//! `phigate reload` reach the running gateway. A Unix socket in the spool
//! directory, mode 0600, so only the gateway's own user (or root) can use
//! it; one JSON request line, one JSON reply line.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::queue::QuarantineOp;
use crate::queue::QueueHandle;
use crate::server::Reloader;
use crate::spool::QueueId;

/// Where the socket is for a spool directory.
pub fn socket_path(spool_dir: &Path) -> PathBuf {
    spool_dir.join("control.sock")
}

/// A request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Release a held message.
    Release {
        /// Queue ID.
        id: String,
    },
    /// Delete a held message.
    Delete {
        /// Queue ID.
        id: String,
    },
    /// Read the configuration file again.
    Reload,
    /// Mail the audit review of `[since, until)` to the security officer.
    Review {
        /// From, Unix seconds.
        since: u64,
        /// Until, exclusive.
        until: u64,
    },
    /// Send the TLS reports of a day (or of every finished day not yet sent).
    TlsReport {
        /// `YYYY-MM-DD`, UTC.
        #[serde(default)]
        day: Option<String>,
    },
}

/// A reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Response {
    /// Whether it was done.
    pub ok: bool,
    /// Recipients affected.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Why not, when not.
    #[serde(default)]
    pub error: Option<String>,
    /// After a reload: the configuration now in force.
    #[serde(default)]
    pub config: Option<String>,
}

/// Binds the socket (replacing a stale one: the spool lock already proves
/// no other gateway runs here) and serves it until the task is dropped.
pub(crate) fn listen(
    spool_dir: &Path,
    queue: QueueHandle,
    reloader: Reloader,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    use std::os::unix::fs::PermissionsExt;
    let path = socket_path(spool_dir);
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (queue, reloader) = (queue.clone(), reloader.clone());
            tokio::spawn(async move {
                let _ = serve(stream, &queue, &reloader).await;
            });
        }
    }))
}

async fn serve(
    stream: UnixStream,
    queue: &QueueHandle,
    reloader: &Reloader,
) -> std::io::Result<()> {
    let by = stream
        .peer_cred()
        .map(|c| format!("uid {}", c.uid()))
        .unwrap_or_else(|_| "unknown".into());
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let limited = tokio::io::AsyncReadExt::take(read, 4096);
    BufReader::new(limited).read_line(&mut line).await?;
    let response = match serde_json::from_str::<Request>(&line) {
        Err(e) => fail(format!("bad request: {e}")),
        Ok(Request::Reload) => match reloader.reload().await {
            Ok(origin) => Response {
                ok: true,
                recipients: Vec::new(),
                error: None,
                config: Some(origin),
            },
            Err(e) => fail(e.to_string()),
        },
        Ok(Request::Review { since, until }) => match queue.review(since, until).await {
            Ok(line) => Response {
                ok: true,
                recipients: vec![line],
                error: None,
                config: None,
            },
            Err(e) => fail(e),
        },
        Ok(Request::TlsReport { day }) => match queue.tls_report(day).await {
            Ok(lines) => Response {
                ok: true,
                recipients: lines,
                error: None,
                config: None,
            },
            Err(e) => fail(e),
        },
        Ok(req) => {
            let (id, op) = match &req {
                Request::Release { id } => (id, QuarantineOp::Release),
                Request::Delete { id } => (id, QuarantineOp::Delete),
                Request::Reload | Request::TlsReport { .. } | Request::Review { .. } => {
                    unreachable!("answered above")
                }
            };
            match id.parse::<QueueId>() {
                Err(_) => fail(format!("`{id}` is not a queue ID")),
                Ok(id) => match queue.quarantine(id, op, &by, None).await {
                    Ok(recipients) => Response {
                        ok: true,
                        recipients,
                        error: None,
                        config: None,
                    },
                    Err(e) => fail(e.to_string()),
                },
            }
        }
    };
    let mut out = serde_json::to_vec(&response).expect("responses serialise");
    out.push(b'\n');
    write.write_all(&out).await
}

fn fail(error: String) -> Response {
    Response {
        ok: false,
        recipients: Vec::new(),
        error: Some(error),
        config: None,
    }
}

/// Why the running gateway could not be asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// Nothing listens on the control socket.
    #[error(
        "cannot reach the running gateway at {path}: {source} (is `phigate serve` running with this configuration?)"
    )]
    Unreachable {
        /// The socket.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The exchange broke off.
    #[error("talking to the gateway: {0}")]
    Io(#[from] std::io::Error),
    /// The answer was not one.
    #[error("bad reply from the gateway: {0}")]
    BadReply(#[from] serde_json::Error),
}

/// Sends `req` to the gateway using `spool_dir` (blocking; for the CLI).
pub fn call(spool_dir: &Path, req: &Request) -> Result<Response, ControlError> {
    use std::io::{BufRead, Write};
    let path = socket_path(spool_dir);
    let mut s = std::os::unix::net::UnixStream::connect(&path).map_err(|source| {
        ControlError::Unreachable {
            path: path.display().to_string(),
            source,
        }
    })?;
    let mut line = serde_json::to_vec(req).expect("requests serialise");
    line.push(b'\n');
    s.write_all(&line)?;
    let mut reply = String::new();
    std::io::BufReader::new(s).read_line(&mut reply)?;
    Ok(serde_json::from_str(&reply)?)
}
