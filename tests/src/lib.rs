//! Test harness for phigate's end-to-end tests: a test CA, a gateway
//! builder (in-process or as a real process), and an SMTP client whose
//! scripts read like transcripts.
#![allow(missing_docs)]

pub mod browser;
pub mod ca;
pub mod client;
pub mod disk;
pub mod dns;
pub mod downstream;
pub mod gateway;
pub mod https;
pub mod ldap;
pub mod postfix;
pub mod resolver;
pub mod syslog;

pub use ca::TestCa;
pub use client::{Client, Reply, converse};
pub use gateway::{GatewayBuilder, GatewayProcess, RunningGateway, binary};

/// Fails loudly when a tool an interop test needs is missing: CI installs
/// it, so a missing tool is a broken environment, never a reason to skip.
pub fn require_tool(name: &str) -> std::path::PathBuf {
    for dir in std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(["/usr/sbin", "/usr/lib/postfix/sbin"])
    {
        let p = std::path::Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "required tool `{name}` is not installed (scripts/install-test-tools installs every tool the tests need; .ci/run calls it)"
    );
}

/// The labelled development corpus shipped in tests/corpus/dev.
pub fn corpus_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/dev")
}

/// Runs `phigate audit verify` on the audit log of the gateway whose
/// directory is `gateway_dir`, with the public key of its signing key
/// pinned on the command line (as an administrator keeps it off the host).
pub fn verify_audit(gateway_dir: &std::path::Path) -> std::process::Output {
    let key = phigate::audit::SigningKey::load(&gateway_dir.join("audit-signing.key"))
        .expect("the gateway made its signing key");
    let pinned = gateway_dir.join("pinned.pub");
    std::fs::write(&pinned, key.public().to_hex()).unwrap();
    std::process::Command::new(binary())
        .args(["audit", "verify", "--dir"])
        .arg(gateway_dir.join("audit"))
        .arg("--public-key")
        .arg(&pinned)
        .output()
        .unwrap()
}

/// Every record of the audit log in `dir`, parsed, oldest file first.
pub fn audit_records(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect::<Vec<serde_json::Value>>()
        })
        .collect()
}

/// The peak resident memory (VmHWM) of process `pid`, in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("VmHWM in /proc/PID/status")
}
