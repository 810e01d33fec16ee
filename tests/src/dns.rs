//! An authoritative DNS server for delivery tests: Knot DNS (`knotd`)
//! serving zones the test writes, on a loopback port, killed on drop.

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A running `knotd`.
pub struct DnsServer {
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
    child: Child,
    _dir: TempDir,
}

impl DnsServer {
    /// Serves each `(origin, records)` zone; `records` are zone-file lines
    /// relative to the origin (an SOA and NS are added).
    pub fn start(zones: &[(&str, &str)]) -> DnsServer {
        Self::start_with(zones, &[])
    }

    /// As [`DnsServer::start`], Knot signing the zones named in `signed`
    /// (DNSSEC, ECDSA P-256, keys made at start).
    pub fn start_with(zones: &[(&str, &str)], signed: &[&str]) -> DnsServer {
        // The port is found free by binding UDP, then handed to knotd; a
        // parallel test's outgoing connection may take it for TCP in
        // between, so a clash is retried on a fresh port.
        let mut last = String::new();
        for _ in 0..5 {
            match Self::try_start(zones, signed) {
                Ok(server) => return server,
                Err(log) if log.contains("address already in use") => last = log,
                Err(log) => panic!("knotd exited: {log}"),
            }
        }
        panic!("knotd found no free port in 5 tries: {last}");
    }

    fn try_start(zones: &[(&str, &str)], signed: &[&str]) -> Result<DnsServer, String> {
        let knotd = crate::require_tool("knotd");
        let dir = tempfile::tempdir().unwrap();
        let port = UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = dir.path().display();
        let mut conf = format!(
            "server:\n    listen: 127.0.0.1@{port}\n    rundir: {d}\n\
             database:\n    storage: {d}\n\
             log:\n  - target: stderr\n    any: warning\n\
             zone:\n"
        );
        for (origin, records) in zones {
            let origin = origin.trim_end_matches('.');
            let file = dir.path().join(format!("{origin}.zone"));
            std::fs::write(
                &file,
                format!(
                    "$ORIGIN {origin}.\n$TTL 60\n@ SOA ns.{origin}. admin.{origin}. 1 60 60 600 60\n\
                     @ NS ns.{origin}.\nns A 127.0.0.1\n{records}\n"
                ),
            )
            .unwrap();
            conf += &format!("  - domain: {origin}.\n    file: {}\n", file.display());
            if signed.contains(&origin) {
                conf += "    dnssec-signing: on\n    zonefile-load: difference\n";
            }
        }
        let conf_path = dir.path().join("knot.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = std::fs::File::create(dir.path().join("knotd.log")).unwrap();
        let child = Command::new(knotd)
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start knotd");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut server = DnsServer {
            addr,
            child,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                let log = std::fs::read_to_string(server._dir.path().join("knotd.log"))
                    .unwrap_or_default();
                return Err(format!("({status}) {log}"));
            }
            assert!(Instant::now() < deadline, "knotd did not listen in time");
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }
}

impl DnsServer {
    /// The zone's DNSKEY records (zone-file lines), asked with `drill`, as
    /// a trust anchor file wants them; waits for the signer.
    pub fn dnskeys(&self, zone: &str) -> String {
        let drill = crate::require_tool("drill");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = Command::new(&drill)
                .args(["-p", &self.addr.port().to_string(), "@127.0.0.1", "DNSKEY"])
                .arg(format!("{}.", zone.trim_end_matches('.')))
                .output()
                .expect("run drill");
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let keys: Vec<String> = text
                .lines()
                .filter(|l| !l.starts_with(';') && l.split_whitespace().nth(3) == Some("DNSKEY"))
                .map(|l| l.split(';').next().unwrap_or("").trim().to_string())
                .collect();
            if !keys.is_empty() {
                return keys.join("\n") + "\n";
            }
            assert!(Instant::now() < deadline, "no DNSKEY for {zone}: {text}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
