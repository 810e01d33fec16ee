//! Contents whose inspection failed lately, so that the same message
//! failing again is recognised.

/// Contents whose inspection failed lately (by SHA-256), so the same
/// message failing again is recognised. Bounded: the oldest entries go
/// first, and entries expire after a day.
#[derive(Debug, Default)]
pub struct FailedScans {
    seen: std::collections::HashMap<[u8; 32], (u32, std::time::Instant)>,
}

impl FailedScans {
    const MAX: usize = 4096;
    const TTL: std::time::Duration = std::time::Duration::from_secs(86_400);

    /// Records a failed inspection of `body`; how many times it has failed
    /// within the last day, this one included.
    pub fn note(&mut self, body: &[u8]) -> u32 {
        let digest = ring::digest::digest(&ring::digest::SHA256, body);
        let key: [u8; 32] = digest.as_ref().try_into().expect("SHA-256 is 32 bytes");
        let now = std::time::Instant::now();
        self.seen
            .retain(|_, (_, t)| now.duration_since(*t) < Self::TTL);
        if self.seen.len() >= Self::MAX
            && let Some(oldest) = self
                .seen
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| *k)
        {
            self.seen.remove(&oldest);
        }
        let e = self.seen.entry(key).or_insert((0, now));
        e.0 += 1;
        e.0
    }
}
