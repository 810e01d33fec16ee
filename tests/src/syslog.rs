//! A real syslog collector for witness tests: Debian's rsyslogd, listening
//! for RFC 5425 (syslog over TLS) on a loopback port with a certificate
//! from the test's CA, writing every message it takes to a file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::TestCa;

/// A running rsyslogd.
pub struct Collector {
    child: Child,
    /// Where it listens.
    pub port: u16,
    /// The file it writes messages to.
    pub log: PathBuf,
    dir: PathBuf,
}

impl Collector {
    /// Starts rsyslogd in `dir` with a certificate for 127.0.0.1 issued by `ca`.
    pub fn start(ca: &TestCa, dir: &Path) -> Collector {
        let rsyslogd = crate::require_tool("rsyslogd");
        let id = ca.issue(dir, "collector", &["127.0.0.1", "collector.test.example"]);
        let ca_file = dir.join("collector-ca.pem");
        ca.write_pem(&ca_file);
        let port = crate::gateway::free_port();
        let log = dir.join("collector.log");
        let work = dir.join("rsyslog-work");
        std::fs::create_dir_all(&work).unwrap();
        let conf = dir.join("rsyslog.conf");
        std::fs::write(
            &conf,
            format!(
                r#"global(
  workDirectory="{work}"
  DefaultNetstreamDriver="gtls"
  DefaultNetstreamDriverCAFile="{ca}"
  DefaultNetstreamDriverCertFile="{cert}"
  DefaultNetstreamDriverKeyFile="{key}"
)
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.Authmode="anon")
input(type="imtcp" port="{port}" address="127.0.0.1")
template(name="witness" type="string" string="%timegenerated:::date-rfc3339% %hostname% %app-name% %msg%\n")
action(type="omfile" file="{log}" template="witness" flushOnTXEnd="on" asyncWriting="off")
"#,
                work = work.display(),
                ca = ca_file.display(),
                cert = id.cert.display(),
                key = id.key.display(),
                log = log.display(),
            ),
        )
        .unwrap();
        let child = Command::new(rsyslogd)
            .arg("-n")
            .arg("-f")
            .arg(&conf)
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("rsyslogd.err")).unwrap())
            .spawn()
            .expect("start rsyslogd");
        let c = Collector {
            child,
            port,
            log,
            dir: dir.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not listen: {}",
                std::fs::read_to_string(dir.join("rsyslogd.err")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        c
    }

    /// Waits until the collector's file holds `n` lines containing `marker`.
    pub fn wait_for(&self, marker: &str, n: usize, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            if text.matches(marker).count() >= n || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// rsyslogd's own error output.
    pub fn errors(&self) -> String {
        std::fs::read_to_string(self.dir.join("rsyslogd.err")).unwrap_or_default()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
