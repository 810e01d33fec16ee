//! An SMTP client for tests: raw lines in, parsed replies out, over plain
//! TCP or after STARTTLS. Scripts read like transcripts:
//!
//! ```text
//! S: 220
//! C: EHLO client.test
//! S: 250
//! S~ STARTTLS            (the reply contains this text somewhere)
//! ```

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;

/// Longest a test waits for one reply.
const REPLY_WAIT: Duration = Duration::from_secs(20);

/// One server reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// Text of each line, without the code and separator.
    pub lines: Vec<String>,
}

impl Reply {
    /// All lines joined, for `contains` checks.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.text())
    }
}

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Gone,
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s).poll_read(cx, buf),
            Io::Gone => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s).poll_write(cx, buf),
            Io::Gone => Poll::Ready(Ok(buf.len())),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s).poll_flush(cx),
            Io::Gone => Poll::Ready(Ok(())),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s).poll_shutdown(cx),
            Io::Gone => Poll::Ready(Ok(())),
        }
    }
}

/// A test SMTP client.
pub struct Client {
    io: Io,
    buf: Vec<u8>,
    /// Longest wait for one reply ([`REPLY_WAIT`] unless a test says).
    wait: Duration,
}

impl Client {
    /// Waits up to `wait` for each reply from now on: for a test whose
    /// gateway is meant to work hard (inspections queued behind others)
    /// on a machine that may be busy with other tests.
    pub fn patient(mut self, wait: Duration) -> Client {
        self.wait = wait;
        self
    }

    /// Connects from the default source address.
    pub async fn connect(addr: SocketAddr) -> Client {
        let tcp = TcpStream::connect(addr).await.expect("connect to gateway");
        Client::from_tcp(tcp)
    }

    /// Connects, checks the 220 greeting and says `EHLO client.test`.
    pub async fn greeted(addr: SocketAddr) -> Client {
        let mut c = Client::connect(addr).await;
        let greeting = c.reply().await;
        assert_eq!(greeting.code, 220, "{greeting}");
        c.expect("EHLO client.test", 250).await;
        c
    }

    /// [`Client::greeted`], then `MAIL FROM:<a@clinic.example>` and
    /// `RCPT TO:<b@payer.example>`: ready for DATA or BDAT.
    pub async fn in_transaction(addr: SocketAddr) -> Client {
        let mut c = Client::greeted(addr).await;
        c.expect("MAIL FROM:<a@clinic.example>", 250).await;
        c.expect("RCPT TO:<b@payer.example>", 250).await;
        c
    }

    /// Connects from `source` (e.g. 127.0.0.2), to test relay rules.
    pub async fn connect_from(addr: SocketAddr, source: std::net::IpAddr) -> Client {
        let sock = if source.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .unwrap();
        sock.bind(SocketAddr::new(source, 0)).unwrap();
        Client::from_tcp(sock.connect(addr).await.expect("connect to gateway"))
    }

    fn from_tcp(tcp: TcpStream) -> Client {
        tcp.set_nodelay(true).unwrap();
        Client {
            wait: REPLY_WAIT,
            io: Io::Plain(tcp),
            buf: Vec::new(),
        }
    }

    /// Sends raw bytes as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.expect("write to gateway");
        self.io.flush().await.unwrap();
    }

    /// Sends bytes as they are; `false` when the gateway has closed the
    /// connection (a test that expects to be cut off).
    pub async fn try_send_raw(&mut self, bytes: &[u8]) -> bool {
        self.io.write_all(bytes).await.is_ok() && self.io.flush().await.is_ok()
    }

    /// Sends one command line (CRLF added).
    pub async fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\r\n").as_bytes()).await;
    }

    /// Reads one (possibly multi-line) reply.
    pub async fn reply(&mut self) -> Reply {
        self.try_reply()
            .await
            .expect("a reply, but the connection closed")
    }

    /// Reads one reply, or `None` if the server closed the connection first.
    pub async fn try_reply(&mut self) -> Option<Reply> {
        let mut lines = Vec::new();
        loop {
            let line = self.read_line().await?;
            assert!(line.len() >= 3, "short reply line {line:?}");
            let code: u16 = line[..3]
                .parse()
                .unwrap_or_else(|_| panic!("bad reply line {line:?}"));
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line.get(4..).unwrap_or("").to_string());
            if last {
                return Some(Reply { code, lines });
            }
        }
    }

    async fn read_line(&mut self) -> Option<String> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).collect();
                return Some(String::from_utf8_lossy(&line[..i]).into_owned());
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(self.wait, self.io.read(&mut chunk))
                .await
                .expect("gateway did not reply in time")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends a command and returns the reply.
    pub async fn cmd(&mut self, line: &str) -> Reply {
        self.send(line).await;
        self.reply().await
    }

    /// Sends a command and asserts the reply code.
    pub async fn expect(&mut self, line: &str, code: u16) -> Reply {
        let r = self.cmd(line).await;
        assert_eq!(r.code, code, "C: {line}\nS: {r}");
        r
    }

    /// Whether the server closes the connection: reads, discarding what
    /// comes (a TLS alert, say), until end of file, an error or a time-out.
    pub async fn is_closed(&mut self) -> bool {
        let mut chunk = [0u8; 1024];
        let read_to_end = async {
            loop {
                match self.io.read(&mut chunk).await {
                    Ok(0) | Err(_) => return true,
                    Ok(_) => {}
                }
            }
        };
        tokio::time::timeout(REPLY_WAIT, read_to_end)
            .await
            .unwrap_or(false)
    }

    /// Upgrades to TLS trusting `root`, verifying `server_name`.
    pub async fn starttls(&mut self, root: CertificateDer<'static>, server_name: &str) {
        self.starttls_as(root, server_name, None).await
    }

    /// As [`Client::starttls`], presenting `client` (certificate and key
    /// files) as a client certificate, as a provider's connector does.
    pub async fn starttls_as(
        &mut self,
        root: CertificateDer<'static>,
        server_name: &str,
        client: Option<&crate::ca::Identity>,
    ) {
        let Io::Plain(tcp) = std::mem::replace(&mut self.io, Io::Gone) else {
            panic!("already TLS");
        };
        assert!(
            self.buf.is_empty(),
            "bytes after 220 before TLS: {:?}",
            self.buf
        );
        let mut roots = rustls::RootCertStore::empty();
        roots.add(root).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
        let config = match client {
            None => config.with_no_client_auth(),
            Some(id) => {
                use rustls_pki_types::pem::PemObject;
                let certs = CertificateDer::pem_file_iter(&id.cert)
                    .unwrap()
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap();
                let key = rustls_pki_types::PrivateKeyDer::from_pem_file(&id.key).unwrap();
                config.with_client_auth_cert(certs, key).unwrap()
            }
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = ServerName::try_from(server_name.to_string()).unwrap();
        let tls = connector.connect(name, tcp).await.expect("TLS handshake");
        self.io = Io::Tls(Box::new(tls));
    }

    /// EHLO, MAIL, RCPT..., DATA with `body` (which must end in CRLF);
    /// returns the final reply.
    pub async fn send_message(&mut self, from: &str, to: &[&str], body: &[u8]) -> Reply {
        self.expect(&format!("MAIL FROM:<{from}>"), 250).await;
        for t in to {
            self.expect(&format!("RCPT TO:<{t}>"), 250).await;
        }
        self.expect("DATA", 354).await;
        let mut wire = dot_stuff(body);
        wire.extend_from_slice(b".\r\n");
        self.send_raw(&wire).await;
        self.reply().await
    }
}

/// Dot-stuffs content for DATA.
pub fn dot_stuff(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 16);
    let mut at_line_start = true;
    for &b in body {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    out
}

/// Plays a transcript against the gateway at `addr`. `C:` lines are sent;
/// `S: 250 2.1.0` expects a reply whose code and first text match that
/// prefix; `S~ TEXT` expects the reply to contain TEXT; `S: closed` expects
/// the server to close. Returns the client for further steps.
pub async fn converse(addr: SocketAddr, script: &str) -> Client {
    let mut c = Client::connect(addr).await;
    play(&mut c, script).await;
    c
}

/// Plays a transcript on an existing client.
pub async fn play(c: &mut Client, script: &str) {
    for line in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line == "C:" {
            c.send("").await;
        } else if let Some(cmd) = line.strip_prefix("C: ") {
            c.send(cmd).await;
        } else if line == "S: closed" {
            assert!(c.is_closed().await, "expected the server to close");
        } else if let Some(want) = line.strip_prefix("S: ") {
            let r = c.reply().await;
            let got = format!("{} {}", r.code, r.lines[0]);
            assert!(got.starts_with(want), "expected `{want}`, got `{r}`");
        } else if let Some(want) = line.strip_prefix("S~ ") {
            let r = c.reply().await;
            assert!(
                r.to_string().contains(want),
                "expected reply containing `{want}`, got `{r}`"
            );
        } else {
            panic!("bad script line {line:?}");
        }
    }
}
