//! SIGKILL under load: every message that got a 250 survives, byte for byte.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use phigate_tests::GatewayBuilder;
use phigate_tests::client::dot_stuff;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const MESSAGES: usize = 1000;
const CLIENTS: usize = 20;
/// Kill the gateway when this many messages have been acknowledged.
const KILL_AT: [usize; 2] = [300, 650];

fn message(i: usize) -> Vec<u8> {
    let filler = format!("line {i} of filler text to make the message a realistic size\r\n")
        .repeat(20 + i % 40);
    format!("Subject: crash test {i}\r\nMessage-ID: <{i}@crash.test>\r\n\r\n{filler}.dot line {i}\r\nend {i}\r\n")
        .into_bytes()
}

/// A client that reports failure instead of panicking: the gateway dies
/// under it on purpose.
pub(crate) struct Raw {
    pub(crate) r: BufReader<TcpStream>,
}

impl Raw {
    pub(crate) async fn connect(addr: SocketAddr) -> std::io::Result<Raw> {
        let tcp = TcpStream::connect(addr).await?;
        let mut c = Raw {
            r: BufReader::new(tcp),
        };
        c.reply().await?;
        c.cmd("EHLO crash.test").await?;
        Ok(c)
    }

    pub(crate) async fn reply(&mut self) -> std::io::Result<(u16, String)> {
        loop {
            let mut line = String::new();
            if self.r.read_line(&mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if line.len() < 4 {
                return Err(std::io::ErrorKind::InvalidData.into());
            }
            if line.as_bytes()[3] == b' ' {
                let code = line[..3]
                    .parse()
                    .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidData))?;
                return Ok((code, line[4..].trim_end().to_string()));
            }
        }
    }

    pub(crate) async fn cmd(&mut self, line: &str) -> std::io::Result<(u16, String)> {
        self.r
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await?;
        self.reply().await
    }

    /// Some(queue id) on 250.
    async fn send(&mut self, body: &[u8]) -> std::io::Result<Option<String>> {
        if self.cmd("MAIL FROM:<a@clinic.example>").await?.0 != 250
            || self.cmd("RCPT TO:<b@payer.example>").await?.0 != 250
            || self.cmd("DATA").await?.0 != 354
        {
            return Ok(None);
        }
        let mut wire = dot_stuff(body);
        wire.extend_from_slice(b".\r\n");
        self.r.get_mut().write_all(&wire).await?;
        let (code, text) = self.reply().await?;
        Ok((code == 250).then(|| text.rsplit(' ').next().unwrap_or("").to_string()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_run_loses_no_acknowledged_message() {
    let mut gw = GatewayBuilder::new().spawn();
    let addr = gw.addr;
    let todo: Arc<Mutex<VecDeque<usize>>> = Arc::new(Mutex::new((0..MESSAGES).collect()));
    let acked: Arc<Mutex<HashMap<usize, String>>> = Arc::default();
    let acked_n = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(240);

    let mut workers = Vec::new();
    for _ in 0..CLIENTS {
        let (todo, acked, acked_n) = (todo.clone(), acked.clone(), acked_n.clone());
        workers.push(tokio::spawn(async move {
            let mut conn: Option<Raw> = None;
            loop {
                assert!(Instant::now() < deadline, "crash test ran out of time");
                let Some(i) = todo.lock().unwrap().pop_front() else {
                    return;
                };
                if conn.is_none() {
                    conn = Raw::connect(addr).await.ok();
                }
                let result = match conn.as_mut() {
                    Some(c) => c.send(&message(i)).await,
                    None => Err(std::io::ErrorKind::ConnectionRefused.into()),
                };
                match result {
                    Ok(Some(id)) => {
                        acked.lock().unwrap().insert(i, id);
                        acked_n.fetch_add(1, Ordering::SeqCst);
                    }
                    // No 250: not accepted; send it again later.
                    _ => {
                        todo.lock().unwrap().push_back(i);
                        conn = None;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }));
    }

    for kill_at in KILL_AT {
        while acked_n.load(Ordering::SeqCst) < kill_at {
            assert!(Instant::now() < deadline, "no progress before kill");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        gw.kill();
        tokio::time::sleep(Duration::from_millis(200)).await;
        tokio::task::block_in_place(|| gw.start());
    }
    for w in workers {
        w.await.unwrap();
    }

    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), MESSAGES);
    let spool = gw.spool();
    let by_id: HashMap<String, &Vec<u8>> = spool
        .messages
        .iter()
        .map(|m| (m.envelope.id.to_string(), m.message.as_ref().unwrap()))
        .collect();
    for (i, id) in &acked {
        let stored = by_id
            .get(id)
            .unwrap_or_else(|| panic!("message {i} acknowledged as {id} is missing"));
        let body = message(*i);
        assert!(stored.ends_with(&body), "message {i} ({id}) differs");
        let header = &stored[..stored.len() - body.len()];
        assert!(
            header.starts_with(b"Received: ") && header.ends_with(b" +0000\r\n"),
            "message {i}: bad trace header"
        );
    }
    // Messages stored but never acknowledged (killed between fsync and
    // reply) are whole copies of something sent, never fragments.
    let sent: Vec<Vec<u8>> = (0..MESSAGES).map(message).collect();
    for m in &spool.messages {
        let stored = m.message.as_ref().unwrap();
        assert!(
            sent.iter().any(|b| stored.ends_with(b)),
            "{} is not a message that was sent",
            m.envelope.id
        );
    }
    assert!(spool.messages.len() >= MESSAGES);
    eprintln!(
        "crash test: {} acknowledged, {} stored ({} stored without acknowledgement)",
        acked.len(),
        spool.messages.len(),
        spool.messages.len() - acked.len()
    );
}

/// Sends `body` to a@payer.example and b@hospital.example until it gets a
/// 250, reconnecting whenever the gateway is gone (it is killed on purpose).
pub(crate) async fn send_two_until_accepted(
    conn: &mut Option<Raw>,
    addr: SocketAddr,
    body: &[u8],
    deadline: Instant,
) {
    loop {
        assert!(Instant::now() < deadline, "could not send");
        if conn.is_none() {
            *conn = Raw::connect(addr).await.ok();
        }
        let Some(c) = conn.as_mut() else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let sent = async {
            if c.cmd("MAIL FROM:<desk@clinic.example>").await?.0 != 250
                || c.cmd("RCPT TO:<a@payer.example>").await?.0 != 250
                || c.cmd("RCPT TO:<b@hospital.example>").await?.0 != 250
                || c.cmd("DATA").await?.0 != 354
            {
                return Ok::<bool, std::io::Error>(false);
            }
            let wire = [&dot_stuff(body)[..], b".\r\n"].concat();
            c.r.get_mut().write_all(&wire).await?;
            Ok(c.reply().await?.0 == 250)
        };
        match sent.await {
            Ok(true) => return,
            _ => {
                *conn = None;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// SIGKILL while deliveries are in flight: after a restart every recipient
/// still reaches the downstream (some perhaps twice; none never).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_deliveries_loses_no_recipient() {
    use phigate_tests::downstream::{Behaviour, Downstream};
    use std::collections::HashSet;

    const N: usize = 150;
    let ds = Downstream::start(Behaviour::default()).await;
    let mut gw = GatewayBuilder::new()
        .toml(&format!(
            "[delivery]\nretry_initial_secs = 1\nretry_max_secs = 1\n[[delivery.route]]\ndomains = [\"payer.example\", \"hospital.example\"]\nrelay = \"[127.0.0.1]:{}\"\n",
            ds.addr.port()
        ))
        .spawn();
    let addr = gw.addr;
    let deadline = Instant::now() + Duration::from_secs(120);
    // Send every message (clean content: opportunistic TLS, plaintext here).
    let sender = tokio::spawn(async move {
        let mut acked = Vec::new();
        let mut c: Option<Raw> = None;
        for i in 0..N {
            let body = format!("Subject: crash delivery {i}\r\n\r\ntoken-{i}\r\n").into_bytes();
            send_two_until_accepted(&mut c, addr, &body, deadline).await;
            acked.push(i);
        }
        acked
    });
    // Kill once deliveries are under way, then restart.
    while ds.received().len() < 40 {
        assert!(Instant::now() < deadline, "deliveries never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    gw.kill();
    tokio::time::sleep(Duration::from_millis(200)).await;
    tokio::task::block_in_place(|| gw.start());
    let acked = sender.await.unwrap();
    assert_eq!(acked.len(), N);
    // Every (message, recipient) pair arrives at least once.
    let mut seen: HashSet<(usize, String)> = HashSet::new();
    while Instant::now() < deadline {
        for r in ds.received() {
            let text = String::from_utf8_lossy(&r.data).into_owned();
            if let Some(i) = text
                .split("token-")
                .nth(1)
                .and_then(|t| t.trim().parse::<usize>().ok())
            {
                for rcpt in &r.rcpts {
                    seen.insert((i, rcpt.clone()));
                }
            }
        }
        if seen.len() == 2 * N {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let missing: Vec<_> = (0..N)
        .flat_map(|i| {
            [
                (i, "a@payer.example".to_string()),
                (i, "b@hospital.example".to_string()),
            ]
        })
        .filter(|k| !seen.contains(k))
        .collect();
    assert!(
        missing.is_empty(),
        "recipients lost: {missing:?}\nlog:\n{}",
        gw.log()
    );
    let duplicates: usize = ds.received().iter().map(|r| r.rcpts.len()).sum::<usize>() - 2 * N;
    eprintln!(
        "crash during delivery: {} deliveries for {} recipients ({duplicates} repeated)",
        2 * N + duplicates,
        2 * N
    );
}
