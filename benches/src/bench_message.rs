//! Writes one of the benchmark messages to stdout, for tools we did not
//! write (`smtp-source -F FILE`) to send.
//!
//! Usage: bench-message 4k|100k|1m|10m [SEED]
//!
//! - 4k: a short clean business note (about 4 KiB);
//! - 100k: a short note and a base64 CSV attachment (input (b));
//! - 1m: an HTML newsletter with inline images (input (c));
//! - 10m: a message with a DOCX and an XLSX (input (d)).

use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_default();
    let seed: usize = args.next().map_or(0, |s| s.parse().expect("SEED"));
    let msg = match which.as_str() {
        "4k" => phigate_benches::note_4k(seed),
        "100k" => phigate_benches::message_100k(seed),
        "1m" => phigate_benches::newsletter_1m(seed),
        "10m" => phigate_benches::office_10m(seed),
        _ => {
            eprintln!("usage: bench-message 4k|100k|1m|10m [SEED]");
            std::process::exit(2);
        }
    };
    std::io::stdout().write_all(&msg).expect("stdout");
}
