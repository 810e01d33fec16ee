//! Queue IDs: unique, sortable by arrival, printable.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A queue ID: microseconds since the Unix epoch at arrival, bumped so that
/// every ID is greater than the one before. Printed as 16 upper-case hex
/// digits, so string order is arrival order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueId(u64);

impl QueueId {
    /// The raw value.
    pub fn as_u64(self) -> u64 {
        self.0
    }
    /// From a raw value (as stored in a record).
    pub fn from_u64(v: u64) -> Self {
        QueueId(v)
    }
    /// Seconds since the epoch at which the ID was made.
    pub fn unix_secs(self) -> u64 {
        self.0 / 1_000_000
    }
}

impl fmt::Display for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016X}", self.0)
    }
}

impl FromStr for QueueId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u64::from_str_radix(s, 16).map(QueueId)
    }
}

impl serde::Serialize for QueueId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for QueueId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Hands out increasing IDs. Seeded with the highest ID found in the spool,
/// so IDs stay unique across restarts even if the clock steps back.
#[derive(Debug)]
pub struct IdGenerator {
    last: AtomicU64,
}

impl IdGenerator {
    /// A generator whose IDs are all above `floor`.
    pub fn new(floor: QueueId) -> Self {
        IdGenerator {
            last: AtomicU64::new(floor.0),
        }
    }

    /// The next ID.
    pub fn next(&self) -> QueueId {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        let mut prev = self.last.load(Ordering::Relaxed);
        loop {
            let next = now.max(prev + 1);
            match self
                .last
                .compare_exchange_weak(prev, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return QueueId(next),
                Err(p) => prev = p,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_sort_as_strings() {
        let g = IdGenerator::new(QueueId(0));
        let ids: Vec<QueueId> = (0..1000).map(|_| g.next()).collect();
        for w in ids.windows(2) {
            assert!(w[0] < w[1]);
            assert!(w[0].to_string() < w[1].to_string());
        }
        assert_eq!(ids[0].to_string().len(), 16);
        assert_eq!(ids[5].to_string().parse::<QueueId>().unwrap(), ids[5]);
    }

    #[test]
    fn floor_from_the_future_is_respected() {
        let g = IdGenerator::new(QueueId(u64::MAX / 2));
        assert_eq!(g.next(), QueueId(u64::MAX / 2 + 1));
    }
}
