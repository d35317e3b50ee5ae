//! What the run has installed on attached proxies (running `redline proxy` processes) right now,
//! so that a second Ctrl-C, an error or a control API that stopped answering never leaves a
//! fault behind silently: `remove_now` takes them off within a short deadline without waiting
//! for the run, and whatever could not be removed is named with the command that removes it.
//!
//! In-process proxies are not recorded: they stop with the process. An entry is recorded
//! *before* its control call is sent (the proxy may install it even if the answer is lost) and
//! forgotten once a removal was confirmed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::fault_spec::Action;
use super::remote::{seg, Control, RemoteError};

/// One thing installed on an attached proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An HTTP fault, by name (native API).
    Fault(String),
    /// A TCP toxic, by name (Toxiproxy API).
    Toxic(String),
    /// The proxy was switched off (a TCP dependency made unavailable).
    Disabled,
}

#[derive(Debug, Clone)]
struct Entry {
    dependency: String,
    control: Control,
    proxy: String,
    item: Item,
}

impl Entry {
    fn same_place(&self, control: &Control, proxy: &str) -> bool {
        self.control.authority == control.authority && self.proxy == proxy
    }

    fn describe(&self) -> String {
        let what = match &self.item {
            Item::Fault(n) => format!("fault {n}"),
            Item::Toxic(n) => format!("toxic {n}"),
            Item::Disabled => "proxy disabled".to_string(),
        };
        format!(
            "{what} on proxy {} (dependency {}, control http://{})",
            self.proxy, self.dependency, self.control.authority
        )
    }

    /// The shell command that undoes this entry by hand.
    fn command(&self) -> String {
        let base = format!("http://{}", self.control.authority);
        match &self.item {
            Item::Fault(n) => format!(
                "redline fault rm {} --control {base} --proxy {}",
                quote(n),
                quote(&self.proxy)
            ),
            Item::Toxic(n) => format!(
                "curl -X DELETE {}",
                quote(&format!(
                    "{base}/proxies/{}/toxics/{}",
                    seg(&self.proxy),
                    seg(n)
                ))
            ),
            Item::Disabled => format!(
                "curl -X POST -d '{{\"enabled\":true}}' {}",
                quote(&format!("{base}/proxies/{}", seg(&self.proxy)))
            ),
        }
    }

    async fn undo(&self) -> Result<(), RemoteError> {
        let p = seg(&self.proxy);
        let call = match &self.item {
            Item::Fault(n) => {
                let path = format!("/redline/proxies/{p}/faults/{}", seg(n));
                self.control.call("DELETE", &path, None).await
            }
            Item::Toxic(n) => {
                let path = format!("/proxies/{p}/toxics/{}", seg(n));
                self.control.call("DELETE", &path, None).await
            }
            Item::Disabled => {
                let body = json!({"enabled": true});
                let path = format!("/proxies/{p}");
                self.control.call("POST", &path, Some(&body)).await
            }
        };
        match call {
            Ok(_) | Err(RemoteError::Status { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// What `remove_now` did.
#[derive(Debug, Default)]
pub struct Removal {
    /// Described entries confirmed removed.
    pub removed: Vec<String>,
    /// (description, why, command) of every entry still installed.
    pub left: Vec<(String, String, String)>,
}

impl Removal {
    /// The lines for stderr: what was removed, what is still installed and how to remove it.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.removed.is_empty() && self.left.is_empty() {
            out.push("no fault of this run is installed on an attached proxy".to_string());
        }
        for r in &self.removed {
            out.push(format!("removed {r}"));
        }
        for (what, why, cmd) in &self.left {
            out.push(format!("STILL INSTALLED: {what}: {why}"));
            out.push(format!("  remove it with: {cmd}"));
        }
        out
    }
}

/// The run's lease on attached proxies: its id (the owner of what it installs) and how long
/// the proxy keeps its faults without a renewal.
#[derive(Debug)]
struct Terms {
    run_id: String,
    lease: Duration,
}

/// Shared record of the run's faults on attached proxies (cheap to clone).
#[derive(Debug, Clone)]
pub struct Installed {
    terms: Arc<Terms>,
    entries: Arc<Mutex<Vec<Entry>>>,
    /// Set by `remove_now`: nothing new may be installed once the run is being torn down.
    closed: Arc<Mutex<bool>>,
    /// Install calls on their way: `remove_now` waits for them, so a call that lands after
    /// its removal cannot leave the fault behind.
    sending: Arc<AtomicUsize>,
}

/// An install call on its way (see `Installed::record`); dropped when the call returned.
pub struct Sending(Arc<AtomicUsize>);

impl Drop for Sending {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Default for Installed {
    fn default() -> Self {
        Installed::with_lease(super::lease::DEFAULT_LEASE)
    }
}

fn items(action: &Action) -> Vec<Item> {
    match action {
        Action::Http(spec) => vec![Item::Fault(spec.name.clone())],
        Action::Toxics(toxics) => toxics.iter().map(|t| Item::Toxic(t.name.clone())).collect(),
        Action::Disable => vec![Item::Disabled],
    }
}

impl Installed {
    /// A fresh record for a run with a new run id, whose faults the proxies keep `lease`
    /// without renewal (`--fault-lease`).
    pub fn with_lease(lease: Duration) -> Installed {
        Installed {
            terms: Arc::new(Terms {
                run_id: super::lease::new_run_id(),
                lease,
            }),
            entries: Default::default(),
            closed: Default::default(),
            sending: Default::default(),
        }
    }

    /// The run's id: the owner of everything it installs on attached proxies.
    pub fn run_id(&self) -> &str {
        &self.terms.run_id
    }

    /// How long an attached proxy keeps the run's faults without a renewal.
    pub fn lease(&self) -> Duration {
        self.terms.lease
    }

    /// True while something is recorded as installed on an attached proxy.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Records `action` on an attached proxy before it is sent; keep the guard until the call
    /// returned. None once the run is closing (the caller must then not install it).
    pub fn record(
        &self,
        dependency: &str,
        control: &Control,
        proxy: &str,
        action: &Action,
    ) -> Option<Sending> {
        let closed = self.closed.lock().unwrap_or_else(|e| e.into_inner());
        if *closed {
            return None;
        }
        self.sending.fetch_add(1, Ordering::SeqCst);
        let guard = Sending(self.sending.clone());
        let mut entries = self.lock();
        for item in items(action) {
            entries.push(Entry {
                dependency: dependency.to_string(),
                control: control.clone(),
                proxy: proxy.to_string(),
                item,
            });
        }
        Some(guard)
    }

    /// Forgets `action` on that proxy: its removal was confirmed.
    pub fn forget(&self, control: &Control, proxy: &str, action: &Action) {
        let gone = items(action);
        self.lock()
            .retain(|e| !(e.same_place(control, proxy) && gone.contains(&e.item)));
    }

    /// Forgets everything on that proxy: it was put back to clean passthrough.
    pub fn forget_proxy(&self, control: &Control, proxy: &str) {
        self.lock().retain(|e| !e.same_place(control, proxy));
    }

    /// Everything still installed, as `(description, command)`.
    pub fn left(&self) -> Vec<(String, String)> {
        self.lock()
            .iter()
            .map(|e| (e.describe(), e.command()))
            .collect()
    }

    /// Stops further installs and removes every recorded entry, all within `within`; what is
    /// not confirmed removed by then is reported as left, with the command to remove it.
    pub async fn remove_now(&self, within: Duration) -> Removal {
        *self.closed.lock().unwrap_or_else(|e| e.into_inner()) = true;
        let mut out = Removal::default();
        let deadline = tokio::time::Instant::now() + within;
        while self.sending.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let pending: Vec<Entry> = self.lock().clone();
        for e in pending {
            let outcome = tokio::time::timeout_at(deadline, e.undo()).await;
            match outcome {
                Ok(Ok(())) => {
                    self.lock()
                        .retain(|x| !(x.same_place(&e.control, &e.proxy) && x.item == e.item));
                    out.removed.push(e.describe());
                }
                Ok(Err(why)) => out.left.push((e.describe(), why.to_string(), e.command())),
                Err(_) => out.left.push((
                    e.describe(),
                    format!("no answer within the {within:?} deadline"),
                    e.command(),
                )),
            }
        }
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Single-quotes `s` for a POSIX shell when it holds anything beyond a safe set.
fn quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:@%=+,".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redline_proxy::fault::FaultSpec;

    fn http_action(name: &str) -> Action {
        let mut spec = FaultSpec::parse_cli("abort:status=503").unwrap();
        spec.name = name.to_string();
        Action::Http(Box::new(spec))
    }

    #[test]
    fn records_forgets_and_names_the_command() {
        let inst = Installed::default();
        let c = Control::new("http://127.0.0.1:8474");
        assert!(inst
            .record("Users", &c, "users", &http_action("abort@1s"))
            .is_some());
        assert!(inst
            .record("Users", &c, "users", &http_action("it's"))
            .is_some());
        let left = inst.left();
        assert_eq!(left.len(), 2);
        assert!(
            left[0].0.contains("fault abort@1s on proxy users"),
            "{left:?}"
        );
        assert_eq!(
            left[0].1,
            "redline fault rm abort@1s --control http://127.0.0.1:8474 --proxy users"
        );
        assert!(left[1].1.contains(r"'it'\''s'"), "{left:?}");
        inst.forget(&c, "users", &http_action("abort@1s"));
        assert_eq!(inst.left().len(), 1);
        inst.forget_proxy(&c, "users");
        assert!(inst.left().is_empty());
    }

    #[tokio::test]
    async fn nothing_is_installed_once_closed_and_unreachable_entries_are_left() {
        let inst = Installed::default();
        // A port nothing listens on: the removal fails and the entry is reported as left.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = Control::new(&format!("127.0.0.1:{port}"));
        drop(inst.record("Users", &c, "users", &Action::Disable));
        let r = inst.remove_now(Duration::from_secs(2)).await;
        assert!(r.removed.is_empty());
        assert_eq!(r.left.len(), 1, "{r:?}");
        assert!(r.left[0].2.contains("\"enabled\":true"), "{r:?}");
        assert!(inst
            .record("Users", &c, "users", &http_action("late"))
            .is_none());
        let text = r.lines().join("\n");
        assert!(
            text.contains("STILL INSTALLED: proxy disabled on proxy users"),
            "{text}"
        );
    }
}
