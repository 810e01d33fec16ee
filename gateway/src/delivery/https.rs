//! The HTTPS the gateway speaks itself: fetching MTA-STS policies and
//! posting TLS reports. One request per connection, the host's name
//! verified against the public roots and `[tls] ca_file`, no redirects,
//! the response bounded.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::tls::Trust;

/// Largest response header block read.
pub const MAX_HEAD: usize = 16 * 1024;
/// Largest response read, headers and body together.
pub const MAX_RESPONSE: usize = MAX_HEAD + 64 * 1024 + 64;

/// One request.
pub struct Request<'a> {
    /// The host (its name is verified in the handshake).
    pub host: &'a str,
    /// Path and query.
    pub path: &'a str,
    /// For a POST: content type and body.
    pub post: Option<(&'a str, &'a [u8])>,
}

/// Why the request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpsError {
    /// No connection to any address.
    #[error("cannot connect")]
    Connect,
    /// The handshake or the certificate failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// The response is larger than [`MAX_RESPONSE`].
    #[error("response too large")]
    TooLarge,
}

/// Sends `req` to the first of `addrs` that answers; the raw response.
pub async fn send(
    req: &Request<'_>,
    addrs: &[SocketAddr],
    trust: &Trust,
) -> Result<Vec<u8>, HttpsError> {
    let mut tcp = None;
    for a in addrs {
        if let Ok(s) = TcpStream::connect(a).await {
            tcp = Some(s);
            break;
        }
    }
    let tcp = tcp.ok_or(HttpsError::Connect)?;
    let config = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .with_root_certificates(trust.roots())
        .with_no_client_auth();
    let name = ServerName::try_from(req.host.to_string()).map_err(|_| HttpsError::Connect)?;
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| HttpsError::Tls(e.to_string()))?;
    let mut head = match req.post {
        None => format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: phigate\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
            req.path, req.host
        ),
        Some((kind, body)) => format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: phigate\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            req.path,
            req.host,
            body.len()
        ),
    }
    .into_bytes();
    if let Some((_, body)) = req.post {
        head.extend_from_slice(body);
    }
    tls.write_all(&head)
        .await
        .map_err(|_| HttpsError::Connect)?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = match tls.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            // A peer closing without close_notify after the body is common.
            Err(_) if !raw.is_empty() => break,
            Err(_) => return Err(HttpsError::Connect),
        };
        raw.extend_from_slice(&buf[..n]);
        if raw.len() > MAX_RESPONSE {
            return Err(HttpsError::TooLarge);
        }
    }
    Ok(raw)
}

/// The status code of a raw response.
pub fn status(raw: &[u8]) -> Option<u16> {
    let line = raw.split(|&b| b == b'\n').next()?;
    std::str::from_utf8(line)
        .ok()?
        .split(' ')
        .nth(1)?
        .parse()
        .ok()
}

/// `https://host[:port]/path` split; `None` for anything else.
pub fn split_url(url: &str) -> Option<(String, Option<u16>, String)> {
    let rest = url.strip_prefix("https://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse().ok()?)),
        None => (authority, None),
    };
    (!host.is_empty() && !authority.contains('@'))
        .then(|| (host.to_ascii_lowercase(), port, path.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_statuses() {
        assert_eq!(
            split_url("https://r.example:8443/v1/tlsrpt"),
            Some(("r.example".into(), Some(8443), "/v1/tlsrpt".into()))
        );
        assert_eq!(
            split_url("https://R.example"),
            Some(("r.example".into(), None, "/".into()))
        );
        assert_eq!(split_url("http://r.example/"), None);
        assert_eq!(split_url("https://user@r.example/"), None);
        assert_eq!(status(b"HTTP/1.1 201 Created\r\n\r\n"), Some(201));
    }
}
