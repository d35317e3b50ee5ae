//! The idempotency probe: after the load, each `[[request]] idempotency` request is sent once with a
//! fresh key, the same key is sent again concurrently with it, then `replay - 1` times after the
//! answers came back. Each send is on its own connection; status and a body digest are kept. Only
//! marked requests pay for it, and only once per run, outside the measured load.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rand::{rngs::SmallRng, SeedableRng};

use crate::result::{IdempotencyProbe, ProbeAnswer};
use crate::scenario::{Plan, RequestSpec, Scheme};

/// Probes every marked request of `plan` (plain HTTP only: an `https` target gets a note instead).
pub async fn probe_all(plan: &Plan, notes: &mut Vec<String>) -> Vec<IdempotencyProbe> {
    let mut out = Vec::new();
    if plan.requests.iter().all(|r| r.idempotency.is_none()) {
        return out;
    }
    for (i, r) in plan.requests.iter().enumerate() {
        let Some(idem) = &r.idempotency else { continue };
        if plan.target.base_url.scheme == Scheme::Https {
            notes.push(format!(
                "idempotency probe of {:?} skipped: the probe speaks plain HTTP only",
                r.name
            ));
            continue;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let key = format!("redline-{:x}-{i}-{nanos:x}", plan.seed);
        let send = |kind: &'static str, n: u64| {
            let tag = Tag {
                trace_id: format!("{:016x}{:016x}", fnv1a(key.as_bytes()), n + 1),
                request_id: plan
                    .target
                    .request_id_header
                    .as_ref()
                    .map(|h| (h.clone(), format!("{key}-{n}"))),
            };
            one(plan, r, &idem.header, key.clone(), kind, i as u64, tag)
        };
        let (first, concurrent) = tokio::join!(send("first", 0), send("concurrent", 1));
        let mut answers = vec![first, concurrent];
        for n in 1..idem.replay {
            answers.push(send("after", u64::from(n) + 1).await);
        }
        out.push(IdempotencyProbe {
            request: r.name.clone(),
            header: idem.header.clone(),
            key,
            answers,
        });
    }
    out
}

/// What ties one send to the dependency calls it caused: its trace id and request id.
struct Tag {
    trace_id: String,
    request_id: Option<(String, String)>,
}

async fn one(
    plan: &Plan,
    r: &RequestSpec,
    header: &str,
    key: String,
    kind: &'static str,
    i: u64,
    tag: Tag,
) -> ProbeAnswer {
    let timeout = plan.target.timeout.max(Duration::from_millis(100));
    let res = tokio::time::timeout(timeout, send(plan, r, header, &key, i, &tag)).await;
    let mut a = ProbeAnswer {
        kind: kind.into(),
        trace_id: tag.trace_id,
        request_id: tag.request_id.map(|(_, v)| v),
        ..ProbeAnswer::default()
    };
    match res {
        Ok(Ok((status, body))) => {
            a.status = Some(status);
            a.body_bytes = body.len();
            a.body_digest = Some(format!("{:016x}", fnv1a(&body)));
        }
        Ok(Err(e)) => a.error = Some(e),
        Err(_) => a.error = Some(format!("no answer within {} ms", timeout.as_millis())),
    }
    a
}

/// The request as the load renders it, with a fixed sequence number so every send is the same.
async fn send(
    plan: &Plan,
    r: &RequestSpec,
    header: &str,
    key: &str,
    i: u64,
    tag: &Tag,
) -> Result<(u16, Bytes), String> {
    let url = &plan.target.base_url;
    let seq = u64::MAX - i;
    let mut rng = SmallRng::seed_from_u64(plan.seed ^ seq);
    let mut path = url.prefix.clone();
    r.path.render(seq, &mut rng, &mut path);
    let mut body = String::new();
    r.body.render(seq, &mut rng, &mut body);
    let mut req = hyper::Request::builder()
        .method(r.method.as_str())
        .uri(path)
        .header(hyper::header::HOST, url.authority());
    for (name, t) in plan
        .target
        .header_templates
        .iter()
        .chain(&r.header_templates)
    {
        let mut v = String::new();
        t.render(seq, &mut rng, &mut v);
        req = req.header(name.as_str(), v);
    }
    if let Some((name, value)) = &tag.request_id {
        req = req.header(name.as_str(), value.as_str());
    }
    let req = req
        .header(
            "traceparent",
            format!("00-{}-{:016x}-01", tag.trace_id, i + 1),
        )
        .header(header, key)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let stream = tokio::net::TcpStream::connect((url.host.as_str(), url.port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let driver = tokio::spawn(conn);
    let resp = tx
        .send_request(req)
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

fn fnv1a(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3)
    })
}
