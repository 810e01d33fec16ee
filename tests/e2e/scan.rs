//! `phigate scan` and the `[detectors]` configuration, through the binary.

use std::io::Write;
use std::process::{Command, Stdio};

use phigate_tests::{binary, corpus_dir};

fn scan(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    let mut child = Command::new(binary())
        .arg("scan")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(b) = stdin {
        input.write_all(b).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn json_lines_follow_the_contract() {
    let dir = corpus_dir();
    let phi = dir.join("dev-0002.eml"); // SSN
    let clean = dir.join("dev-0022.eml"); // parts list
    let (code, out, _) = scan(
        &["--json", phi.to_str().unwrap(), clean.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["file"], phi.to_str().unwrap());
    assert_eq!(lines[0]["phi"], true);
    assert_eq!(lines[0]["categories"], serde_json::json!(["ssn"]));
    let f = &lines[0]["findings"][0];
    assert_eq!(f["category"], "ssn");
    assert_eq!(f["preview"], "***-**-4832");
    assert!(f["rule"].as_str().unwrap().starts_with("ssn."));
    assert!(f["confidence"].as_f64().unwrap() >= 0.5);
    assert!(f["location"].as_str().unwrap().starts_with("part 1"));
    // The value itself appears nowhere in the output.
    assert!(!out.contains("135-14-4832") && !out.contains("135144832"));
    assert_eq!(lines[1]["phi"], false);
    assert_eq!(lines[1]["findings"], serde_json::json!([]));
}

#[test]
fn text_output_explains_and_stdin_works() {
    let msg = b"Subject: visit\r\n\r\nPatient: Mrs. John Stewart\r\nDOB: 1962-10-19\r\n";
    let (code, out, _) = scan(&["-"], Some(msg));
    assert_eq!(code, 0);
    assert!(out.starts_with("-: PHI (name_date)"), "{out}");
    assert!(out.contains("dob context \"dob\""), "{out}");
    assert!(!out.contains("Stewart") && !out.contains("1962"), "{out}");
}

#[test]
fn unreadable_input_exits_2_after_scanning_the_rest() {
    let good = corpus_dir().join("dev-0002.eml");
    let (code, out, err) = scan(
        &["--json", "/nonexistent/x.eml", good.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 2);
    assert!(err.contains("cannot read /nonexistent/x.eml"), "{err}");
    assert_eq!(out.lines().count(), 1);
}

#[test]
fn custom_rules_from_config() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("phigate.toml");
    std::fs::write(
        &cfg,
        r#"
[[detectors.rules]]
id = "lab-accession"
category = "lab_accession"
pattern = '\bACC-[0-9]{8}\b'
weight = 0.9
context = ["accession", "specimen"]
window = 40
[[detectors.rules]]
id = "project-x"
category = "internal"
keywords = ["Project Nightingale"]
weight = 0.7
"#,
    )
    .unwrap();
    let msg = b"Subject: lab\r\n\r\nSpecimen accession ACC-12345678 ready. Re: project nightingale.\r\nOther ACC-87654321 without context.\r\n";
    let (code, out, err) = scan(
        &["--json", "--config", cfg.to_str().unwrap(), "-"],
        Some(msg),
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        v["categories"],
        serde_json::json!(["internal", "lab_accession"])
    );
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    // The second accession number lacks context: half weight, below threshold.
    assert_eq!(
        rules.iter().filter(|r| **r == "lab-accession").count(),
        1,
        "{out}"
    );
    assert!(rules.contains(&"project-x"));
}

#[test]
fn check_config_names_an_invalid_rule() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[[detectors.rules]]\nid = \"broken\"\ncategory = \"mrn\"\npattern = \"(unclosed\"\n",
    )
    .unwrap();
    let out = Command::new(binary())
        .arg("check-config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "bad.toml:4: detectors.rules.pattern (rule `broken`): invalid regular expression"
        ),
        "{err}"
    );
}

/// `phigate scan *.eml | head -1`: the reader leaves after a line; the scan
/// stops as other Unix tools do, killed by SIGPIPE, and reports no
/// "internal error" (it panicked on the failed write before).
#[test]
fn a_reader_that_leaves_early_is_no_internal_error() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    let files: Vec<_> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    assert!(files.len() > 50, "the dev corpus is there");
    // Four times over: more output than a pipe holds, so the gateway is
    // still printing when the reader leaves.
    let mut child = Command::new(binary())
        .arg("scan")
        .args(files.iter().cycle().take(files.len() * 4))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(!first.is_empty());
    // Standard output is closed here, with most files still to print.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("internal error"), "stderr: {stderr}");
    const SIGPIPE: i32 = 13; // on Linux
    assert_eq!(out.status.signal(), Some(SIGPIPE), "{:?}", out.status);
}
