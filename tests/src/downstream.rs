//! A downstream SMTP server for delivery tests: listens on loopback,
//! records what it receives (and whether over TLS), and misbehaves on
//! request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::ca::Identity;

/// How the server behaves.
#[derive(Default, Clone)]
pub struct Behaviour {
    /// Offer STARTTLS with this certificate.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Do not advertise STARTTLS even if it has a certificate (a
    /// STARTTLS-stripping man in the middle).
    pub strip_starttls: bool,
    /// RCPT replies by recipient address (default `250 2.1.5 ok`).
    pub rcpt_replies: HashMap<String, String>,
    /// Answer MAIL with 451 in the first N sessions.
    pub tempfail_sessions: usize,
    /// Close the connection halfway through the data of the first N sessions.
    pub drop_in_data_sessions: usize,
    /// Offer AUTH PLAIN (after STARTTLS) and accept only this user and password.
    pub auth: Option<(String, String)>,
    /// Answer MAIL with 451 in every Nth session (a flaky server); 0: never.
    pub flaky_every: usize,
}

/// A message as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub rcpts: Vec<String>,
    pub data: Vec<u8>,
    pub tls: bool,
    /// The user that authenticated in the session, if any.
    pub auth: Option<String>,
}

/// A running downstream server.
pub struct Downstream {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    sessions: Arc<AtomicUsize>,
    /// Every byte seen in plaintext (before any STARTTLS), all sessions.
    plaintext: Arc<Mutex<Vec<u8>>>,
}

impl Downstream {
    pub async fn start(b: Behaviour) -> Downstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let d = Downstream {
            addr,
            received: Arc::default(),
            sessions: Arc::default(),
            plaintext: Arc::default(),
        };
        let (received, sessions, plaintext) =
            (d.received.clone(), d.sessions.clone(), d.plaintext.clone());
        let b = Arc::new(b);
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let n = sessions.fetch_add(1, Ordering::SeqCst);
                let (b, received, plaintext) = (b.clone(), received.clone(), plaintext.clone());
                tokio::spawn(async move {
                    let _ = serve(tcp, n, &b, &received, &plaintext).await;
                });
            }
        });
        d
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn sessions(&self) -> usize {
        self.sessions.load(Ordering::SeqCst)
    }

    /// Everything that crossed the wire unencrypted.
    pub fn plaintext(&self) -> Vec<u8> {
        self.plaintext.lock().unwrap().clone()
    }

    /// Waits until `n` messages have arrived (at most `limit`).
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        loop {
            let r = self.received();
            if r.len() >= n || Instant::now() > deadline {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A rustls server config from PEM files.
pub fn server_tls(id: &Identity) -> Arc<rustls::ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&id.cert)
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(&id.key).unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    Arc::new(cfg)
}

struct Session<S> {
    r: BufReader<S>,
    tls: bool,
    /// The transaction being built: sender and accepted recipients.
    pending: Option<(String, Vec<String>)>,
    /// Who authenticated.
    auth: Option<String>,
}

async fn serve(
    tcp: tokio::net::TcpStream,
    n: usize,
    b: &Behaviour,
    received: &Mutex<Vec<Received>>,
    plaintext: &Mutex<Vec<u8>>,
) -> std::io::Result<()> {
    let mut s = Session {
        r: BufReader::new(tcp),
        tls: false,
        pending: None,
        auth: None,
    };
    s.r.get_mut()
        .write_all(b"220 downstream.test ESMTP\r\n")
        .await?;
    loop {
        let Some(line) = read_line(&mut s, plaintext).await? else {
            return Ok(());
        };
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("STARTTLS") {
            let Some(cfg) = b.tls.clone().filter(|_| !b.strip_starttls) else {
                s.r.get_mut().write_all(b"502 5.5.1 no\r\n").await?;
                continue;
            };
            s.r.get_mut().write_all(b"220 2.0.0 go ahead\r\n").await?;
            let tls = tokio_rustls::TlsAcceptor::from(cfg)
                .accept(s.r.into_inner())
                .await?;
            let mut t = Session {
                r: BufReader::new(tls),
                tls: true,
                pending: None,
                auth: None,
            };
            return transactions(&mut t, n, b, received, plaintext).await;
        }
        if !respond(&mut s, &line, n, b, received, plaintext).await? {
            return Ok(());
        }
    }
}

async fn transactions<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut Session<S>,
    n: usize,
    b: &Behaviour,
    received: &Mutex<Vec<Received>>,
    plaintext: &Mutex<Vec<u8>>,
) -> std::io::Result<()> {
    while let Some(line) = read_line(s, plaintext).await? {
        if !respond(s, &line, n, b, received, plaintext).await? {
            break;
        }
    }
    Ok(())
}

async fn read_line<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut Session<S>,
    plaintext: &Mutex<Vec<u8>>,
) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    if s.r.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    if !s.tls {
        plaintext.lock().unwrap().extend_from_slice(line.as_bytes());
    }
    Ok(Some(line.trim_end().to_string()))
}

/// Handles one command; false when the session should end.
async fn respond<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut Session<S>,
    line: &str,
    n: usize,
    b: &Behaviour,
    received: &Mutex<Vec<Received>>,
    plaintext: &Mutex<Vec<u8>>,
) -> std::io::Result<bool> {
    let upper = line.to_ascii_uppercase();
    let w = |t: &str| t.to_string();
    let reply = if upper.starts_with("EHLO") {
        let tls = b.tls.is_some() && !b.strip_starttls && !s.tls;
        let auth = b.auth.is_some() && s.tls;
        format!(
            "250-downstream.test\r\n250-8BITMIME\r\n250-SIZE 100000000\r\n{}{}250 SMTPUTF8",
            if tls { "250-STARTTLS\r\n" } else { "" },
            if auth { "250-AUTH PLAIN\r\n" } else { "" }
        )
    } else if upper.starts_with("AUTH PLAIN ") {
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(line[11..].trim())
            .unwrap_or_default();
        let parts: Vec<String> = decoded
            .split(|&c| c == 0)
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        match (&b.auth, parts.as_slice()) {
            (Some((u, p)), [_, user, pass]) if user == u && pass == p && s.tls => {
                s.auth = Some(user.clone());
                w("235 2.7.0 ok")
            }
            _ => w("535 5.7.8 no"),
        }
    } else if upper.starts_with("HELO") || upper.starts_with("NOOP") || upper.starts_with("RSET") {
        w("250 ok")
    } else if upper.starts_with("MAIL FROM:") {
        if n < b.tempfail_sessions || (b.flaky_every > 0 && n.is_multiple_of(b.flaky_every)) {
            w("451 4.3.0 try again later")
        } else {
            s.pending = Some((between(line, '<', '>'), Vec::new()));
            w("250 2.1.0 ok")
        }
    } else if upper.starts_with("RCPT TO:") {
        let rcpt = between(line, '<', '>');
        let reply = b
            .rcpt_replies
            .get(&rcpt)
            .cloned()
            .unwrap_or_else(|| "250 2.1.5 ok".into());
        if reply.starts_with('2')
            && let Some((_, r)) = s.pending.as_mut()
        {
            r.push(rcpt);
        }
        reply
    } else if upper == "DATA" {
        s.r.get_mut().write_all(b"354 go\r\n").await?;
        let mut data = Vec::new();
        loop {
            let mut l = Vec::new();
            if s.r.read_until(b'\n', &mut l).await? == 0 {
                return Ok(false);
            }
            if !s.tls {
                plaintext.lock().unwrap().extend_from_slice(&l);
            }
            if l == b".\r\n" {
                break;
            }
            if n < b.drop_in_data_sessions && data.len() > 10 {
                return Ok(false);
            }
            let l = if l.starts_with(b"..") {
                l[1..].to_vec()
            } else {
                l
            };
            data.extend_from_slice(&l);
        }
        if let Some((from, rcpts)) = s.pending.take() {
            received.lock().unwrap().push(Received {
                from,
                rcpts,
                data,
                tls: s.tls,
                auth: s.auth.clone(),
            });
        }
        w("250 2.0.0 queued downstream")
    } else if upper.starts_with("QUIT") {
        s.r.get_mut().write_all(b"221 bye\r\n").await?;
        return Ok(false);
    } else {
        w("500 5.5.2 what")
    };
    s.r.get_mut()
        .write_all(format!("{reply}\r\n").as_bytes())
        .await?;
    Ok(true)
}

fn between(s: &str, a: char, b: char) -> String {
    let start = s.find(a).map_or(0, |i| i + 1);
    let end = s[start..].find(b).map_or(s.len(), |i| start + i);
    s[start..end].to_string()
}

/// A downstream offering STARTTLS with a certificate for `names` (expired
/// if asked) from a fresh test CA, and the CA a gateway must trust for it;
/// `extra` sets the rest of its behaviour.
pub async fn tls_downstream(
    names: &[&str],
    expired: bool,
    extra: Behaviour,
) -> (crate::TestCa, Downstream) {
    let ca = crate::TestCa::new("phigate test CA");
    let dir = tempfile::tempdir().unwrap();
    let id = ca.issue_with(dir.path(), "down", names, expired);
    let ds = Downstream::start(Behaviour {
        tls: Some(server_tls(&id)),
        ..extra
    })
    .await;
    (ca, ds)
}

/// [`tls_downstream`] for 127.0.0.1 with a valid certificate.
pub async fn trusted_tls(extra: Behaviour) -> (crate::TestCa, Downstream) {
    tls_downstream(&["127.0.0.1"], false, extra).await
}
