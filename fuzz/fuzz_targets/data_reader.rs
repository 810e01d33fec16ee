//! The DATA reader, fed in pieces of fuzzer-chosen sizes: it must never
//! read past the terminator or accept a message with bare CR or LF.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phigate::smtp::DataReader;

fuzz_target!(|data: &[u8]| {
    let Some((&piece, input)) = data.split_first() else {
        return;
    };
    let piece = usize::from(piece).max(1);
    let mut r = DataReader::new(1 << 16);
    let mut offered = 0;
    let mut consumed = 0;
    let mut done = false;
    while offered < input.len() && !done {
        let end = (offered + piece).min(input.len());
        let (used, d) = r.feed(&input[consumed..end]);
        assert!(consumed + used <= end);
        consumed += used;
        offered = end;
        done = d;
    }
    if !done {
        // The connection waits for more input; only a terminated DATA is finished.
        return;
    }
    // What ended the data is the first <CRLF>.<CRLF> (or a leading .<CRLF>).
    let head = &input[..consumed];
    assert!(head.ends_with(b"\r\n.\r\n") || head == b".\r\n");
    if let Ok(body) = r.finish() {
        for (i, &b) in body.iter().enumerate() {
            if b == b'\n' {
                assert!(i > 0 && body[i - 1] == b'\r', "bare LF accepted");
            }
            if b == b'\r' {
                assert!(body.get(i + 1) == Some(&b'\n'), "bare CR accepted");
            }
        }
    }
});
