//! Load generator for the relay benchmark: `S` SMTP sessions sending `N`
//! messages built from the corpus to one server, each session reusing its
//! connection; prints one JSON line with the time taken and the accept
//! latency (end of data to the 250) at p50 and p99.
//!
//! Messages: a clean corpus message's text as the body, and, to reach the
//! size asked for, a base64 text attachment made of other clean corpus
//! messages, so that inspection decodes and reads it all. Only messages the
//! labels mark as clean are used: the sink at the far end has no TLS, and
//! the benchmark measures delivery, not quarantine.
//!
//! ```text
//! relay-load --addr 127.0.0.1:2525 --messages 2000 --sessions 20 --size 102400 --corpus tests/corpus/dev
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

struct Args {
    addr: String,
    messages: usize,
    sessions: usize,
    size: usize,
    corpus: PathBuf,
    limit: Duration,
}

const USAGE: &str = "usage: relay-load [--addr HOST:PORT] [--messages N] [--sessions N] \
[--size BYTES] [--corpus DIR] [--limit SECS]";

/// The options, or what is wrong with them (printed with the usage).
fn args() -> Result<Args, String> {
    let mut a = Args {
        addr: "127.0.0.1:2525".into(),
        messages: 1000,
        sessions: 20,
        size: 4096,
        corpus: PathBuf::from("tests/corpus/dev"),
        limit: Duration::from_secs(600),
    };
    fn number(k: &str, v: &str) -> Result<usize, String> {
        v.parse()
            .map_err(|_| format!("{k} takes a whole number, not {v:?}"))
    }
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--addr" => a.addr = v,
            "--messages" => a.messages = number(&k, &v)?,
            "--sessions" => a.sessions = number(&k, &v)?,
            "--size" => a.size = number(&k, &v)?,
            "--corpus" => a.corpus = v.into(),
            "--limit" => a.limit = Duration::from_secs(number(&k, &v)? as u64),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if a.messages == 0 || a.sessions == 0 {
        return Err("--messages and --sessions must be at least 1".into());
    }
    Ok(a)
}

/// Bodies of the clean corpus messages (after their header block).
fn clean_texts(dir: &std::path::Path) -> Vec<String> {
    let path = dir.join("labels.jsonl");
    let labels = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("relay-load: {}: {e} (see --corpus)", path.display());
        std::process::exit(2);
    });
    let mut out = Vec::new();
    for line in labels.lines() {
        if !line.contains("\"phi\": false") {
            continue;
        }
        let Some(file) = line
            .split("\"file\": \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
        else {
            continue;
        };
        let raw = std::fs::read(dir.join(file)).expect("corpus file");
        let raw = String::from_utf8_lossy(&raw);
        // Only plain single-part messages make a clean text body.
        if raw.to_ascii_lowercase().contains("content-type: multipart") {
            continue;
        }
        if let Some((_, body)) = raw.split_once("\r\n\r\n") {
            out.push(body.to_string());
        }
    }
    assert!(
        !out.is_empty(),
        "no clean single-part messages in the corpus"
    );
    out
}

/// Message `i` of about `size` bytes, CRLF line endings.
fn message(i: usize, size: usize, texts: &[String]) -> Vec<u8> {
    let body = &texts[i % texts.len()];
    let mut m = format!(
        "From: Front Desk <desk@clinic.example>\r\nTo: <billing@payer.example>\r\nSubject: load {i}\r\nMessage-ID: <{i}.load@clinic.example>\r\nMIME-Version: 1.0\r\n"
    );
    let room = size.saturating_sub(m.len() + body.len() + 400);
    if room < 512 {
        m += "Content-Type: text/plain; charset=utf-8\r\n\r\n";
        m += body;
    } else {
        // The attachment's text: other clean messages until it is big enough.
        let raw_len = room / 4 * 3;
        let mut att = String::with_capacity(raw_len);
        let mut k = i + 1;
        while att.len() < raw_len {
            att += &texts[k % texts.len()];
            k += 1;
        }
        att.truncate(raw_len);
        let b64 = base64::engine::general_purpose::STANDARD.encode(att.as_bytes());
        m += "Content-Type: multipart/mixed; boundary=\"b-load\"\r\n\r\n--b-load\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
        m += body;
        m += "\r\n--b-load\r\nContent-Type: text/plain; charset=utf-8; name=\"notes.txt\"\r\nContent-Disposition: attachment; filename=\"notes.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\n";
        for chunk in b64.as_bytes().chunks(76) {
            m += std::str::from_utf8(chunk).expect("base64 is ASCII");
            m += "\r\n";
        }
        m += "--b-load--\r\n";
    }
    // Dot-stuff and terminate.
    let mut wire = Vec::with_capacity(m.len() + 16);
    for line in m.split_inclusive('\n') {
        if line.starts_with('.') {
            wire.push(b'.');
        }
        wire.extend_from_slice(line.as_bytes());
    }
    if !wire.ends_with(b"\r\n") {
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b".\r\n");
    wire
}

struct Conn {
    r: BufReader<TcpStream>,
}

impl Conn {
    async fn reply(&mut self) -> std::io::Result<u16> {
        loop {
            let mut line = String::new();
            if self.r.read_line(&mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if line.len() >= 4 && line.as_bytes()[3] == b' ' {
                return Ok(line[..3].parse().unwrap_or(0));
            }
        }
    }

    async fn cmd(&mut self, line: &str) -> std::io::Result<u16> {
        self.r.get_mut().write_all(line.as_bytes()).await?;
        self.reply().await
    }
}

async fn session(
    addr: String,
    next: Arc<AtomicUsize>,
    total: usize,
    wires: Arc<Vec<Vec<u8>>>,
    deadline: Instant,
) -> std::io::Result<(Vec<Duration>, usize)> {
    let tcp = TcpStream::connect(&addr).await?;
    tcp.set_nodelay(true)?;
    let mut c = Conn {
        r: BufReader::new(tcp),
    };
    c.reply().await?;
    c.cmd("EHLO load.clinic.example\r\n").await?;
    let mut lat = Vec::new();
    let mut failed = 0;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total || Instant::now() > deadline {
            break;
        }
        let ok = c.cmd("MAIL FROM:<desk@clinic.example>\r\n").await? == 250
            && c.cmd("RCPT TO:<billing@payer.example>\r\n").await? == 250
            && c.cmd("DATA\r\n").await? == 354;
        if !ok {
            failed += 1;
            c.cmd("RSET\r\n").await?;
            continue;
        }
        c.r.get_mut().write_all(&wires[i % wires.len()]).await?;
        let t = Instant::now();
        let code = c.reply().await?;
        lat.push(t.elapsed());
        if code != 250 {
            failed += 1;
        }
    }
    let _ = c.cmd("QUIT\r\n").await;
    Ok((lat, failed))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("relay-load: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let texts = clean_texts(&a.corpus);
    // A few hundred distinct messages, reused round-robin.
    let wires: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..a.messages.min(256))
            .map(|i| message(i, a.size, &texts))
            .collect(),
    );
    let avg = wires.iter().map(Vec::len).sum::<usize>() / wires.len();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + a.limit;
    let tasks: Vec<_> = (0..a.sessions)
        .map(|_| {
            tokio::spawn(session(
                a.addr.clone(),
                next.clone(),
                a.messages,
                wires.clone(),
                deadline,
            ))
        })
        .collect();
    let mut lat = Vec::new();
    let mut failed = 0;
    let mut broken = 0;
    for t in tasks {
        match t.await.expect("session task") {
            Ok((l, f)) => {
                lat.extend(l);
                failed += f;
            }
            Err(_) => broken += 1,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let accepted = lat.len() - failed.min(lat.len());
    println!(
        "{{\"sent\":{},\"accepted\":{accepted},\"failed\":{failed},\"broken_sessions\":{broken},\"avg_bytes\":{avg},\"secs\":{secs:.3},\"p50_ms\":{:.2},\"p99_ms\":{:.2}}}",
        lat.len(),
        pct(0.50),
        pct(0.99)
    );
    if accepted < a.messages {
        std::process::exit(1);
    }
}
