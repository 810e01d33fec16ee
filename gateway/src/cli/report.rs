//! `phigate report`: the monthly compliance report, from the audit log.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// Runs `phigate report`: verifies the log (the result goes into the
/// report, failure included), folds the month's records, writes the HTML.
pub(crate) fn report(
    config: Option<PathBuf>,
    month: &str,
    out: Option<&Path>,
    pdf: Option<&Path>,
) -> Result<()> {
    if !crate::report::build::valid_month(month) {
        anyhow::bail!("--month {month}: expected YYYY-MM");
    }
    let cfg = crate::cli::load(config.as_deref())?;
    let (html, month_figures, problem) = crate::report::build::build(&cfg, month)?;
    if let Some(p) = problem {
        eprintln!("phigate: the audit log does not verify: {p}");
    }
    // The PDF is printed from the HTML file: the one asked for, or a
    // temporary one.
    let tmp = tempfile::tempdir().context("temporary directory")?;
    let html_path = out.map_or_else(|| tmp.path().join("report.html"), Path::to_path_buf);
    std::fs::write(&html_path, html).with_context(|| format!("writing {}", html_path.display()))?;
    if let Some(pdf) = pdf {
        print_pdf(&html_path, pdf, tmp.path())?;
    }
    let shown = pdf.filter(|_| out.is_none()).unwrap_or(&html_path);
    println!(
        "{}: {} message(s), {} with PHI, {} PHI exception(s) to review",
        shown.display(),
        month_figures.messages,
        month_figures.phi_messages,
        month_figures.exceptions.len()
    );
    Ok(())
}

/// Prints `html` to `pdf` with a headless Chromium: the page is the
/// report's own (inline SVG, no script, nothing fetched), the browser gets
/// a throw-away profile and no proxyable network, and a minute at most.
fn print_pdf(html: &Path, pdf: &Path, scratch: &Path) -> Result<()> {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
        .ok_or_else(|| {
            anyhow::anyhow!("--pdf needs a headless Chromium (Debian: apt-get install chromium)")
        })?;
    let html = std::fs::canonicalize(html).with_context(|| format!("{}", html.display()))?;
    let _ = std::fs::remove_file(pdf);
    let mut child = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-extensions",
            "--no-first-run",
            "--no-pdf-header-footer",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", browser.display()))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!("{} did not print the PDF within 60 s", browser.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let written = std::fs::metadata(pdf).map(|m| m.len()).unwrap_or(0);
    if !status.success() || written == 0 {
        anyhow::bail!(
            "{} could not print {} ({status})",
            browser.display(),
            pdf.display()
        );
    }
    Ok(())
}
