//! Sessions kept open between messages to the same next hop: a cached
//! session serves only the address, name, TLS level and AUTH user it was
//! set up for, for a while and a number of messages.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use phigate_config::TlsLevel;

use super::wire::{Io, Wire};
use crate::delivery::tls::TlsDetails;

/// A session ready for a transaction: greeted, TLS and AUTH done.
pub(super) struct Established {
    pub(super) io: Io<Box<dyn Wire>>,
    pub(super) ext: Vec<String>,
    pub(super) tls: Option<TlsDetails>,
    pub(super) uses: u32,
}

/// Sessions kept open between messages to the same next hop.
#[derive(Default)]
pub struct Pool {
    idle: std::sync::Mutex<std::collections::HashMap<PoolKey, Vec<(Instant, Established)>>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pool")
    }
}

/// A cached session serves only the same address, name, TLS level and
/// AUTH user it was set up for.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct PoolKey {
    pub(super) addr: SocketAddr,
    pub(super) name: String,
    pub(super) level: TlsLevel,
    pub(super) auth: Option<String>,
}

/// How long an idle session is kept, and how many messages one carries.
pub(super) const MAX_IDLE: Duration = Duration::from_secs(30);
pub(super) const MAX_USES: u32 = 100;
const MAX_IDLE_PER_HOP: usize = 8;

impl Pool {
    pub(super) fn take(&self, key: &PoolKey) -> Option<Established> {
        let mut idle = self.idle.lock().expect("pool lock");
        let list = idle.get_mut(key)?;
        while let Some((since, c)) = list.pop() {
            if since.elapsed() < MAX_IDLE {
                return Some(c);
            }
        }
        None
    }

    pub(super) fn put(&self, key: PoolKey, c: Established) {
        let mut idle = self.idle.lock().expect("pool lock");
        let list = idle.entry(key).or_default();
        list.retain(|(since, _)| since.elapsed() < MAX_IDLE);
        if list.len() < MAX_IDLE_PER_HOP {
            list.push((Instant::now(), c));
        }
    }
}
