//! Profiling aid: scans a large text of ordinary business prose repeatedly.
fn main() {
    let paragraphs = [
        "Thanks for the update on the Q3 vendor review. The meeting with Norma Austin moved to September 3, 2025 at 3 PM in room 204.\n",
        "Order 514012879 shipped on 2025-03-27; tracking 1Z1Y3BVV9WWW9C7FHJ. Invoice 051-00-3223 is due October 15, 2024, amount $3,697.00.\n",
        "Please quote part no. A31B qty 8 and part R07.9 qty 45. Call 612-448-5601 or fax 281-342-3155 with questions.\n",
        "The flu shot clinic runs June 11 from 9 to 3; we expect about 120 people. Parking is in lot C behind the main building.\n",
    ];
    let mut s = String::new();
    while s.len() < 1 << 20 {
        for p in paragraphs {
            s.push_str(p);
        }
    }
    let e = phigate_detectors::Engine::new(Default::default()).unwrap();
    let t = std::time::Instant::now();
    let mut n = 0;
    for _ in 0..20 {
        n += e.scan_text(&s).findings.len();
    }
    println!(
        "{:.1} MB/s ({n} findings)",
        20.0 * s.len() as f64 / t.elapsed().as_secs_f64() / 1e6
    );
}
