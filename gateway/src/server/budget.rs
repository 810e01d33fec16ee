//! The memory all sessions together may hold as message content.
//!
//! Each session's content lives in memory from its first byte until it is
//! spooled, and `max_message_size` bounds only one of them: a thousand
//! clients each sending a 35 MiB message at once would ask for 35 GiB.
//! The budget (`server.content_memory`) is shared: a session reserves
//! room before its content may grow, and gives it back when the message
//! is done. A session that finds the budget spent stops reading (TCP then
//! slows its client) and waits a while for others to finish; if none does,
//! its message is read to its end, thrown away and refused with `452
//! 4.3.1`, which a client retries later. The session keeps its connection.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a session waits for room before its message is refused.
pub const WAIT: Duration = Duration::from_secs(5);

/// The budget's unit: reservations are whole KiB.
const UNIT: usize = 1024;

/// Room held at least once a message begins: content starts small and
/// doubles, so small messages reserve once.
const FIRST: usize = 64 * 1024;

/// The shared budget.
#[derive(Debug, Clone)]
pub struct ContentBudget {
    room: Arc<Semaphore>,
}

/// Room one session holds for the content it is reading; given back when
/// dropped.
#[derive(Debug, Default)]
pub struct Held {
    permit: Option<OwnedSemaphorePermit>,
}

impl Held {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.permit.as_ref().map_or(0, |p| p.num_permits() * UNIT)
    }

    /// Gives the room back.
    pub fn release(&mut self) {
        self.permit = None;
    }
}

impl ContentBudget {
    /// A budget of `bytes`, rounded up to whole units, so that content
    /// of `bytes` fits it.
    pub fn new(bytes: u64) -> Self {
        let units = bytes
            .div_ceil(UNIT as u64)
            .clamp(1, Semaphore::MAX_PERMITS as u64 / 2);
        ContentBudget {
            room: Arc::new(Semaphore::new(units as usize)),
        }
    }

    /// Makes `held` cover `bytes`, reserving by doubling so that content
    /// growing a chunk at a time reserves a few times, not once a read.
    /// Waits at most `wait` for others to give room back; false if the
    /// room did not come (then `held` is as it was).
    pub async fn cover(&self, held: &mut Held, bytes: usize, wait: Duration) -> bool {
        let have = held.bytes();
        if bytes <= have {
            return true;
        }
        let want = bytes.max(have * 2).max(FIRST).div_ceil(UNIT);
        let more = want - have / UNIT;
        // A request beyond the whole budget could never be met: ask for
        // what is needed, not the doubling.
        let more = if more > self.room.available_permits() {
            bytes.div_ceil(UNIT) - have / UNIT
        } else {
            more
        };
        let Ok(more) = u32::try_from(more) else {
            return false;
        };
        let got = match self.room.clone().try_acquire_many_owned(more) {
            Ok(p) => Some(p),
            Err(_) => tokio::time::timeout(wait, self.room.clone().acquire_many_owned(more))
                .await
                .ok()
                .and_then(Result::ok),
        };
        let Some(got) = got else {
            return false;
        };
        match &mut held.permit {
            Some(p) => p.merge(got),
            none => *none = Some(got),
        }
        true
    }

    /// Bytes of room not held by any session.
    pub fn available(&self) -> usize {
        self.room.available_permits() * UNIT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn room_is_shared_and_given_back() {
        let budget = ContentBudget::new(1024 * 1024);
        let (mut a, mut b) = (Held::default(), Held::default());
        assert!(budget.cover(&mut a, 600 * 1024, WAIT).await);
        assert!(a.bytes() >= 600 * 1024);
        // The rest is not enough for another 600 KiB: b waits, then is
        // refused, holding nothing.
        let short = Duration::from_millis(50);
        assert!(!budget.cover(&mut b, 600 * 1024, short).await);
        assert_eq!(b.bytes(), 0);
        // Once a is done, b gets its room, even while it waits.
        let waiting = {
            let budget = budget.clone();
            tokio::spawn(async move {
                let mut b = Held::default();
                let ok = budget.cover(&mut b, 600 * 1024, WAIT).await;
                (ok, b.bytes())
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        a.release();
        let (ok, bytes) = waiting.await.unwrap();
        assert!(ok && bytes >= 600 * 1024);
        assert_eq!(budget.available(), 1024 * 1024);
    }

    #[tokio::test]
    async fn growth_reserves_by_doubling() {
        let budget = ContentBudget::new(64 * 1024 * 1024);
        let mut held = Held::default();
        let mut reservations = 0;
        for size in (1..=1000).map(|k| k * 10 * 1024) {
            let before = held.bytes();
            assert!(budget.cover(&mut held, size, WAIT).await);
            reservations += usize::from(held.bytes() != before);
            assert!(held.bytes() >= size);
        }
        // 10 MiB in 10 KiB steps: a handful of reservations, not 1000.
        assert!(reservations <= 10, "{reservations}");
        drop(held);
        assert_eq!(budget.available(), 64 * 1024 * 1024);
    }
}
