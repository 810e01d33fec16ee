//! Replies from a server we deliver to (a hostile one, say): the line
//! parser never panics, never keeps more than a reply's worth, and what it
//! lets out of a reply (the summary) is only a code and a status code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phigate::delivery::reply::{Lines, MAX_REPLY, summary};

fuzz_target!(|data: &[u8]| {
    let mut lines = Lines::default();
    let mut taken = 0;
    for line in data.split_inclusive(|&b| b == b'\n') {
        taken += line.len();
        match lines.push(line) {
            Ok(Some(reply)) => {
                assert!((200..600).contains(&reply.code));
                assert!(reply.text.len() <= MAX_REPLY);
                let s = summary(reply.code, &reply.text);
                // Nothing of the text but a status code survives.
                let mut parts = s.split(' ');
                assert_eq!(parts.next(), Some(reply.code.to_string().as_str()));
                if let Some(e) = parts.next() {
                    assert!(e.bytes().all(|b| b.is_ascii_digit() || b == b'.'), "{s}");
                }
                assert!(parts.next().is_none());
                lines = Lines::default();
                taken = 0;
            }
            Ok(None) => assert!(taken <= MAX_REPLY),
            Err(_) => {
                lines = Lines::default();
                taken = 0;
            }
        }
    }
});
