//! Samples the target's `health_path` about twice a second during a chaos run, so verdicts can
//! say whether the service reported itself degraded while a dependency failed, and healthy after;
//! its `ready_path` the same way, so the readiness claim is judged from what the endpoint said.
//!
//! One probe at a time on its own connection (a health check must not borrow the load's
//! connections, nor queue behind them); a probe that does not answer within 1 s is a failed sample.
//! An https target is probed over TLS with the load engine's client setup (`insecure_tls` and
//! `ca_file` too).

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::Request;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsConnector;

use crate::result::HealthSample;
use crate::scenario::{BaseUrl, Scheme, Target};

/// How a probe reaches the target: plain TCP, or TLS with this connector and server name.
#[derive(Clone)]
pub enum Transport {
    Plain,
    Tls(TlsConnector, ServerName<'static>),
}

impl Transport {
    /// The transport for `target`: TLS for https, set up as the load engine does.
    pub fn for_target(target: &Target) -> Result<Transport, String> {
        match target.base_url.scheme {
            Scheme::Http => Ok(Transport::Plain),
            Scheme::Https => {
                let ca = target.ca_file.as_ref().map(|c| c.path.as_path());
                let config = crate::engine::tls::client_config(target.insecure_tls, ca)
                    .map_err(|e| format!("TLS setup failed: {e}"))?;
                let name = ServerName::try_from(target.base_url.host.clone())
                    .map_err(|e| format!("TLS server name {:?}: {e}", target.base_url.host))?;
                Ok(Transport::Tls(TlsConnector::from(config), name))
            }
        }
    }
}

const INTERVAL: Duration = Duration::from_millis(500);
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Health bodies are small; anything longer is cut (the state is near the top).
const MAX_BODY: usize = 64 * 1024;
/// Samples kept (a day at two per second).
const CAP: usize = 172_800;

/// Probes `base + path` from `origin` until `halt` turns true; returns the samples in time order.
pub async fn poll(
    base: BaseUrl,
    transport: Transport,
    path: String,
    origin: Instant,
    halt: watch::Receiver<bool>,
) -> Vec<HealthSample> {
    poll_with(base, transport, path, origin, halt, state_of).await
}

/// `poll` with the body read by `read` (`state_of` for health, `ready_state_of` for readiness).
pub async fn poll_with(
    base: BaseUrl,
    transport: Transport,
    path: String,
    origin: Instant,
    mut halt: watch::Receiver<bool>,
    read: fn(&[u8]) -> Option<String>,
) -> Vec<HealthSample> {
    let mut out = Vec::new();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::from_std(origin), INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = halt.wait_for(|h| *h) => return out,
        }
        let t_s = origin.elapsed().as_secs_f64();
        let (status, state) =
            match tokio::time::timeout(PROBE_TIMEOUT, probe(&base, &transport, &path)).await {
                Ok(Some((status, body))) => (Some(status), read(&body)),
                _ => (None, None),
            };
        if out.len() < CAP {
            out.push(HealthSample { t_s, status, state });
        }
    }
}

async fn probe(base: &BaseUrl, transport: &Transport, path: &str) -> Option<(u16, Bytes)> {
    let stream = TcpStream::connect((base.host.as_str(), base.port))
        .await
        .ok()?;
    let _ = stream.set_nodelay(true);
    match transport {
        Transport::Plain => exchange(stream, base, path).await,
        Transport::Tls(connector, name) => {
            let tls = connector.connect(name.clone(), stream).await.ok()?;
            exchange(tls, base, path).await
        }
    }
}

/// One GET on a fresh connection (plain or TLS): status and the body's first `MAX_BODY` bytes.
async fn exchange<IO>(io: IO, base: &BaseUrl, path: &str) -> Option<(u16, Bytes)>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .ok()?;
    tokio::spawn(conn);
    let req = Request::builder()
        .uri(format!("{}{}", base.prefix, path))
        .header("host", base.authority())
        .header("user-agent", "redline-health")
        .body(Empty::<Bytes>::new())
        .ok()?;
    let resp = sender.send_request(req).await.ok()?;
    let status = resp.status().as_u16();
    let body = Limited::new(resp.into_body(), MAX_BODY)
        .collect()
        .await
        .ok()?
        .to_bytes();
    Some((status, body))
}

/// The state a health body names: JSON `status` / `state` / `health` ("healthy", "degraded",
/// "unhealthy", also "UP"/"DOWN" and "ok"/"pass"/"warn"/"fail"), or one of those words as plain text.
pub fn state_of(body: &[u8]) -> Option<String> {
    let word = |s: &str| -> Option<String> {
        let s = s.trim().to_ascii_lowercase();
        let canonical = match s.as_str() {
            "healthy" | "up" | "ok" | "pass" | "green" => "healthy",
            "degraded" | "warn" | "yellow" => "degraded",
            "unhealthy" | "down" | "fail" | "red" | "out_of_service" => "unhealthy",
            _ => return None,
        };
        Some(canonical.to_string())
    };
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return ["status", "state", "health"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str).and_then(word));
    }
    word(std::str::from_utf8(body).ok()?)
}

/// What a readiness body says: "ready" or "not_ready", from JSON `ready` (true/false) or
/// `status` / `state` ("ready", "UP", "ok" / "not_ready", "DOWN", "draining" ...), or plain text.
pub fn ready_state_of(body: &[u8]) -> Option<String> {
    let word = |s: &str| -> Option<String> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        let ready = match s.as_str() {
            "ready" | "up" | "ok" | "pass" | "true" | "accepting" => true,
            "not_ready" | "notready" | "unready" | "down" | "fail" | "false" | "draining"
            | "shutting_down" | "stopping" | "out_of_service" | "unavailable" => false,
            _ => return None,
        };
        Some(if ready { "ready" } else { "not_ready" }.to_string())
    };
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if let Some(b) = v.get("ready").and_then(Value::as_bool) {
            return word(if b { "ready" } else { "not_ready" });
        }
        return ["status", "state", "ready"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str).and_then(word));
    }
    word(std::str::from_utf8(body).ok()?)
}

#[cfg(test)]
mod tests {
    use super::{ready_state_of, state_of};

    #[test]
    fn reads_readiness_from_common_shapes() {
        let r = |b: &[u8]| ready_state_of(b);
        assert_eq!(r(br#"{"ready": true}"#).as_deref(), Some("ready"));
        assert_eq!(r(br#"{"ready": false}"#).as_deref(), Some("not_ready"));
        assert_eq!(r(br#"{"status":"UP"}"#).as_deref(), Some("ready"));
        assert_eq!(
            r(br#"{"state":"shutting-down"}"#).as_deref(),
            Some("not_ready")
        );
        assert_eq!(r(b"ok\n").as_deref(), Some("ready"));
        assert_eq!(r(br#"{"uptime": 3}"#), None);
        assert_eq!(r(b"<html>"), None);
    }

    #[test]
    fn reads_the_state_from_common_shapes() {
        assert_eq!(
            state_of(br#"{"status":"degraded","checks":{}}"#).as_deref(),
            Some("degraded")
        );
        assert_eq!(state_of(br#"{"status":"UP"}"#).as_deref(), Some("healthy"));
        assert_eq!(state_of(b"unhealthy\n").as_deref(), Some("unhealthy"));
        assert_eq!(state_of(br#"{"uptime": 3}"#), None);
        assert_eq!(state_of(b"<html>"), None);
    }
}
