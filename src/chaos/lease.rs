//! The run's side of fault leases on attached proxies (the dead man's switch): everything it
//! installs names the run as owner (and a scheduled fault its own end), and `renew` keeps the
//! run's lease alive every lease/3 while the run lives. When renewals stop (the run was killed,
//! frozen, or cut off from the control API) the proxy removes the run's faults by itself.
//!
//! Invariant: a run that cannot renew in time stops itself rather than run on without knowing
//! whether its faults are still there; it says which control API it lost and when.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redline_proxy::control::{EXPIRES_HEADER, OWNER_HEADER};
use serde_json::json;
use tokio::sync::watch;

use super::proxies::{Endpoint, Proxies};
use super::remote::{seg, Control, RemoteError};
use crate::engine::StopSignal;

/// How long an attached proxy keeps a run's faults without a renewal (`--fault-lease`).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

/// The result's `interrupted_by` for a run that lost its control API.
pub const CONTROL_LOST: &str = "control-lost";

/// A new run id: process id and start time, unique enough on one machine and readable in logs.
pub fn new_run_id() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("run-{}-{ms:x}", std::process::id())
}

/// The headers of an install: the run as owner, and the install's own lifetime if it has one.
pub fn install_headers(run_id: &str, expires_in: Option<Duration>) -> Vec<(&'static str, String)> {
    let mut h = vec![(OWNER_HEADER, run_id.to_string())];
    if let Some(d) = expires_in {
        h.push((EXPIRES_HEADER, format!("{}ms", d.as_millis().max(1))));
    }
    h
}

/// How often a lease of `lease` is renewed: a third of it, so a renewal may fail and the run
/// still has time to stop and clean up before the proxy gives up on it.
pub fn renew_every(lease: Duration) -> Duration {
    (lease / 3).max(Duration::from_millis(100))
}

/// Renews the run's lease on every attached control API until `done`; releases it then. When a
/// renewal is refused (the lease lapsed) or none succeeded for too long, stops the run and
/// returns the note saying so.
pub async fn renew(
    proxies: Arc<Proxies>,
    stop: StopSignal,
    origin: Instant,
    mut done: watch::Receiver<bool>,
) -> Option<String> {
    let controls = attached(&proxies);
    if controls.is_empty() {
        return None;
    }
    let run_id = proxies.installed.run_id().to_string();
    let lease = proxies.installed.lease();
    let every = renew_every(lease);
    let body = json!({"lease": lease.as_millis() as u64});
    let path = format!("/redline/leases/{}", seg(&run_id));
    let mut last_ok: BTreeMap<String, Instant> = controls
        .keys()
        .map(|k| (k.clone(), Instant::now()))
        .collect();
    let mut lost = None;
    'outer: loop {
        for (authority, control) in &controls {
            let call = control.call("POST", &path, Some(&body));
            match tokio::time::timeout(every, call).await {
                Ok(Ok(_)) => {
                    last_ok.insert(authority.clone(), Instant::now());
                }
                Ok(Err(RemoteError::Status {
                    status: 410, body, ..
                })) => {
                    lost = Some(format!(
                        "control API http://{authority}: {}; the run stopped at {:.1} s",
                        message(&body),
                        origin.elapsed().as_secs_f64()
                    ));
                    break 'outer;
                }
                Ok(Err(_)) | Err(_) => {
                    let quiet = last_ok[authority].elapsed();
                    // One more miss and the lease lapses: stop while the proxy still agrees.
                    if quiet + every >= lease {
                        lost = Some(format!(
                            "control API http://{authority} did not answer lease renewals for {:.1} s: the run stopped at {:.1} s; the proxy removes this run's faults when its {} s lease lapses",
                            quiet.as_secs_f64(),
                            origin.elapsed().as_secs_f64(),
                            lease.as_secs_f64()
                        ));
                        break 'outer;
                    }
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = done.wait_for(|d| *d) => break,
        }
    }
    if let Some(note) = &lost {
        eprintln!("{note}");
        stop.stop();
        let _ = done.wait_for(|d| *d).await;
    }
    for control in controls.values() {
        let release = control.call("DELETE", &path, None);
        let _ = tokio::time::timeout(Duration::from_secs(1), release).await;
    }
    lost
}

/// The distinct control APIs of the run's attached proxies, by authority.
fn attached(proxies: &Proxies) -> BTreeMap<String, Control> {
    proxies
        .deps
        .iter()
        .filter_map(|d| match &d.endpoint {
            Endpoint::Remote { control, .. } => Some((control.authority.clone(), control.clone())),
            Endpoint::Local(_) => None,
        })
        .collect()
}

/// The `error` of a control API's JSON error body, else the body.
fn message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_name_the_owner_and_the_end() {
        let h = install_headers("run-1", Some(Duration::from_millis(2500)));
        assert_eq!(
            h,
            [
                (OWNER_HEADER, "run-1".to_string()),
                (EXPIRES_HEADER, "2500ms".to_string())
            ]
        );
        assert_eq!(install_headers("run-1", None).len(), 1);
        assert_eq!(renew_every(DEFAULT_LEASE).as_millis(), 3333);
        assert!(new_run_id().starts_with("run-"));
    }
}
