//! The SMTP command parser and session state machine, driven as the
//! connection drives them: lines, DATA content, BDAT chunks, STARTTLS and
//! AUTH outcomes, all from the fuzzer's bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phigate::smtp::command::{Line, find_line, line_text};
use phigate::smtp::session::{AuthOutcome, Limits, TlsInfo};
use phigate::smtp::{Action, DataReader, Session};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        hostname: "gw.fuzz.example".into(),
        max_message_size: 1 << 16,
        max_recipients: 8,
        max_errors: 64,
        tls_available: true,
        auth_available: true,
        max_hops: 50,
        local_domains: vec!["clinic.example".into()],
    };
    let relay = data.first().is_some_and(|b| b & 1 == 1);
    let mut s = Session::new(limits, "192.0.2.1".parse().unwrap(), relay);
    let mut rest = data;
    let mut steps = 0;
    while !rest.is_empty() && steps < 1000 {
        steps += 1;
        let line = match find_line(rest, 1024) {
            Line::Complete { len } => {
                let (l, tail) = rest.split_at(len);
                rest = tail;
                l
            }
            Line::TooLong => {
                let _ = s.line_too_long();
                rest = &rest[rest.len().min(1024)..];
                continue;
            }
            Line::Incomplete => {
                let l = rest;
                rest = &[];
                l
            }
        };
        let text = line_text(line);
        let step = if s.wants_auth_line() {
            s.auth_line(text)
        } else {
            s.command(text)
        };
        match step.action {
            Action::ReadData => {
                let mut r = DataReader::new(1 << 16);
                let (used, _) = r.feed(rest);
                assert!(used <= rest.len());
                rest = &rest[used..];
                let _ = s.data_done(r.finish());
            }
            Action::ReadChunk { size, last, keep } => {
                let n = (size as usize).min(rest.len());
                let mut body = rest[..n].to_vec();
                rest = &rest[n..];
                let _ = s.chunk_done(size, last, keep, &mut body);
            }
            Action::DiscardChunk { size, .. } => {
                rest = &rest[(size as usize).min(rest.len())..];
            }
            Action::StartTls => s.tls_established(TlsInfo {
                version: "TLSv1_3".into(),
                cipher: "TLS13_AES_128_GCM_SHA256".into(),
                relay_client: rest
                    .first()
                    .is_some_and(|b| b & 8 == 8)
                    .then(|| "c.example".into()),
            }),
            Action::Authenticate(_) => {
                let outcome = match rest.first().map(|b| b & 6) {
                    Some(2) => AuthOutcome::Ok("user@fuzz.example".to_string()),
                    Some(4) => AuthOutcome::TryLater,
                    _ => AuthOutcome::Invalid,
                };
                let _ = s.auth_checked(outcome);
            }
            Action::Close => break,
            Action::Continue => {}
        }
    }
});
