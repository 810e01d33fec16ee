//! Builds a gateway for a test: writes its config into a fresh directory and
//! runs it in-process (fast, for conversation tests) or as a real process
//! (for crash and signal tests).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use phigate::spool::{Scan, scan};
use tempfile::TempDir;

use crate::ca::Identity;

/// Describes the gateway a test wants.
pub struct GatewayBuilder {
    dir: TempDir,
    server: Vec<String>,
    spool: Vec<String>,
    tls: Option<Identity>,
    users: Vec<(String, String)>,
    /// Raw TOML appended to the config (routes, [tls], [delivery] keys).
    extra: Vec<String>,
    /// Lines under `[audit]`.
    audit: Vec<String>,
}

impl Default for GatewayBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl GatewayBuilder {
    pub fn new() -> Self {
        GatewayBuilder {
            dir: tempfile::tempdir().unwrap(),
            // A short grace keeps a test that leaves a transaction open from
            // waiting the production default at shutdown.
            server: vec![
                "hostname = \"gw.test.example\"".into(),
                "shutdown_grace_secs = 5".into(),
                // The practice the tests play: its senders may be told about PHI.
                "local_domains = [\"clinic.example\"]".into(),
            ],
            spool: Vec::new(),
            tls: None,
            users: Vec::new(),
            extra: Vec::new(),
            audit: Vec::new(),
        }
    }

    /// Appends raw TOML (whole tables: `[tls]`, `[[delivery.route]]`...).
    pub fn toml(mut self, text: &str) -> Self {
        self.extra.push(text.to_string());
        self
    }

    /// The directory holding config, spool and certificates.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `ca` as `ca.pem` in the gateway's directory; its path, for
    /// `[tls] ca_file`.
    pub fn ca_file(&self, ca: &crate::TestCa) -> PathBuf {
        let path = self.dir.path().join("ca.pem");
        ca.write_pem(&path);
        path
    }

    /// Sets `key = value` (value as TOML) under `[server]`.
    pub fn server(mut self, key: &str, value: &str) -> Self {
        let prefix = format!("{key} =");
        self.server.retain(|l| !l.starts_with(&prefix));
        self.server.push(format!("{key} = {value}"));
        self
    }

    /// Adds `key = value` under `[spool]`.
    pub fn spool(mut self, key: &str, value: &str) -> Self {
        self.spool.push(format!("{key} = {value}"));
        self
    }

    /// Adds `key = value` under `[audit]`.
    pub fn audit(mut self, key: &str, value: &str) -> Self {
        self.audit.push(format!("{key} = {value}"));
        self
    }

    /// Offers STARTTLS with this identity.
    pub fn tls(mut self, id: Identity) -> Self {
        self.tls = Some(id);
        self
    }

    /// Adds an AUTH user.
    pub fn user(mut self, name: &str, password: &str) -> Self {
        self.users
            .push((name.into(), phigate::auth::hash(password).unwrap()));
        self
    }

    fn config_text(&self, listen: &str, metrics: &str) -> String {
        let d = self.dir.path();
        let mut t = format!("[server]\nlisten = [\"{listen}\"]\n");
        for l in &self.server {
            t += l;
            t += "\n";
        }
        if let Some(id) = &self.tls {
            t += &format!(
                "[server.tls]\ncert = \"{}\"\nkey = \"{}\"\n",
                id.cert.display(),
                id.key.display()
            );
        }
        for (name, hash) in &self.users {
            t += &format!("[[server.auth.users]]\nname = \"{name}\"\npassword_hash = \"{hash}\"\n");
        }
        t += &format!("[spool]\ndir = \"{}\"\n", d.join("spool").display());
        for l in &self.spool {
            t += l;
            t += "\n";
        }
        t += &format!(
            "[audit]\ndir = \"{}\"\nsigning_key = \"{}\"\n",
            d.join("audit").display(),
            d.join("audit-signing.key").display()
        );
        for l in &self.audit {
            t += l;
            t += "\n";
        }
        // Tests never ask real DNS: only routes and the static table.
        if !self.extra.iter().any(|e| e.contains("[delivery.dns]")) {
            t += "[delivery.dns]\nmode = \"static\"\n";
        }
        for e in &self.extra {
            t += "\n";
            t += e;
            t += "\n";
        }
        t += &format!("[metrics]\nlisten = \"{metrics}\"\n");
        t
    }

    /// Runs the gateway inside this test process.
    pub async fn start(self) -> RunningGateway {
        let text = self.config_text("127.0.0.1:0", "127.0.0.1:0");
        let config = phigate_config::Config::from_toml("test.toml", &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let server = phigate::Server::bind(config).await.expect("gateway starts");
        let addr = server.local_addrs()[0];
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        RunningGateway {
            addr,
            dir: self.dir,
            stop: Some(stop),
            task,
        }
    }

    /// Writes the config and runs the real binary on a free port.
    pub fn spawn(self) -> GatewayProcess {
        self.spawn_binary(binary())
    }

    /// As [`GatewayBuilder::spawn`], listening on `port` (for a test that
    /// must name the gateway's port in its own configuration).
    pub fn spawn_on(self, port: u16) -> GatewayProcess {
        self.spawn_process(binary(), port, None)
    }

    /// As [`GatewayBuilder::spawn`], with the process's umask set to `mask`.
    pub fn spawn_with_umask(self, mask: u32) -> GatewayProcess {
        self.spawn_process(binary(), free_port(), Some(mask))
    }

    /// As [`GatewayBuilder::spawn`], with a given `phigate` binary (benchmarks).
    pub fn spawn_binary(self, bin: PathBuf) -> GatewayProcess {
        self.spawn_process(bin, free_port(), None)
    }

    fn spawn_process(self, bin: PathBuf, port: u16, umask: Option<u32>) -> GatewayProcess {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let metrics = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let config = self.dir.path().join("phigate.toml");
        std::fs::write(
            &config,
            self.config_text(&addr.to_string(), &metrics.to_string()),
        )
        .unwrap();
        let mut p = GatewayProcess {
            bin,
            addr,
            metrics,
            config,
            dir: self.dir,
            child: None,
            umask,
        };
        p.start();
        p
    }
}

/// A gateway running in this process.
pub struct RunningGateway {
    pub addr: SocketAddr,
    dir: TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningGateway {
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
    /// The audit log directory.
    pub fn audit_dir(&self) -> PathBuf {
        self.dir.path().join("audit")
    }
    /// What the spool holds now, with message content.
    pub fn spool(&self) -> Scan {
        scan(&self.dir.path().join("spool"), true).unwrap()
    }
    /// Starts a graceful shutdown and waits for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), &mut self.task)
            .await
            .expect("gateway stops within 30 s")
            .unwrap();
    }
}

/// The real `phigate` binary, run as a child process.
pub struct GatewayProcess {
    bin: PathBuf,
    pub addr: SocketAddr,
    /// `/metrics`, `/healthz`, `/readyz`.
    pub metrics: SocketAddr,
    pub config: PathBuf,
    dir: TempDir,
    child: Option<Child>,
    /// Run under this umask (through `sh`), to show file modes do not depend on it.
    umask: Option<u32>,
}

impl GatewayProcess {
    /// Starts (or restarts) the process and waits until it accepts connections.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("phigate.log"))
            .unwrap();
        let mut cmd = match self.umask {
            None => Command::new(&self.bin),
            Some(mask) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("umask {mask:03o} && exec \"$0\" \"$@\""))
                    .arg(&self.bin);
                c
            }
        };
        let child = cmd
            .args(["serve", "--config"])
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn phigate");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(self.addr).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("phigate exited at start ({status}); log:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "phigate did not listen in time; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The audit log directory.
    pub fn audit_dir(&self) -> PathBuf {
        self.dir.path().join("audit")
    }

    /// `phigate audit search --json --queue-id ID` on this gateway's log:
    /// the message's trail (`null` when the log has nothing on it).
    pub fn trail(&self, id: &str) -> serde_json::Value {
        let out = Command::new(&self.bin)
            .args(["audit", "search", "--json", "--config"])
            .arg(&self.config)
            .args(["--queue-id", id])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        serde_json::from_str(text.lines().next().unwrap_or("null")).unwrap()
    }

    /// The process's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("phigate.log")).unwrap_or_default()
    }

    /// The process ID, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL, and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// Sends a signal by name (`TERM`, `HUP`).
    pub fn signal(&self, name: &str) {
        let pid = self.child.as_ref().expect("running").id();
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name} failed");
    }

    /// Runs the gateway binary's CLI on this gateway's config:
    /// `phigate ARGS... --config FILE`; exit code, stdout, stderr.
    pub fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(&self.bin)
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// GET `path` on the metrics listener: status line and body.
    pub fn http_get(&self, path: &str) -> (String, String) {
        use std::io::{Read, Write};
        // The listener comes up just after the SMTP one.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut s = loop {
            match std::net::TcpStream::connect(self.metrics) {
                Ok(s) => break s,
                Err(e) if Instant::now() > deadline => panic!("metrics listener: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let status = text.lines().next().unwrap_or("").to_string();
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string();
        (status, body)
    }

    /// Waits for the process to exit by itself; its exit code.
    pub fn wait(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        let child = self.child.as_mut().expect("running");
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status.code();
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the spool holds now, with message content.
    pub fn spool(&self) -> Scan {
        scan(&self.dir.path().join("spool"), true).unwrap()
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The gateway binary built for this package's integration tests. Cargo
/// builds it next to the `deps/` directory that holds the test binary.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary in target/<profile>/deps");
    let bin = dir.join("phigate-under-test");
    assert!(
        bin.is_file(),
        "{} not built: run the tests with `cargo test`",
        bin.display()
    );
    bin
}
