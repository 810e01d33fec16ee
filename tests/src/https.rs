//! An HTTPS server for MTA-STS policies and TLS reports: answers
//! `GET /.well-known/mta-sts.txt` with the policy configured for the
//! request's `Host` (`mta-sts.<domain>`), 404 otherwise; takes any POST
//! (a TLS report) and keeps it; counts requests.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::ca::Identity;

/// A POST received: path, content type, body.
#[derive(Debug, Clone)]
pub struct Post {
    pub path: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A running policy server; stops when dropped.
pub struct PolicyServer {
    pub addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    posts: Arc<std::sync::Mutex<Vec<Post>>>,
    task: tokio::task::JoinHandle<()>,
}

impl PolicyServer {
    /// Serves `policies` (domain -> policy text) with the certificate `id`.
    pub async fn start(id: &Identity, policies: &[(&str, &str)]) -> PolicyServer {
        let tls = tokio_rustls::TlsAcceptor::from(crate::downstream::server_tls(id));
        let policies: Arc<HashMap<String, String>> = Arc::new(
            policies
                .iter()
                .map(|(d, p)| (format!("mta-sts.{d}"), p.to_string()))
                .collect(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let posts: Arc<std::sync::Mutex<Vec<Post>>> = Arc::default();
        let kept = posts.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (tls, policies, counter, kept) =
                    (tls.clone(), policies.clone(), counter.clone(), kept.clone());
                tokio::spawn(async move {
                    let Ok(mut s) = tls.accept(tcp).await else {
                        return;
                    };
                    let mut req = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16384 {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => req.extend_from_slice(&buf[..n]),
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let end = req.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    let head = String::from_utf8_lossy(&req[..end]).into_owned();
                    if head.starts_with("POST ") {
                        let header = |name: &str| {
                            head.lines()
                                .find_map(|l| {
                                    let (k, v) = l.split_once(':')?;
                                    k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                                })
                                .unwrap_or_default()
                        };
                        let len: usize = header("content-length").parse().unwrap_or(0);
                        let mut body = req[end..].to_vec();
                        while body.len() < len.min(1 << 20) {
                            match s.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => body.extend_from_slice(&buf[..n]),
                            }
                        }
                        kept.lock().unwrap().push(Post {
                            path: head.split(' ').nth(1).unwrap_or("").to_string(),
                            content_type: header("content-type"),
                            body,
                        });
                        let _ = s
                            .write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                            .await;
                        let _ = s.shutdown().await;
                        return;
                    }
                    let req = head;
                    let host = req
                        .lines()
                        .find_map(|l| l.strip_prefix("Host: "))
                        .unwrap_or("")
                        .trim()
                        .to_string();
                    let wanted = req.starts_with("GET /.well-known/mta-sts.txt HTTP/1.1\r\n");
                    let reply = match policies.get(&host) {
                        Some(p) if wanted => format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{p}",
                            p.len()
                        ),
                        _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_string(),
                    };
                    let _ = s.write_all(reply.as_bytes()).await;
                    let _ = s.shutdown().await;
                });
            }
        });
        PolicyServer {
            addr,
            hits,
            posts,
            task,
        }
    }

    /// POSTs received so far.
    pub fn posts(&self) -> Vec<Post> {
        self.posts.lock().unwrap().clone()
    }

    /// Requests served so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for PolicyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
