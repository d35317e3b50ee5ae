//! The connection cap without becoming the fault: when `max_connections` are open, a new caller
//! takes the slot of the connection that has been idle longest (a keep-alive connection between
//! requests, or a slow head that has not completed a request); only when every open connection
//! has a request in progress is the new caller refused. Both are counted, with the times of the
//! first and last refusal, so a run can say which of its seconds are suspect.
//!
//! Cost: one short lock per connection opened and closed (never per request); the scan for a
//! victim happens only at the cap. The default cap comes from the open-file limit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::conn::ConnCtl;

/// Descriptors kept aside for the listener, the control API, logs and upstream connects.
const RESERVED_FDS: u64 = 64;

/// The default cap: half the soft open-file limit (each caller may hold an upstream
/// connection too) less a reserve; 1024 where the limit cannot be read.
pub fn default_max_connections() -> usize {
    match open_file_limit() {
        Some(n) => (n.saturating_sub(RESERVED_FDS) / 2).clamp(16, 1 << 20) as usize,
        None => 1024,
    }
}

/// Raises the soft open-file limit to the hard one (what a long-running proxy should have);
/// returns the soft limit in force afterwards.
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: lim.rlim_max,
                    rlim_max: lim.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim.rlim_cur = lim.rlim_max;
                }
            }
        }
        Some(rlim(lim.rlim_cur))
    }
    #[cfg(not(unix))]
    None
}

/// `rlim_t` is u64 on Linux but not everywhere.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)]
fn rlim(v: libc::rlim_t) -> u64 {
    v as u64
}

fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit with a valid pointer to a local struct.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
        ok.then_some(rlim(lim.rlim_cur))
    }
    #[cfg(not(unix))]
    None
}

/// The open connections of one proxy, for choosing whom to shed.
#[derive(Default)]
pub(crate) struct OpenConns {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Arc<ConnCtl>>>,
}

/// Removes its connection from `OpenConns` when dropped.
pub(crate) struct Registered<'a> {
    conns: &'a OpenConns,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.conns.lock().remove(&self.id);
    }
}

impl OpenConns {
    pub fn register(&self, ctl: Arc<ConnCtl>) -> Registered<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, ctl);
        Registered { conns: self, id }
    }

    /// Asks the connection idle longest (no request in progress) to close; false when every
    /// open connection is serving a request.
    pub fn shed_one(&self) -> bool {
        let open = self.lock();
        let victim = open
            .values()
            .filter(|c| !c.shed_asked())
            .filter_map(|c| c.idle_age().map(|age| (age, c)))
            .max_by_key(|(age, _)| *age);
        match victim {
            Some((_, c)) => {
                c.ask_to_shed();
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ConnCtl>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How long a caller admitted by shedding waits for the shed connection's slot.
pub(crate) const SHED_WAIT: Duration = Duration::from_secs(2);

/// A caller still waiting this long sheds another idle connection.
pub(crate) const SHED_RETRY: Duration = Duration::from_millis(200);

/// First and last refusal, ms on the proxy's clock (u64::MAX: none yet).
#[derive(Debug)]
pub(crate) struct RefusalTimes {
    first_ms: AtomicU64,
    last_ms: AtomicU64,
}

impl Default for RefusalTimes {
    fn default() -> Self {
        RefusalTimes {
            first_ms: AtomicU64::new(u64::MAX),
            last_ms: AtomicU64::new(u64::MAX),
        }
    }
}

impl RefusalTimes {
    pub fn note(&self, t_ms: u64) {
        let _ =
            self.first_ms
                .compare_exchange(u64::MAX, t_ms, Ordering::Relaxed, Ordering::Relaxed);
        self.last_ms.store(t_ms, Ordering::Relaxed);
    }

    /// (first, last) in ms, if any refusal happened.
    pub fn window(&self) -> Option<(u64, u64)> {
        let first = self.first_ms.load(Ordering::Relaxed);
        (first != u64::MAX).then(|| (first, self.last_ms.load(Ordering::Relaxed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_follows_the_open_file_limit() {
        let n = default_max_connections();
        let limit = open_file_limit().unwrap();
        assert_eq!(n as u64, (limit - RESERVED_FDS) / 2);
    }

    #[test]
    fn refusal_times_keep_the_first_and_the_last() {
        let t = RefusalTimes::default();
        assert_eq!(t.window(), None);
        t.note(17_000);
        t.note(19_500);
        assert_eq!(t.window(), Some((17_000, 19_500)));
    }
}
