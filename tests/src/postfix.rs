//! A real Postfix instance for interop tests: its own config, queue and
//! Maildir in a temporary directory, listening on a loopback port. Needs
//! root (Postfix's master) and the postfix package, which CI installs.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::ca::Identity;

/// What the instance should do.
#[derive(Default)]
pub struct PostfixOptions<'a> {
    /// Domains delivered into the instance's Maildir.
    pub mailbox_domains: Vec<&'a str>,
    /// Offer STARTTLS with this identity.
    pub tls: Option<&'a Identity>,
    /// Send everything else to this relayhost.
    pub relayhost: Option<SocketAddr>,
    /// Deliver to MX hosts found through this validating resolver, with
    /// `smtp_tls_security_level = dane`, on this port.
    pub dane: Option<Dane>,
}

/// A Postfix that looks up MX hosts through a validating resolver and
/// authenticates them by DANE.
#[derive(Debug, Clone, Copy)]
pub struct Dane {
    /// The resolver (port 53), given to Postfix alone through a
    /// `resolv.conf` bind-mounted in a mount namespace of its own.
    pub resolver: std::net::Ipv4Addr,
    /// The port MX hosts listen on (`smtp_tcp_port`; TLSA names follow it).
    pub port: u16,
}

/// A running Postfix.
pub struct Postfix {
    dir: TempDir,
    conf: PathBuf,
    /// Its SMTP listener.
    pub addr: SocketAddr,
}

fn run(cmd: &mut Command) -> (bool, String) {
    // Postfix reports to syslog or a terminal only; `script` gives it one.
    let out = cmd.output().expect("run postfix tooling");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn postfix(conf: &Path, verb: &str) -> (bool, String) {
    let line = format!("postfix -c {} {verb}; echo rc=$?", conf.display());
    let (_, out) = run(Command::new("script").args(["-q", "-c", &line, "/dev/null"]));
    (out.contains("rc=0"), out)
}

impl Postfix {
    /// Configures and starts an instance.
    pub fn start(opts: PostfixOptions<'_>) -> Postfix {
        crate::require_tool("postfix");
        crate::require_tool("script");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for sub in ["conf", "queue", "data", "vmail", "tls"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        // Postfix's own processes run as `postfix` / nobody: let them in.
        for p in [d.to_path_buf(), d.join("tls"), d.join("vmail")] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        run(Command::new("chown").args(["postfix", d.join("data").to_str().unwrap()]));
        let port = crate::gateway::free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut main = format!(
            "compatibility_level = 3.6\nqueue_directory = {q}\ndata_directory = {data}\nmail_owner = postfix\n\
             myhostname = pf{port}.test\ninet_interfaces = 127.0.0.1\ninet_protocols = ipv4\nmydestination =\n\
             mynetworks = 127.0.0.0/8\nsmtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n\
             virtual_mailbox_base = {vmail}\nvirtual_mailbox_maps = static:box/\nvirtual_uid_maps = static:65534\n\
             virtual_gid_maps = static:65534\nalias_maps =\nalias_database =\nmaillog_file_prefixes = /tmp\n\
             maillog_file = {log}\nsmtp_tls_security_level = may\nsmtputf8_enable = yes\n",
            q = d.join("queue").display(),
            data = d.join("data").display(),
            vmail = d.join("vmail").display(),
            log = d.join("maillog").display(),
        );
        main += &format!(
            "virtual_mailbox_domains = {}\n",
            opts.mailbox_domains.join(", ")
        );
        if let Some(id) = opts.tls {
            let (cert, key) = (d.join("tls/cert.pem"), d.join("tls/key.pem"));
            std::fs::copy(&id.cert, &cert).unwrap();
            std::fs::copy(&id.key, &key).unwrap();
            for f in [&cert, &key] {
                std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
            main += &format!(
                "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = {}\nsmtpd_tls_key_file = {}\nsmtpd_tls_loglevel = 1\n",
                cert.display(),
                key.display()
            );
        }
        if let Some(relay) = opts.relayhost {
            main += &format!("relayhost = [{}]:{}\n", relay.ip(), relay.port());
        }
        if let Some(dane) = opts.dane {
            main += &format!(
                "smtp_dns_support_level = dnssec\nsmtp_tls_security_level = dane\n\
                 smtp_tcp_port = {}\nsmtp_tls_loglevel = 1\n",
                dane.port
            );
            // `trust-ad`: glibc passes the resolver's AD bit on only then.
            std::fs::write(
                d.join("resolv.conf"),
                format!("nameserver {}\noptions trust-ad\n", dane.resolver),
            )
            .unwrap();
        }
        let conf = d.join("conf");
        std::fs::write(conf.join("main.cf"), main).unwrap();
        let master =
            std::fs::read_to_string("/etc/postfix/master.cf").expect("/etc/postfix/master.cf");
        let mut master: String = master
            .lines()
            .map(|l| {
                if l.starts_with("smtp ") && l.contains("inet") {
                    format!("127.0.0.1:{port} inet n - n - - smtpd")
                } else if opts.dane.is_some() && l.starts_with("smtp ") && l.contains("unix") {
                    // Not chrooted: it must read the namespace's resolv.conf.
                    "smtp unix - - n - - smtp".to_string()
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        if !master.contains("postlogd") {
            master += "\npostlog   unix-dgram n  -       n       -       1       postlogd\n";
        }
        std::fs::write(conf.join("master.cf"), master).unwrap();
        let (ok, out) = postfix(&conf, "check");
        assert!(ok, "postfix check failed:\n{out}");
        let (ok, out) = if opts.dane.is_some() {
            crate::require_tool("unshare");
            // Its own mount namespace, where /etc/resolv.conf names the
            // validating resolver: the machine's resolver stays as it is.
            let line = format!(
                "unshare --mount --propagation private -- sh -c 'mount --bind {} /etc/resolv.conf && postfix -c {} start'; echo rc=$?",
                d.join("resolv.conf").display(),
                conf.display()
            );
            let (_, out) = run(Command::new("script").args(["-q", "-c", &line, "/dev/null"]));
            (out.contains("rc=0"), out)
        } else {
            postfix(&conf, "start")
        };
        assert!(ok, "postfix start failed:\n{out}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "postfix never listened on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Postfix { dir, conf, addr }
    }

    /// Messages delivered into the Maildir so far.
    pub fn mailbox(&self) -> Vec<Vec<u8>> {
        let new = self.dir.path().join("vmail/box/new");
        let mut out = Vec::new();
        if let Ok(entries) = std::fs::read_dir(new) {
            for e in entries.flatten() {
                out.push(std::fs::read(e.path()).unwrap_or_default());
            }
        }
        out
    }

    /// Waits for `n` messages in the Maildir.
    pub fn wait_mailbox(&self, n: usize, limit: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + limit;
        loop {
            let m = self.mailbox();
            if m.len() >= n || Instant::now() > deadline {
                return m;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The instance's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = postfix(&self.conf, "stop");
    }
}
