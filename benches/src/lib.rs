//! Shared inputs for phigate's benchmarks.
#![allow(missing_docs)]

use std::path::PathBuf;

/// The labelled development corpus (tests/corpus/dev), raw .eml bytes.
pub fn corpus() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/dev");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/corpus/dev")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// About `bytes` of ordinary business prose with numbers, dates, names and
/// codes but no PHI: the common case the detectors must get through fast.
pub fn clean_text(bytes: usize) -> String {
    let paragraphs = [
        "Thanks for the update on the Q3 vendor review. The meeting with Norma Austin moved to September 3, 2025 at 3 PM in room 204.\n",
        "Order 514012879 shipped on 2025-03-27; tracking 1Z1Y3BVV9WWW9C7FHJ. Invoice 051-00-3223 is due October 15, 2024, amount $3,697.00.\n",
        "Please quote part no. A31B qty 8 and part R07.9 qty 45. Call 612-448-5601 or fax 281-342-3155 with questions.\n",
        "The flu shot clinic runs June 11 from 9 to 3; we expect about 120 people. Parking is in lot C behind the main building.\n",
        "Maintenance windows: 8 Apr 2024, September 22, 2024 and 4/20/25 from 10pm to 2am. VPN and file shares are affected.\n",
        "Log excerpt: 2025-11-13 15:33:00 host5 ERR code E664 pid 5966; 2025-11-13 15:33:01 host3 WARN disk 91% full.\n",
    ];
    let mut s = String::with_capacity(bytes + 256);
    let mut i = 0;
    while s.len() < bytes {
        s.push_str(paragraphs[i % paragraphs.len()]);
        i += 1;
    }
    s
}
