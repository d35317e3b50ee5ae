//! The idempotency probe: after the load, each `[[request]] idempotency` request is sent once with a
//! fresh key, the same key is sent again concurrently with it, then `replay - 1` times after the
//! answers came back. Each send is on its own connection (`one_shot`); status and a body digest are kept. Only
//! marked requests pay for it, and only once per run, outside the measured load.

use super::one_shot::{self, Tag};
use crate::result::IdempotencyProbe;
use crate::scenario::{Plan, Scheme};

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
        let mut req = one_shot::render(plan, r, i as u64);
        req.headers.push((idem.header.clone(), key.clone()));
        let send = |kind: &'static str, n: u64| {
            let tag = Tag::new(plan, &key, n);
            let req = &req;
            async move {
                one_shot::send(plan, req, kind, tag, i as u64, false)
                    .await
                    .0
            }
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
