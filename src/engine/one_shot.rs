//! One request sent outside the load, on its own connection: what the after-load probes
//! (idempotency, version conflict, stated limits) share. The request is rendered as the load
//! renders it, with a fixed sequence number, so every send of a probe is the same request.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rand::{rngs::SmallRng, SeedableRng};

use crate::result::ProbeAnswer;
use crate::scenario::{Plan, RequestSpec};

/// A rendered request: method, path (with the base URL's prefix), headers and body.
#[derive(Debug, Clone)]
pub(crate) struct OneShot {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// What ties one send to the dependency calls it caused: its trace id and request id.
pub(crate) struct Tag {
    pub trace_id: String,
    pub request_id: Option<(String, String)>,
}

impl Tag {
    /// Send `n` of the probe named `key`: its own trace id, and request id when the target has one.
    pub fn new(plan: &Plan, key: &str, n: u64) -> Self {
        Tag {
            trace_id: format!("{:016x}{:016x}", fnv1a(key.as_bytes()), n + 1),
            request_id: plan
                .target
                .request_id_header
                .as_ref()
                .map(|h| (h.clone(), format!("{key}-{n}"))),
        }
    }
}

/// `r` rendered with the fixed sequence number of request index `i`.
pub(crate) fn render(plan: &Plan, r: &RequestSpec, i: u64) -> OneShot {
    let seq = u64::MAX - i;
    let mut rng = SmallRng::seed_from_u64(plan.seed ^ seq);
    let mut path = plan.target.base_url.prefix.clone();
    r.path.render(seq, &mut rng, &mut path);
    let mut body = String::new();
    r.body.render(seq, &mut rng, &mut body);
    let mut headers = Vec::new();
    for (name, t) in plan
        .target
        .header_templates
        .iter()
        .chain(&r.header_templates)
    {
        let mut v = String::new();
        t.render(seq, &mut rng, &mut v);
        headers.push((name.clone(), v));
    }
    OneShot {
        method: r.method.clone(),
        path,
        headers,
        body: Bytes::from(body),
    }
}

/// Sends `req` once (bounded by the target's timeout, at least 100 ms) and records the answer;
/// `keep_body` keeps the body's first 2 KiB as text. Also returns the whole body.
pub(crate) async fn send(
    plan: &Plan,
    req: &OneShot,
    kind: &str,
    tag: Tag,
    i: u64,
    keep_body: bool,
) -> (ProbeAnswer, Bytes) {
    let timeout = plan.target.timeout.max(Duration::from_millis(100));
    let res = tokio::time::timeout(timeout, exchange(plan, req, &tag, i)).await;
    let mut a = ProbeAnswer {
        kind: kind.into(),
        trace_id: tag.trace_id,
        request_id: tag.request_id.map(|(_, v)| v),
        ..ProbeAnswer::default()
    };
    let mut whole = Bytes::new();
    match res {
        Ok(Ok((status, body))) => {
            a.status = Some(status);
            a.body_bytes = body.len();
            a.body_digest = Some(format!("{:016x}", fnv1a(&body)));
            if keep_body {
                let end = body.len().min(2048);
                a.body = Some(String::from_utf8_lossy(&body[..end]).into_owned());
            }
            whole = body;
        }
        Ok(Err(e)) => a.error = Some(e),
        Err(_) => a.error = Some(format!("no answer within {} ms", timeout.as_millis())),
    }
    (a, whole)
}

async fn exchange(plan: &Plan, req: &OneShot, tag: &Tag, i: u64) -> Result<(u16, Bytes), String> {
    let url = &plan.target.base_url;
    let mut b = hyper::Request::builder()
        .method(req.method.as_str())
        .uri(req.path.as_str())
        .header(hyper::header::HOST, url.authority());
    for (name, v) in &req.headers {
        b = b.header(name.as_str(), v.as_str());
    }
    if let Some((name, value)) = &tag.request_id {
        b = b.header(name.as_str(), value.as_str());
    }
    let request = b
        .header(
            "traceparent",
            format!("00-{}-{:016x}-01", tag.trace_id, i + 1),
        )
        .body(Full::new(req.body.clone()))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let stream = tokio::net::TcpStream::connect((url.host.as_str(), url.port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let driver = tokio::spawn(conn);
    let resp = tx
        .send_request(request)
        .await
        .map_err(|e| format!("send: {e}"))?;
    let status = resp.status().as_u16();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    driver.abort();
    Ok((status, bytes))
}

/// FNV-1a 64: the body digest every probe records.
pub(crate) fn fnv1a(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3)
    })
}
