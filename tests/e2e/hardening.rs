//! The gateway tried as an attacker would: hostile downstreams, hostile
//! clients, loops, and an insider who can write the audit directory. Each
//! test is a regression test for a hole the security review found.

use std::collections::HashMap;
use std::io::Write as _;
use std::time::{Duration, Instant};

use phigate_tests::downstream::{Behaviour, Downstream};
use phigate_tests::syslog::Collector;
use phigate_tests::{Client, GatewayBuilder, TestCa};
use tokio::io::AsyncWriteExt;

const SSN: &str = "135-14-4832";
const NAME: &str = "Zephyrine Okonkwo";

/// Regression: a downstream's refusal text (even over verified TLS) was
/// copied into the DSN, which went to the sender's domain in clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dsn_never_quotes_the_remote_reply() {
    let leak = format!("550 5.1.1 <x@payer.example>: Patient: {NAME}, DOB 03/04/1965, SSN {SSN}");
    let refusing = Downstream::start(Behaviour {
        rcpt_replies: HashMap::from([("x@payer.example".to_string(), leak)]),
        ..Behaviour::default()
    })
    .await;
    // The sender's domain: plaintext, so every byte of the DSN is seen.
    let senders = Downstream::start(Behaviour::default()).await;
    let gw = GatewayBuilder::new()
        .toml(&format!(
            "[tls]\ndefault = \"none\"\n[[delivery.route]]\ndomains = [\"payer.example\"]\nrelay = \"[127.0.0.1]:{}\"\n\
             [[delivery.route]]\ndomains = [\"clinic.example\"]\nrelay = \"[127.0.0.1]:{}\"\n",
            refusing.addr.port(),
            senders.addr.port()
        ))
        .start()
        .await;
    let mut c = Client::greeted(gw.addr).await;
    let r = c
        .send_message(
            "desk@clinic.example",
            &["x@payer.example"],
            b"Subject: lunch\r\n\r\nSee you at noon.\r\n",
        )
        .await;
    assert_eq!(r.code, 250, "{r}");
    let got = senders.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1, "a DSN reached the sender's domain");
    let dsn = String::from_utf8_lossy(&got[0].data).into_owned();
    assert!(dsn.contains("Status: 5.1.1"), "{dsn}");
    let wire = String::from_utf8_lossy(&senders.plaintext()).into_owned();
    for value in [SSN, NAME, "03/04/1965"] {
        assert!(
            !dsn.contains(value) && !wire.contains(value),
            "{value} in the DSN:\n{dsn}"
        );
    }
    gw.shutdown().await;
}

/// Regression: a domain whose MX points back at the gateway was relayed to
/// itself thousands of times a second. Now it bounces at once (5.4.6), and
/// a message that comes in with too many Received: headers is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_loops_are_broken() {
    let senders = Downstream::start(Behaviour::default()).await;
    let port = phigate_tests::gateway::free_port();
    let gw = GatewayBuilder::new()
        .toml(&format!(
            "[tls]\ndefault = \"none\"\n[delivery]\nport = {port}\n[delivery.dns]\nmode = \"static\"\n\
             mx = {{ \"loop.example\" = [\"mx.loop.example\"] }}\nhosts = {{ \"mx.loop.example\" = [\"127.0.0.1\"] }}\n\
             [[delivery.route]]\ndomains = [\"clinic.example\"]\nrelay = \"[127.0.0.1]:{}\"\n",
            senders.addr.port()
        ))
        .spawn_on(port);
    let mut c = Client::greeted(gw.addr).await;
    let r = c
        .send_message(
            "desk@clinic.example",
            &["a@loop.example"],
            b"Subject: x\r\n\r\nhi\r\n",
        )
        .await;
    assert_eq!(r.code, 250, "{r}");
    let got = senders.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1, "the sender heard of the loop");
    let dsn = String::from_utf8_lossy(&got[0].data);
    assert!(dsn.contains("5.4.6"), "{dsn}");
    // Hop count: 51 Received: headers is a loop wherever it came from.
    let mut body = String::new();
    for i in 0..51 {
        body += &format!("Received: from hop{i}.example by hop{}.example\r\n", i + 1);
    }
    body += "Subject: loop\r\n\r\nround and round\r\n";
    c.expect("MAIL FROM:<desk@clinic.example>", 250).await;
    c.expect("RCPT TO:<b@payer.example>", 250).await;
    c.expect("DATA", 354).await;
    c.send_raw(body.as_bytes()).await;
    c.send_raw(b".\r\n").await;
    let r = c.reply().await;
    assert_eq!(r.code, 554, "{r}");
    assert!(r.text().contains("5.4.6"), "{r}");
    let log = gw.log();
    assert!(
        log.matches("next hop is this gateway").count() <= 2,
        "relayed to itself:\n{log}"
    );
    gw.terminate();
}

/// Regression: NUL bytes in DATA were relayed unchanged; a server that
/// strips them would see other content than we inspected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_bytes_are_refused() {
    let gw = GatewayBuilder::new().start().await;
    let mut c = Client::greeted(gw.addr).await;
    c.expect("MAIL FROM:<desk@clinic.example>", 250).await;
    c.expect("RCPT TO:<a@payer.example>", 250).await;
    c.expect("DATA", 354).await;
    c.send_raw(b"Subject: x\r\n\r\nSSN 135-14\x0048-32\r\n.\r\n")
        .await;
    let r = c.reply().await;
    assert_eq!(r.code, 554, "{r}");
    assert!(r.text().contains("NUL"), "{r}");
    // The session goes on.
    c.expect("NOOP", 250).await;
    gw.shutdown().await;
}

/// Regression: timeouts reset on every byte, so a client trickling a byte
/// now and then held a session forever. A command line and DATA now have
/// deadlines of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_clients_are_cut_off() {
    let gw = GatewayBuilder::new()
        .server("command_timeout_secs", "2")
        .server("data_timeout_secs", "2")
        .server("min_data_rate", "1000")
        .start()
        .await;
    // A command, one byte every 400 ms.
    let mut c = Client::connect(gw.addr).await;
    c.reply().await;
    let started = Instant::now();
    for b in b"EHLO slow.example.with.a.long.name\r\n" {
        if !c.try_send_raw(&[*b]).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        if started.elapsed() > Duration::from_secs(6) {
            break;
        }
    }
    let r = c.reply().await;
    assert_eq!(r.code, 421, "{r}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // DATA, ten bytes every 400 ms (25 bytes/s, under the 1000 bytes/s floor).
    let mut c = Client::in_transaction(gw.addr).await;
    c.expect("DATA", 354).await;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(6) {
        if !c.try_send_raw(b"0123456789").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        if c.is_closed().await {
            break;
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    gw.shutdown().await;
}

/// Clients that may not relay without AUTH share a smaller pool of slots:
/// a flood of them leaves room for the practice's own servers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_clients_cannot_take_every_slot() {
    let gw = GatewayBuilder::new()
        .server("relay_networks", "[\"127.0.0.1/32\"]")
        .server("max_connections", "4")
        .server("max_connections_untrusted", "2")
        .start()
        .await;
    let outsider: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = Client::connect_from(gw.addr, outsider).await;
        assert_eq!(c.reply().await.code, 220);
        held.push(c);
    }
    let mut third = Client::connect_from(gw.addr, "127.0.0.3".parse().unwrap()).await;
    assert_eq!(third.reply().await.code, 421, "third untrusted client");
    let mut own = Client::connect(gw.addr).await;
    assert_eq!(
        own.reply().await.code,
        220,
        "the practice's server still gets in"
    );
    drop(held);
    gw.shutdown().await;
}

/// A provider's outbound connector is recognised by its certificate, not
/// by shared provider IP ranges: with a verified client certificate for a
/// configured name it may relay; without one it may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_certificate_allows_relaying() {
    let ca = TestCa::new("phigate test CA");
    let b = GatewayBuilder::new().server("relay_networks", "[]");
    let server = ca.issue(b.dir(), "gw", &["gw.test.example"]);
    let client_ca = TestCa::new("connector CA");
    let connector = client_ca.issue(
        b.dir(),
        "connector",
        &["clinic.mail.protection.outlook.test"],
    );
    let stranger = client_ca.issue(b.dir(), "stranger", &["evil.example"]);
    let ca_path = b.dir().join("client-ca.pem");
    client_ca.write_pem(&ca_path);
    let gw = b
        .server("relay_client_names", "[\"*.mail.protection.outlook.test\"]")
        .toml(&format!(
            "[server.tls]\ncert = \"{}\"\nkey = \"{}\"\nclient_ca = \"{}\"\n",
            server.cert.display(),
            server.key.display(),
            ca_path.display()
        ))
        .start()
        .await;
    for (who, id, code) in [
        ("connector", Some(&connector), 250),
        ("wrong name", Some(&stranger), 554),
        ("no certificate", None, 554),
    ] {
        let mut c = Client::greeted(gw.addr).await;
        c.expect("STARTTLS", 220).await;
        c.starttls_as(ca.der(), "gw.test.example", id).await;
        c.expect("EHLO relay.clinic.example", 250).await;
        c.expect("MAIL FROM:<desk@clinic.example>", 250).await;
        let r = c.cmd("RCPT TO:<a@payer.example>").await;
        assert_eq!(r.code, code, "{who}: {r}");
    }
    // The certificate says "the provider", not which of its customers: a
    // connector relays only the practice's own senders.
    let mut c = Client::greeted(gw.addr).await;
    c.expect("STARTTLS", 220).await;
    c.starttls_as(ca.der(), "gw.test.example", Some(&connector))
        .await;
    c.expect("EHLO relay.clinic.example", 250).await;
    c.expect("MAIL FROM:<someone@other-tenant.example>", 250)
        .await;
    assert_eq!(c.cmd("RCPT TO:<a@payer.example>").await.code, 554);
    gw.shutdown().await;
}

/// Regression: 150 TLS connections guessing passwords grew the process to
/// ~9.5 GiB and slowed mail to seconds, with no lockout and nothing logged.
/// Checks in flight are bounded (454 beyond), failures lock the client
/// network and the user out, and each failure is audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_flood_is_bounded_locked_out_and_audited() {
    let ca = TestCa::new("phigate test CA");
    let b = GatewayBuilder::new().server("relay_networks", "[]");
    let id = ca.issue(b.dir(), "gw", &["gw.test.example"]);
    let mut gw = b
        .tls(id)
        .user("frontdesk@clinic.example", "right horse battery")
        .server("max_connections_per_ip", "200")
        .spawn();
    let pid = gw.pid().unwrap();
    const CLIENTS: usize = 150;
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let (addr, root) = (gw.addr, ca.der());
        tasks.push(tokio::spawn(async move {
            let mut c = Client::greeted(addr).await;
            c.expect("STARTTLS", 220).await;
            c.starttls(root, "gw.test.example").await;
            c.expect("EHLO flood.example", 250).await;
            let mut codes = Vec::new();
            for k in 0..3 {
                use base64::Engine as _;
                let cred = base64::engine::general_purpose::STANDARD
                    .encode(format!("\0frontdesk@clinic.example\0guess-{i}-{k}"));
                codes.push(c.cmd(&format!("AUTH PLAIN {cred}")).await.code);
            }
            codes
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.extend(t.await.unwrap());
    }
    let peak_mib = phigate_tests::peak_rss_kib(pid) / 1024;
    let busy_or_locked = codes.iter().filter(|&&c| c == 454).count();
    let refused = codes.iter().filter(|&&c| c == 535).count();
    eprintln!(
        "AUTH flood: {CLIENTS} TLS clients x 3 guesses: {refused} x 535, {busy_or_locked} x 454; peak RSS {peak_mib} MiB"
    );
    assert_eq!(refused + busy_or_locked, CLIENTS * 3, "{codes:?}");
    assert!(
        refused <= 10,
        "lockout after failures: {refused} checks ran"
    );
    assert!(
        peak_mib <= 128,
        "peak RSS {peak_mib} MiB under the AUTH flood (bound 128 MiB)"
    );
    // Locked out: even the right password is not checked for now.
    let mut c = Client::greeted(gw.addr).await;
    c.expect("STARTTLS", 220).await;
    c.starttls(ca.der(), "gw.test.example").await;
    c.expect("EHLO desk.clinic.example", 250).await;
    use base64::Engine as _;
    let cred = base64::engine::general_purpose::STANDARD
        .encode("\0frontdesk@clinic.example\0right horse battery");
    assert_eq!(c.cmd(&format!("AUTH PLAIN {cred}")).await.code, 454);
    let (_, metrics) = gw.http_get("/metrics");
    assert!(
        metrics.contains("phigate_auth_failures_total{reason=\"locked_out\"}"),
        "{metrics}"
    );
    gw.terminate();
    let audit = std::fs::read_to_string(
        std::fs::read_dir(gw.audit_dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .find(|e| e.file_name().to_string_lossy().ends_with(".jsonl"))
            .unwrap()
            .path(),
    )
    .unwrap();
    let failures = audit.matches("\"event\":\"auth_failure\"").count();
    assert_eq!(failures, refused, "every failed check is audited");
    assert!(!audit.contains("guess-"), "no password in the audit log");
    gw.kill();
}

/// Regression: a downstream answering `220 ` and then gigabytes without a
/// newline grew the gateway's memory without bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_reply_line_does_not_grow_memory() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let chunk = vec![b'x'; 64 * 1024];
                let _ = tcp.write_all(b"220 ").await;
                let deadline = Instant::now() + Duration::from_secs(8);
                while Instant::now() < deadline {
                    match tokio::time::timeout(Duration::from_millis(200), tcp.write_all(&chunk))
                        .await
                    {
                        Ok(Ok(())) => {
                            counter.fetch_add(
                                chunk.len() as u64,
                                std::sync::atomic::Ordering::Relaxed,
                            );
                        }
                        Ok(Err(_)) => return,
                        Err(_) => {}
                    }
                }
            });
        }
    });
    let mut gw = GatewayBuilder::new()
        .toml(&format!(
            "[tls]\ndefault = \"none\"\n[delivery]\nretry_initial_secs = 1\nretry_max_secs = 1\n\
             [[delivery.route]]\ndomains = [\"payer.example\"]\nrelay = \"[127.0.0.1]:{port}\"\n"
        ))
        .spawn();
    let pid = gw.pid().unwrap();
    let mut c = Client::greeted(gw.addr).await;
    let r = c
        .send_message(
            "desk@clinic.example",
            &["a@payer.example"],
            b"Subject: x\r\n\r\nhi\r\n",
        )
        .await;
    assert_eq!(r.code, 250);
    tokio::time::sleep(Duration::from_secs(8)).await;
    let peak_mib = phigate_tests::peak_rss_kib(pid) / 1024;
    let took = sent.load(std::sync::atomic::Ordering::Relaxed) >> 20;
    eprintln!(
        "endless reply line: the server pushed {took} MiB in total; gateway peak RSS {peak_mib} MiB"
    );
    assert!(peak_mib <= 64, "peak RSS {peak_mib} MiB (bound 64 MiB)");
    // The attempt failed on the line and the recipient waits for a retry.
    let spool = gw.spool();
    let waiting = format!(
        "{:?}",
        spool.messages.iter().map(|m| &m.rcpts).collect::<Vec<_>>()
    );
    assert!(
        waiting.contains("overlong reply") && waiting.contains("ProtocolError"),
        "{waiting}"
    );
    gw.kill();
}

/// Regression: a 10 MB message of nested zips within each per-archive cap
/// peaked at 1.3 GiB, four at once 5.3 GiB. The caps now hold for the
/// whole message, and inspections at once are bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_zips_cannot_exhaust_memory() {
    let bomb = nested_zip_message();
    eprintln!("nested-zip message: {} KiB", bomb.len() >> 10);
    let ds = Downstream::start(Behaviour::default()).await;
    let mut gw = GatewayBuilder::new()
        .toml(&format!(
            "[tls]\ndefault = \"none\"\nphi = \"encrypt\"\n[[delivery.route]]\ndomains = [\"payer.example\"]\nrelay = \"[127.0.0.1]:{}\"\n",
            ds.addr.port()
        ))
        .spawn();
    let pid = gw.pid().unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (addr, bomb) = (gw.addr, bomb.clone());
        tasks.push(tokio::spawn(async move {
            // Four inspections of 16 MiB of nested zips, two at a time,
            // each up to the inspection timeout: under a loaded CI the
            // last reply can take longer than the usual 20 s.
            let mut c = Client::greeted(addr)
                .await
                .patient(std::time::Duration::from_secs(150));
            c.send_message("desk@clinic.example", &["a@payer.example"], &bomb)
                .await
                .code
        }));
    }
    for t in tasks {
        let code = t.await.unwrap();
        assert!(code == 250 || code == 451, "{code}");
    }
    let peak_mib = phigate_tests::peak_rss_kib(pid) / 1024;
    eprintln!("4 nested-zip messages at once: gateway peak RSS {peak_mib} MiB");
    assert!(peak_mib <= 512, "peak RSS {peak_mib} MiB (bound 512 MiB)");
    // Whatever was not read is uninspectable: nothing went out in clear.
    assert!(ds.plaintext().is_empty() || !String::from_utf8_lossy(&ds.plaintext()).contains("PK"));
    gw.kill();
}

/// A message of zips in zips: 8 zips of 8 zips of a 4 MiB text file each
/// (every archive within its own caps: ratio about 100:1, 32 MiB per entry),
/// 256 MiB when all unpacked.
fn nested_zip_message() -> Vec<u8> {
    use base64::Engine as _;
    let mut text = Vec::with_capacity(4 << 20);
    let mut x: u32 = 12345;
    while text.len() < 4 << 20 {
        // Few distinct lines in a random order: about 100:1 in deflate,
        // inside the per-entry ratio cap.
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let line = format!(
            "visit summary line {} code R{}\n",
            (x >> 28) % 8,
            (x >> 20) % 4
        );
        text.extend_from_slice(line.as_bytes());
    }
    let zip_of = |entries: &[(String, Vec<u8>)]| {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, data) in entries {
            w.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        buf.into_inner()
    };
    let inner = zip_of(&[("notes.txt".to_string(), text)]);
    let middle = zip_of(
        &(0..8)
            .map(|i| (format!("m{i}.zip"), inner.clone()))
            .collect::<Vec<_>>(),
    );
    let outer = zip_of(
        &(0..8)
            .map(|i| (format!("o{i}.zip"), middle.clone()))
            .collect::<Vec<_>>(),
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(outer);
    let mut body = String::from(
        "Subject: archive\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/zip; name=a.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    for chunk in b64.as_bytes().chunks(76) {
        body.push_str(std::str::from_utf8(chunk).unwrap());
        body.push_str("\r\n");
    }
    body.push_str("--b--\r\n");
    body.into_bytes()
}

/// Checkpoints go to a real syslog collector (rsyslogd, RFC 5425 over TLS
/// with the test CA) and to a witness file; `audit verify --witness` passes
/// on the intact log and fails once the log is rolled back; a gateway
/// restarted on the rolled-back log halts its audit log: not ready, mail
/// refused with 451, never signing over the rollback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn witnesses_catch_a_rolled_back_log_and_the_writer_halts() {
    let ca = TestCa::new("collector CA");
    let b = GatewayBuilder::new();
    let collector = Collector::start(&ca, b.dir());
    let ca_file = b.dir().join("syslog-ca.pem");
    ca.write_pem(&ca_file);
    let witness_file = b.dir().join("witness/checkpoints.log");
    let ds = Downstream::start(Behaviour::default()).await;
    let mut gw = b
        .audit("checkpoint_every", "3")
        .toml(&format!(
            "[audit.witness]\nfile = \"{}\"\nsyslog = \"127.0.0.1:{}\"\nsyslog_ca = \"{}\"\n\
             [tls]\ndefault = \"none\"\n[[delivery.route]]\ndomains = [\"payer.example\"]\nrelay = \"[127.0.0.1]:{}\"\n",
            witness_file.display(),
            collector.port,
            ca_file.display(),
            ds.addr.port()
        ))
        .spawn();
    for i in 0..4 {
        let mut c = Client::greeted(gw.addr).await;
        let r = c
            .send_message(
                "desk@clinic.example",
                &["a@payer.example"],
                format!("Subject: note {i}\r\n\r\nhello\r\n").as_bytes(),
            )
            .await;
        assert_eq!(r.code, 250);
    }
    ds.wait_for(4, Duration::from_secs(20)).await;
    gw.terminate();
    assert_eq!(gw.wait(Duration::from_secs(30)), Some(0));
    // The collector has the last checkpoint (the one written at shutdown,
    // which commits to everything before it): the gateway waited for it to
    // be sent before ending. Older ones may have been superseded in the
    // queue by newer ones.
    let witnessed = std::fs::read_to_string(&witness_file).unwrap();
    let last = phigate::audit::witness::last_entry(&witness_file)
        .unwrap()
        .expect("the file witness has checkpoints");
    let last_sig = format!("\"sig\":\"{}\"", last.sig);
    let synced = collector.wait_for(&last_sig, 1, Duration::from_secs(20));
    assert!(
        synced.contains(&last_sig),
        "the collector has the last checkpoint (seq {}):\n{synced}\n{}\nwitness file:\n{witnessed}",
        last.seq,
        collector.errors()
    );
    let dir = gw.audit_dir().parent().unwrap().to_path_buf();
    let verify = |extra: &[&std::path::Path]| {
        let key = phigate::audit::SigningKey::load(&dir.join("audit-signing.key")).unwrap();
        std::fs::write(dir.join("pinned.pub"), key.public().to_hex()).unwrap();
        let mut cmd = std::process::Command::new(phigate_tests::binary());
        cmd.args(["audit", "verify", "--config"])
            .arg(&gw.config)
            .arg("--public-key")
            .arg(dir.join("pinned.pub"));
        for w in extra {
            cmd.arg("--witness").arg(w);
        }
        cmd.output().unwrap()
    };
    let ok = verify(&[&collector.log]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // Roll the log back: the last file is cut to its first checkpoint and
    // HEAD rebuilt from it (what an insider with write access can do).
    let audit = gw.audit_dir();
    let mut files: Vec<_> = std::fs::read_dir(&audit)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let last = files.last().unwrap();
    let text = std::fs::read_to_string(last).unwrap();
    let kept: Vec<&str> = text.lines().take(2).collect();
    std::fs::write(
        last,
        kept.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    let r: serde_json::Value = serde_json::from_str(kept[1]).unwrap();
    let head = serde_json::json!({
        "file": last.file_name().unwrap().to_string_lossy(),
        "seq": r["seq"], "prev": r["prev"], "sig": r["sig"], "key_id": r["key_id"],
    });
    std::fs::write(audit.join("HEAD"), head.to_string()).unwrap();
    let syslog_only = verify(&[&collector.log]);
    assert_eq!(syslog_only.status.code(), Some(1));
    let err = String::from_utf8_lossy(&syslog_only.stderr);
    assert!(err.contains("rolled back"), "{err}");
    // Restarted on the rolled-back log, the gateway halts its audit log.
    gw.start();
    let (status, body) = gw.http_get("/readyz");
    assert!(!status.contains("200"), "{status} {body}");
    assert!(body.contains("halted"), "{body}");
    let (_, metrics) = gw.http_get("/metrics");
    assert!(metrics.contains("phigate_audit_halted 1"), "{metrics}");
    let mut c = Client::greeted(gw.addr).await;
    c.expect("MAIL FROM:<desk@clinic.example>", 250).await;
    c.expect("RCPT TO:<a@payer.example>", 250).await;
    c.expect("DATA", 354).await;
    c.send_raw(b"Subject: x\r\n\r\nhi\r\n.\r\n").await;
    assert_eq!(c.reply().await.code, 451);
    assert!(gw.log().contains("AUDIT LOG HALTED"), "{}", gw.log());
    gw.kill();
}

/// `check-config` rejects what `serve` would, naming file, line and key:
/// a missing CA file, a weak password hash; and warns about wide relay
/// networks.
#[test]
fn check_config_fails_where_serve_would() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("p.toml");
    std::fs::write(
        &cfg,
        "[server]\nrelay_networks = [\"0.0.0.0/0\"]\n\n[tls]\nca_file = \"/nonexistent/ca.pem\"\n\n\
         [[server.auth.users]]\nname = \"u@clinic.example\"\npassword_hash = \"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(phigate_tests::binary())
        .arg("check-config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("too weak"), "{err}");
    let _ = std::fs::write(
        &cfg,
        "[server]\nrelay_networks = [\"0.0.0.0/0\"]\n\n[tls]\nca_file = \"/nonexistent/ca.pem\"\n",
    );
    let out = std::process::Command::new(phigate_tests::binary())
        .arg("check-config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:5: tls.ca_file", cfg.display())),
        "{err}"
    );
    assert!(
        err.contains("warning: server.relay_networks: 0.0.0.0/0 is very wide"),
        "{err}"
    );
}

/// `check-config` builds what `serve` builds: a missing CA file, a signing
/// key that is not a key, a certificate file without a certificate each
/// fail both, and `check-config` names the file, line and key.
#[test]
fn check_config_and_serve_fail_alike() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("garbage.key"), "not a key\n").unwrap();
    std::fs::write(d.join("empty.pem"), "no certificate here\n").unwrap();
    std::fs::write(d.join("tls.key"), "no key here either\n").unwrap();
    // [server.tls], when there is one, goes right after [server]: a TOML
    // table cannot be reopened.
    let toml = |server_tls: &str, key: &str, rest: &str| {
        format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\n{server_tls}[spool]\ndir = \"{0}/spool\"\n\
             [metrics]\nlisten = \"127.0.0.1:0\"\n[audit]\ndir = \"{0}/audit\"\nsigning_key = \"{0}/{key}\"\n{rest}",
            d.display()
        )
    };
    let cases = [
        (
            "tls.ca_file",
            toml(
                "",
                "audit.key",
                &format!("[tls]\nca_file = \"{}/missing-ca.pem\"\n", d.display()),
            ),
        ),
        ("audit.signing_key", toml("", "garbage.key", "")),
        (
            "server.tls.cert",
            toml(
                &format!(
                    "[server.tls]\ncert = \"{0}/empty.pem\"\nkey = \"{0}/tls.key\"\n",
                    d.display()
                ),
                "audit.key",
                "",
            ),
        ),
    ];
    for (key, toml) in cases {
        let cfg = d.join(format!("{key}.toml"));
        std::fs::write(&cfg, &toml).unwrap();
        let line = toml
            .lines()
            .position(|l| l.starts_with(key.rsplit('.').next().unwrap()))
            .unwrap()
            + 1;
        let check = std::process::Command::new(phigate_tests::binary())
            .arg("check-config")
            .arg(&cfg)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&check.stderr);
        assert_eq!(check.status.code(), Some(1), "{key}: {err}");
        assert!(
            err.contains(&format!("{}:{line}: {key}", cfg.display())),
            "{key}: check-config says:\n{err}\n{toml}"
        );
        let mut serve = std::process::Command::new(phigate_tests::binary())
            .args(["serve", "--config"])
            .arg(&cfg)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(s) = serve.try_wait().unwrap() {
                break s;
            }
            if std::time::Instant::now() > deadline {
                let _ = serve.kill();
                panic!("{key}: serve kept running on a configuration check-config refused");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let mut serve_err = String::new();
        std::io::Read::read_to_string(&mut serve.stderr.take().unwrap(), &mut serve_err).unwrap();
        assert!(!status.success(), "{key}: serve started");
        let file_word = key.rsplit('.').next().unwrap();
        assert!(
            serve_err.contains(file_word) || serve_err.contains(key),
            "{key}: serve says:\n{serve_err}"
        );
    }
}

/// Spool and audit files are private whatever the umask.
#[test]
fn data_files_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let b = GatewayBuilder::new();
    let dir = b.dir().to_path_buf();
    let mut gw = b.spawn_with_umask(0o000);
    for sub in ["spool", "audit"] {
        let mode = std::fs::metadata(dir.join(sub))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700, "{sub}");
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let e = e.unwrap();
            let mode = e.metadata().unwrap().permissions().mode() & 0o777;
            if e.file_type().unwrap().is_file() {
                assert_eq!(mode & 0o077, 0, "{}: {mode:o}", e.path().display());
            }
        }
    }
    let key = std::fs::metadata(dir.join("audit-signing.key")).unwrap();
    assert_eq!(key.permissions().mode() & 0o077, 0);
    gw.kill();
}

/// Regression (operator review): `check-config` stopped at the first
/// missing file; each now gets its own `file:line: key` error.
#[test]
fn check_config_names_every_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[server.tls]\ncert = \"/nope/cert.pem\"\nkey = \"/nope/key.pem\"\n\
         [tls]\nca_file = \"/nope/ca.pem\"\n\
         [dkim]\ndomain = \"clinic.example\"\nselector = \"gw\"\nkey = \"/nope/dkim.pem\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(phigate_tests::binary())
        .arg("check-config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let at = |line: u32, key: &str| format!("bad.toml:{line}: {key}: ");
    for (line, key) in [
        (2, "server.tls.cert"),
        (3, "server.tls.key"),
        (5, "tls.ca_file"),
        (9, "dkim.key"),
    ] {
        assert!(
            text.contains(&at(line, key)),
            "{key} not at line {line}:\n{text}"
        );
    }
}
