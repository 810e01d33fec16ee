//! PDF text, read out of process by poppler's `pdftotext` (Debian's
//! `poppler-utils`): a PDF reader is large and a favourite target, so it
//! never runs inside the gateway. Each extraction runs in its own process
//! with a CPU and memory limit (`prlimit`), no network (a new network
//! namespace when the system allows one: `unshare -n`), no files written
//! (RLIMIT_FSIZE 0; it writes to a pipe), a wall-clock limit (the
//! inspection's deadline, or `pdf_timeout` if sooner) and a cap on the text
//! it may return. At most `workers` run at once; a PDF that finds no free
//! worker before its deadline is uninspectable, so a flood of PDFs cannot
//! starve the relay. A crash, a timeout or an image-only PDF leaves the
//! part uninspectable, with the reason in `scan` output.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use phigate_detectors::PdfText;

/// The out-of-process PDF text reader.
#[derive(Debug)]
pub struct Pdftotext {
    program: PathBuf,
    /// Wrap the process in a new network namespace.
    no_network: bool,
    timeout: Duration,
    memory: u64,
    max_text: usize,
    slots: Slots,
}

/// A counting semaphore for blocking threads.
#[derive(Debug)]
struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    fn take(&self, until: Instant) -> bool {
        let mut free = self.free.lock().expect("pdf slots");
        loop {
            if *free > 0 {
                *free -= 1;
                return true;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            free = self.freed.wait_timeout(free, left).expect("pdf slots").0;
        }
    }

    fn give(&self) {
        *self.free.lock().expect("pdf slots") += 1;
        self.freed.notify_one();
    }
}

impl Pdftotext {
    /// The reader, if `pdftotext` is installed; `workers` at once, each
    /// within `timeout` and `memory_mib`.
    pub fn find(workers: usize, timeout: Duration, memory_mib: u64) -> Option<Pdftotext> {
        let program = ["/usr/bin/pdftotext", "/usr/local/bin/pdftotext"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())?;
        // A network namespace costs a fork and nothing else; use it when
        // this system lets us.
        let no_network = Command::new("unshare")
            .args(["-rn", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        Some(Pdftotext {
            program,
            no_network,
            timeout,
            memory: memory_mib << 20,
            max_text: 16 << 20,
            slots: Slots {
                free: Mutex::new(workers.max(1)),
                freed: Condvar::new(),
            },
        })
    }

    fn command(&self, input: &std::path::Path) -> Command {
        let cpu = self.timeout.as_secs().max(1);
        let mut cmd = Command::new("prlimit");
        cmd.arg(format!("--as={}", self.memory))
            .arg(format!("--cpu={cpu}"))
            .arg("--fsize=0")
            .arg("--nofile=32")
            .arg("--nproc=512")
            .arg("--");
        if self.no_network {
            cmd.args(["unshare", "-rn", "--"]);
        }
        cmd.arg(&self.program)
            .args(["-q", "-enc", "UTF-8", "-eol", "unix", "-l", "200"])
            .arg(input)
            .arg("-")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        cmd
    }

    fn run(&self, pdf: &[u8], until: Instant) -> Result<String, String> {
        let dir = tempfile::Builder::new()
            .prefix("phigate-pdf-")
            .tempdir()
            .map_err(|e| format!("no temporary directory ({e})"))?;
        let input = dir.path().join("in.pdf");
        std::fs::write(&input, pdf).map_err(|e| format!("cannot stage the PDF ({e})"))?;
        let mut child = self
            .command(&input)
            .spawn()
            .map_err(|e| format!("cannot start pdftotext ({e})"))?;
        let mut stdout = child.stdout.take().expect("piped");
        // Read on a thread, so the wall clock is kept here.
        let cap = self.max_text;
        let reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = (&mut stdout).take(cap as u64 + 1).read_to_end(&mut buf);
            buf
        });
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if Instant::now() >= until => break None,
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(_) => break None,
            }
        };
        let Some(status) = status else {
            let _ = child.kill();
            let _ = child.wait();
            let _ = reader.join();
            return Err("pdftotext took longer than its time limit".into());
        };
        let out = reader.join().unwrap_or_default();
        if !status.success() {
            return Err(match status.code() {
                Some(c) => {
                    format!("pdftotext failed (exit {c}): a damaged, encrypted or hostile PDF")
                }
                None => "pdftotext was killed (a CPU or memory limit)".into(),
            });
        }
        if out.len() > cap {
            return Err("more text than the inspection limit".into());
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

/// `pdftotext` is configured but not installed: every PDF says so.
#[derive(Debug)]
pub struct Missing;

impl PdfText for Missing {
    fn text(&self, _: &[u8], _: Option<Instant>) -> Result<String, String> {
        Err("pdftotext is not installed (Debian package poppler-utils)".into())
    }
}

impl PdfText for Pdftotext {
    fn text(&self, pdf: &[u8], deadline: Option<Instant>) -> Result<String, String> {
        let own = Instant::now() + self.timeout;
        let until = deadline.map_or(own, |d| d.min(own));
        if !self.slots.take(until) {
            return Err("every PDF reader was busy until the inspection deadline".into());
        }
        let r = self.run(pdf, until);
        self.slots.give();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-page PDF with a text layer.
    fn pdf(line: &str) -> Vec<u8> {
        let content = format!("BT /F1 12 Tf 50 700 Td ({line}) Tj ET");
        let objs = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_string(),
            format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
        ];
        let mut out = String::from("%PDF-1.4\n");
        let mut offsets = Vec::new();
        for (i, o) in objs.iter().enumerate() {
            offsets.push(out.len());
            out += &format!("{} 0 obj\n{o}\nendobj\n", i + 1);
        }
        let xref = out.len();
        out += &format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1);
        for o in offsets {
            out += &format!("{o:010} 00000 n \n");
        }
        out += &format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        );
        out.into_bytes()
    }

    #[test]
    fn text_comes_out_and_garbage_fails_cleanly() {
        let r = Pdftotext::find(2, Duration::from_secs(10), 512)
            .expect("pdftotext is installed (Debian poppler-utils)");
        let text = r.text(&pdf("Patient SSN 135-14-4832"), None).unwrap();
        assert!(text.contains("135-14-4832"), "{text:?}");
        assert!(
            r.text(b"%PDF-1.7 garbage", None).is_err()
                || r.text(b"%PDF-1.7 garbage", None).unwrap().trim().is_empty()
        );
        // A deadline already past: no worker is waited for.
        let past = Instant::now();
        assert!(r.text(&pdf("x"), Some(past)).is_err());
    }
}
