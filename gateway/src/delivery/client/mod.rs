//! A small SMTP client for delivery.
//!
//! Not lettre: its async transport treats a rejected RCPT as a failure of
//! the whole send, while a relay must keep per-recipient outcomes (some 250,
//! some 4xx, some 5xx) and go on with the accepted ones; and we need to run
//! STARTTLS ourselves, see the negotiated version, cipher and peer
//! certificate, and ask the TLS policy for a [`Permit`] between the
//! handshake and `MAIL FROM`. This client does exactly that and no more.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use phigate_config::TlsLevel;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

mod pool;
mod wire;

pub use pool::Pool;
pub use wire::{dot_stuffed, read_line_bounded};

use pool::{Established, MAX_USES, PoolKey};
use wire::{Io, Wire};

use super::tls::{HopAuth, Permit, PolicyRefusal, TlsDetails, Trust, effective, permit};
use crate::smtp::status::{Class, Failure, Stage};

/// One delivery attempt's work.
pub struct Job<'a> {
    /// Our EHLO name.
    pub helo: &'a str,
    /// Reverse-path ("" = null sender).
    pub from: &'a str,
    /// Recipients to attempt.
    pub rcpts: &'a [String],
    /// The message, CRLF line endings.
    pub message: &'a [u8],
    /// Whether the content is 8-bit (BODY=8BITMIME).
    pub eight_bit: bool,
    /// Whether SMTPUTF8 is needed.
    pub smtputf8: bool,
    /// REQUIRETLS (RFC 8689): the sender asked that every hop be
    /// authenticated TLS; only a next hop that is (MTA-STS for an MX host,
    /// or a configured route, verified) and offers REQUIRETLS gets it.
    pub requiretls: bool,
    /// Ask for REQUIRETLS on the next hop when it is authenticated and
    /// offers it, though the sender did not (`[tls] requiretls_for_phi`).
    pub offer_requiretls: bool,
    /// Whether the hops come from an MX lookup (authenticated only by an
    /// MTA-STS approval) rather than the configuration.
    pub mx: bool,
    /// What the transport rule requires of the channel.
    pub required: crate::policy::transport::Requirement,
    /// AUTH credentials (smarthost), used only over TLS.
    pub auth: Option<(&'a str, &'a str)>,
    /// Time to connect.
    pub connect_timeout: Duration,
    /// Time for each reply.
    pub command_timeout: Duration,
}

/// A next hop host.
#[derive(Debug, Clone)]
pub struct Hop {
    /// Name the certificate must match (host name, or the IP as text).
    pub name: String,
    /// Address to connect to.
    pub addr: SocketAddr,
}

/// What happened to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptResult {
    /// The server took the message for this recipient (its reply code and
    /// enhanced status code).
    Delivered(String),
    /// Refused for good (5xx).
    Permanent(Failure),
    /// Try again later (4xx, connection trouble, policy).
    Temporary(Failure),
}

impl RcptResult {
    fn of(f: Failure) -> RcptResult {
        if f.permanent() {
            RcptResult::Permanent(f)
        } else {
            RcptResult::Temporary(f)
        }
    }
}

/// The record of one attempt (host, TLS, per-recipient replies, time).
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Host name and address tried.
    pub hop: Hop,
    /// TLS as negotiated, if any.
    pub tls: Option<TlsDetails>,
    /// Outcome per recipient, in `Job::rcpts` order.
    pub results: Vec<RcptResult>,
    /// Set when the TLS policy stopped the message before anything was sent.
    pub refusal: Option<PolicyRefusal>,
    /// Whether the connection itself failed (try the next host).
    pub connection_failed: bool,
    /// How long it took.
    pub duration: Duration,
}

/// A failure that ends the session for every recipient.
enum Stop {
    /// A reply or a broken conversation.
    Fail(Failure),
    /// The TLS policy forbids this channel.
    Policy(PolicyRefusal),
    /// `may`: the handshake failed; try again without TLS.
    RetryPlain,
    /// No conversation at all: try the next host.
    Connect(Failure),
}

/// Delivers `job` to `hop`, reusing a cached session to it when one is
/// alive (RSET answered), and caching the session afterwards. `auth` is
/// what authenticates the hop beyond its certificate's name: an enforced
/// MTA-STS policy listing it, or its DNSSEC-secure TLSA records.
pub async fn deliver(
    hop: &Hop,
    job: &Job<'_>,
    auth: &HopAuth,
    trust: &Trust,
    pool: &Pool,
) -> Attempt {
    let started = Instant::now();
    let level = effective(job.required, auth);
    let key = PoolKey {
        addr: hop.addr,
        name: hop.name.clone(),
        level,
        auth: job.auth.map(|(u, _)| u.to_string()),
    };
    let mut tls = None;
    let mut cached = None;
    if let Some(mut c) = pool.take(&key)
        && c.io.cmd("RSET").await.is_ok_and(|r| r.code == 250)
    {
        cached = Some(c);
    }
    let established = match cached {
        Some(c) => Ok(c),
        None => {
            let mut r = session(hop, job, auth, trust, true, &mut tls).await;
            if matches!(r, Err(Stop::RetryPlain)) {
                tls = None;
                r = session(hop, job, auth, trust, false, &mut tls).await;
            }
            r
        }
    };
    let result = match established {
        Err(stop) => Err(stop),
        Ok(mut c) => {
            tls = c.tls.clone();
            // The same check for a fresh and a reused session: no byte of
            // the message goes before the policy approves this channel.
            match permit(job.required, c.tls.as_ref(), auth) {
                Err(p) => Err(Stop::Policy(p)),
                Ok(p) => {
                    let verified = c.tls.as_ref().is_some_and(|t| t.verified);
                    let r = transaction(&mut c.io, job, &c.ext, verified, auth.authenticates(), p)
                        .await;
                    if r.is_ok() {
                        c.uses += 1;
                        if c.uses < MAX_USES {
                            pool.put(key, c);
                        } else {
                            let _ = c.io.cmd("QUIT").await;
                        }
                    }
                    r
                }
            }
        }
    };
    let n = job.rcpts.len();
    let mut attempt = Attempt {
        hop: hop.clone(),
        tls,
        results: Vec::new(),
        refusal: None,
        connection_failed: false,
        duration: started.elapsed(),
    };
    attempt.results = match result {
        Ok(r) => r,
        Err(Stop::Fail(f)) => vec![RcptResult::of(f); n],
        Err(Stop::Connect(f)) => {
            // No conversation with this host, whatever it said: another
            // host, or a later try, may do better.
            attempt.connection_failed = true;
            vec![RcptResult::Temporary(f); n]
        }
        Err(Stop::Policy(p)) => {
            let f = p.failure();
            attempt.refusal = Some(p);
            vec![RcptResult::Temporary(f); n]
        }
        Err(Stop::RetryPlain) => {
            let f = Failure::ours(Stage::Tls, Class::TlsFailed, false);
            vec![RcptResult::Temporary(f); n]
        }
    };
    attempt
}

/// Connects, greets, runs STARTTLS as the level asks, and AUTH.
async fn session(
    hop: &Hop,
    job: &Job<'_>,
    auth: &HopAuth,
    trust: &Trust,
    try_tls: bool,
    tls_out: &mut Option<TlsDetails>,
) -> Result<Established, Stop> {
    let level = effective(job.required, auth);
    let unreached = |class| Stop::Connect(Failure::ours(Stage::Connect, class, false));
    let tcp = timeout(job.connect_timeout, TcpStream::connect(hop.addr))
        .await
        .map_err(|_| unreached(Class::ConnectTimeout))?
        .map_err(|e| {
            unreached(match e.kind() {
                std::io::ErrorKind::ConnectionRefused => Class::ConnectionRefused,
                std::io::ErrorKind::TimedOut => Class::ConnectTimeout,
                _ => Class::Unreachable,
            })
        })?;
    let _ = tcp.set_nodelay(true);
    let mut io = Io {
        r: BufReader::new(tcp),
        wait: job.command_timeout,
    };
    let greeting = io.reply(Stage::Greeting).await?;
    if greeting.code != 220 {
        let f = Failure::reply(Stage::Greeting, greeting.code, &greeting.text);
        return Err(Stop::Connect(f));
    }
    let ext = io.ehlo(job.helo).await?;
    let offers_tls = ext.iter().any(|e| e == "STARTTLS");
    let want_tls = try_tls && level > TlsLevel::None && offers_tls;
    if !want_tls {
        permit(job.required, None, auth).map_err(Stop::Policy)?;
        let boxed: Box<dyn Wire> = Box::new(io.r.into_inner());
        return Ok(Established {
            io: Io {
                r: BufReader::new(boxed),
                wait: job.command_timeout,
            },
            ext,
            tls: None,
            uses: 0,
        });
    }
    let r = io.cmd("STARTTLS").await?;
    if r.code != 220 {
        return match level {
            TlsLevel::May => Err(Stop::RetryPlain),
            level => Err(Stop::Policy(PolicyRefusal::Handshake {
                level: level.as_str(),
                error: r.summary(),
            })),
        };
    }
    if !io.r.buffer().is_empty() {
        // Data before the handshake: an injection attempt or a broken server.
        return Err(Stop::Fail(Failure::ours(
            Stage::Tls,
            Class::ProtocolError,
            false,
        )));
    }
    let (config, check) = super::tls::client_config(trust, level.verifies(), &auth.tlsa);
    let name = match hop.name.parse::<std::net::IpAddr>() {
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => ServerName::try_from(hop.name.clone())
            .map_err(|_| Stop::Fail(Failure::ours(Stage::Dns, Class::NoRoute, false)))?,
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::clone(&config));
    let handshake = timeout(
        job.command_timeout,
        connector.connect(name, io.r.into_inner()),
    )
    .await;
    let recorded = check.lock().expect("cert slot").clone();
    let stream = match handshake {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            let error = recorded
                .as_ref()
                .and_then(|c| c.error.clone())
                .unwrap_or_else(|| e.to_string());
            return match level {
                TlsLevel::May => Err(Stop::RetryPlain),
                l if l.verifies() => Err(Stop::Policy(PolicyRefusal::NotVerified {
                    error,
                    class: recorded
                        .as_ref()
                        .and_then(|c| c.class)
                        .unwrap_or(Class::TlsFailed),
                })),
                level => Err(Stop::Policy(PolicyRefusal::Handshake {
                    level: level.as_str(),
                    error,
                })),
            };
        }
        Err(_) => {
            return Err(Stop::Fail(Failure::ours(Stage::Tls, Class::Timeout, false)));
        }
    };
    let (version, cipher) = crate::tls::negotiated(stream.get_ref().1);
    let details = TlsDetails {
        version,
        cipher,
        verified: recorded.as_ref().is_some_and(|c| c.error.is_none()),
        verify_error: recorded.as_ref().and_then(|c| c.error.clone()),
        verify_class: recorded.as_ref().and_then(|c| c.class),
        dane: recorded.as_ref().and_then(|c| c.dane.clone()),
        subject: recorded
            .as_ref()
            .map(|c| c.subject.clone())
            .unwrap_or_default(),
        fingerprint: recorded
            .as_ref()
            .map(|c| c.fingerprint.clone())
            .unwrap_or_default(),
    };
    *tls_out = Some(details.clone());
    permit(job.required, Some(&details), auth).map_err(Stop::Policy)?;
    let boxed: Box<dyn Wire> = Box::new(stream);
    let mut io = Io {
        r: BufReader::new(boxed),
        wait: job.command_timeout,
    };
    let ext = io.ehlo(job.helo).await?;
    if let Some((user, pass)) = job.auth {
        use base64::Engine;
        let cred = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"));
        let r = io.cmd(&format!("AUTH PLAIN {cred}")).await?;
        if r.code != 235 {
            return Err(Stop::Fail(Failure::reply(Stage::Auth, r.code, &r.text)));
        }
    }
    Ok(Established {
        io,
        ext,
        tls: Some(details),
        uses: 0,
    })
}

/// MAIL, RCPT for each recipient, DATA. Needs a [`Permit`]: the TLS policy
/// has approved this channel.
async fn transaction<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut Io<S>,
    job: &Job<'_>,
    ext: &[String],
    tls_verified: bool,
    approved: bool,
    _permit: Permit,
) -> Result<Vec<RcptResult>, Stop> {
    let mut mail = format!("MAIL FROM:<{}>", job.from);
    if ext.iter().any(|e| e == "SIZE") {
        mail.push_str(&format!(" SIZE={}", job.message.len()));
    }
    if job.eight_bit && ext.iter().any(|e| e == "8BITMIME") {
        mail.push_str(" BODY=8BITMIME");
    }
    if job.smtputf8 {
        if !ext.iter().any(|e| e == "SMTPUTF8") {
            return Err(Stop::Fail(Failure::ours(
                Stage::Mail,
                Class::Smtputf8Unsupported,
                true,
            )));
        }
        mail.push_str(" SMTPUTF8");
    }
    // The next hop is authenticated: verified TLS to a host MTA-STS lists
    // (MX), or to a next hop the configuration names.
    let authenticated = tls_verified && (approved || !job.mx);
    let offers = ext.iter().any(|e| e == "REQUIRETLS");
    if job.requiretls && !(authenticated && offers) {
        return Err(Stop::Fail(Failure::ours(
            Stage::Mail,
            Class::RequiretlsUnsupported,
            true,
        )));
    }
    if (job.requiretls || job.offer_requiretls) && authenticated && offers {
        mail.push_str(" REQUIRETLS");
    }
    let r = io.cmd(&mail).await?;
    if r.code != 250 {
        return Err(Stop::Fail(Failure::reply(Stage::Mail, r.code, &r.text)));
    }
    let mut results = Vec::with_capacity(job.rcpts.len());
    for rcpt in job.rcpts {
        let r = io.cmd(&format!("RCPT TO:<{rcpt}>")).await?;
        results.push(match r.code {
            250 | 251 => RcptResult::Delivered(String::new()),
            c => RcptResult::of(Failure::reply(Stage::Rcpt, c, &r.text)),
        });
    }
    if !results
        .iter()
        .any(|r| matches!(r, RcptResult::Delivered(_)))
    {
        return Ok(results);
    }
    let r = io.cmd("DATA").await?;
    if r.code != 354 {
        let outcome = RcptResult::of(Failure::reply(Stage::Data, r.code, &r.text));
        return Ok(accepted_become(results, outcome));
    }
    io.send(&dot_stuffed(job.message), Stage::Data).await?;
    let r = match io.reply(Stage::Data).await {
        Ok(r) => r,
        // Lost after the data: the server may or may not have it. Retrying
        // may deliver twice; not retrying may lose it. We retry.
        Err(Stop::Fail(f)) => return Ok(accepted_become(results, RcptResult::Temporary(f))),
        Err(e) => return Err(e),
    };
    let outcome = match r.code {
        250 => RcptResult::Delivered(r.summary()),
        c => RcptResult::of(Failure::reply(Stage::Data, c, &r.text)),
    };
    Ok(accepted_become(results, outcome))
}

fn accepted_become(results: Vec<RcptResult>, outcome: RcptResult) -> Vec<RcptResult> {
    results
        .into_iter()
        .map(|r| match r {
            RcptResult::Delivered(_) => outcome.clone(),
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{dot_stuffed, read_line_bounded};

    /// Regression (security review): a downstream sending `220 ` and then
    /// gigabytes without a newline grew memory without bound.
    #[tokio::test]
    async fn an_endless_line_is_cut_off() {
        let endless = tokio::io::repeat(b'x');
        let mut r = tokio::io::BufReader::new(endless);
        let e = read_line_bounded(&mut r, 4096).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        let mut ok = tokio::io::BufReader::new(&b"250 ok\r\nrest"[..]);
        assert_eq!(
            read_line_bounded(&mut ok, 4096).await.unwrap().unwrap(),
            b"250 ok\r\n"
        );
    }

    #[test]
    fn stuffing() {
        assert_eq!(dot_stuffed(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(dot_stuffed(b".x"), b"..x\r\n.\r\n");
        assert_eq!(
            dot_stuffed(b".\r\n..\r\nx\r\n.\r\n"),
            b"..\r\n...\r\nx\r\n..\r\n.\r\n"
        );
        assert_eq!(dot_stuffed(b""), b"\r\n.\r\n");
        assert_eq!(dot_stuffed(b"a\nb"), b"a\nb\r\n.\r\n");
    }
}
