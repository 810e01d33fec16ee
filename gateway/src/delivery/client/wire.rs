//! The wire under a delivery session: bounded reads of reply lines,
//! commands and replies within the command timeout, dot-stuffing.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::time::timeout;

use super::Stop;
use crate::delivery::reply::{Lines, MAX_LINE, Reply};
use crate::smtp::status::{Class, Failure, Stage};

/// Any byte stream a session runs over (plain TCP or TLS).
pub(super) trait Wire: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Wire for T {}

/// Reads one line (up to and including LF) of at most `max` bytes; `None`
/// at end of stream. Longer lines are an error, found before they are
/// buffered whole.
pub async fn read_line_bounded<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
    max: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok((!line.is_empty()).then_some(line));
        }
        match memchr::memchr(b'\n', buf) {
            Some(i) if line.len() + i < max => {
                line.extend_from_slice(&buf[..=i]);
                r.consume(i + 1);
                return Ok(Some(line));
            }
            Some(_) => break,
            None => {
                let n = buf.len();
                if line.len() + n >= max {
                    break;
                }
                line.extend_from_slice(buf);
                r.consume(n);
            }
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "reply line too long",
    ))
}

pub(super) struct Io<S> {
    pub(super) r: BufReader<S>,
    pub(super) wait: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Io<S> {
    /// Reads a whole reply (all continuation lines) within the command
    /// timeout, bounded in line length and total size. `stage` names what
    /// was waited for, should the reply not come.
    pub(super) async fn reply(&mut self, stage: Stage) -> Result<Reply, Stop> {
        let lost = |class| Stop::Fail(Failure::ours(stage, class, false));
        let deadline = tokio::time::Instant::now() + self.wait;
        let mut lines = Lines::default();
        loop {
            let line = tokio::time::timeout_at(deadline, read_line_bounded(&mut self.r, MAX_LINE))
                .await
                .map_err(|_| lost(Class::Timeout))?
                .map_err(|e| {
                    lost(if e.kind() == std::io::ErrorKind::InvalidData {
                        Class::ProtocolError
                    } else {
                        Class::ConnectionLost
                    })
                })?;
            let Some(line) = line else {
                return Err(lost(Class::ConnectionLost));
            };
            match lines.push(&line) {
                Ok(Some(reply)) => return Ok(reply),
                Ok(None) => {}
                Err(_) => return Err(lost(Class::ProtocolError)),
            }
        }
    }

    pub(super) async fn send(&mut self, bytes: &[u8], stage: Stage) -> Result<(), Stop> {
        let w = self.r.get_mut();
        timeout(self.wait, async {
            w.write_all(bytes).await?;
            w.flush().await
        })
        .await
        .map_err(|_| Stop::Fail(Failure::ours(stage, Class::Timeout, false)))?
        .map_err(|_| Stop::Fail(Failure::ours(stage, Class::ConnectionLost, false)))
    }

    /// Sends one command and reads its reply.
    pub(super) async fn cmd(&mut self, line: &str) -> Result<Reply, Stop> {
        let stage = Stage::of_command(line);
        self.send(format!("{line}\r\n").as_bytes(), stage).await?;
        self.reply(stage).await
    }

    pub(super) async fn ehlo(&mut self, helo: &str) -> Result<Vec<String>, Stop> {
        let r = self.cmd(&format!("EHLO {helo}")).await?;
        if r.code == 250 {
            // Keywords after the first line, upper case.
            return Ok(r.text.split(' ').map(|s| s.to_ascii_uppercase()).collect());
        }
        let r = self.cmd(&format!("HELO {helo}")).await?;
        match r.code {
            250 => Ok(Vec::new()),
            c => Err(Stop::Fail(Failure::reply(Stage::Greeting, c, &r.text))),
        }
    }
}

/// Dot-stuffs a CRLF message and appends the end-of-data line.
pub fn dot_stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    if message.first() == Some(&b'.') {
        out.push(b'.');
    }
    // Copy whole runs between the few places a line starts with a dot.
    let mut copied = 0;
    for nl in memchr::memchr_iter(b'\n', message) {
        if message.get(nl + 1) == Some(&b'.') {
            out.extend_from_slice(&message[copied..=nl]);
            out.push(b'.');
            copied = nl + 1;
        }
    }
    out.extend_from_slice(&message[copied..]);
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}
