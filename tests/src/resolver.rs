//! A validating recursive resolver for interop tests: BIND's `named`,
//! forwarding the test's zones to the test's authoritative server and
//! validating them from trust anchors the test gives, on 127.0.0.1 port 53
//! (a stub resolver such as Postfix's cannot be told another port, and
//! `named` listens only on addresses an interface has). One at a time;
//! killed on drop.

use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A running `named`.
pub struct Resolver {
    /// Where it answers (port 53).
    pub ip: Ipv4Addr,
    child: Child,
    dir: TempDir,
}

impl Resolver {
    /// Resolves `zones` by asking `upstream`, validating with the DNSKEY
    /// records in `anchors` (zone-file lines, as `DnsServer::dnskeys`
    /// gives them; only key-signing keys are used).
    pub fn start(zones: &[&str], upstream: SocketAddr, anchors: &str) -> Resolver {
        let named = crate::require_tool("named");
        let dir = tempfile::tempdir().unwrap();
        let ip = free_loopback_53();
        let mut keys = String::new();
        for line in anchors.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            // owner [ttl] IN DNSKEY flags proto alg key...
            let Some(at) = f.iter().position(|w| *w == "DNSKEY") else {
                continue;
            };
            if f.get(at + 1) != Some(&"257") {
                continue;
            }
            keys += &format!(
                "    \"{}\" static-key {} {} {} \"{}\";\n",
                f[0],
                f[at + 1],
                f[at + 2],
                f[at + 3],
                f[at + 4..].concat()
            );
        }
        assert!(!keys.is_empty(), "no key-signing key in {anchors}");
        let d = dir.path().display();
        let mut conf = format!(
            "options {{\n  directory \"{d}\";\n  pid-file \"{d}/named.pid\";\n\
             listen-on port 53 {{ {ip}; }};\n  listen-on-v6 {{ none; }};\n\
             recursion yes;\n  allow-query {{ any; }};\n  allow-recursion {{ any; }};\n\
             dnssec-validation yes;\n  qname-minimization off;\n}};\ncontrols {{ }};\n\
             trust-anchors {{\n{keys}}};\n"
        );
        for z in zones {
            conf += &format!(
                "zone \"{z}\" {{ type forward; forward only; forwarders {{ {} port {}; }}; }};\n",
                upstream.ip(),
                upstream.port()
            );
        }
        let conf_path = dir.path().join("named.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = std::fs::File::create(dir.path().join("named.log")).unwrap();
        let child = Command::new(named)
            .args(["-g", "-4", "-c"])
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start named");
        let mut r = Resolver { ip, child, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect((ip, 53)).is_err() {
            if let Some(status) = r.child.try_wait().unwrap() {
                panic!("named exited ({status}): {}", r.log());
            }
            assert!(
                Instant::now() < deadline,
                "named did not listen: {}",
                r.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        r
    }

    /// Its log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("named.log")).unwrap_or_default()
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// 127.0.0.1, once its port 53 is free (a resolver of an earlier test
/// may still be going away).
fn free_loopback_53() -> Ipv4Addr {
    let ip = Ipv4Addr::LOCALHOST;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let udp = UdpSocket::bind((ip, 53));
        let tcp = std::net::TcpListener::bind((ip, 53));
        if udp.is_ok() && tcp.is_ok() {
            return ip;
        }
        assert!(Instant::now() < deadline, "port 53 on 127.0.0.1 is taken");
        std::thread::sleep(Duration::from_millis(100));
    }
}
