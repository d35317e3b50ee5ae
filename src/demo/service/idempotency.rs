//! Idempotency keys on POST: the first answer to an `Idempotency-Key` is stored and given to every
//! later or concurrent request with the same key (a concurrent one waits for it), without running
//! the operation or calling UserService again. 5xx answers are not kept (the key may be retried);
//! at most `MAX_KEYS` keys are kept (then the store starts over).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};
use tokio::sync::OnceCell;

const MAX_KEYS: usize = 10_000;

type Reply = Response<Full<Bytes>>;

#[derive(Debug, Clone)]
struct Stored {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// The keys seen and their stored answers.
#[derive(Debug, Default)]
pub(crate) struct Keys {
    map: Mutex<HashMap<String, Arc<OnceCell<Stored>>>>,
}

impl Keys {
    /// The stored answer to `key`, or `run`'s (then stored). `rid` is the request's own id.
    pub(crate) async fn answer(
        &self,
        key: &str,
        rid: &str,
        run: impl Future<Output = Reply>,
    ) -> Reply {
        let cell = {
            let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
            if map.len() >= MAX_KEYS && !map.contains_key(key) {
                map.clear();
            }
            Arc::clone(map.entry(key.to_string()).or_default())
        };
        let mut replayed = true;
        let stored = cell
            .get_or_init(|| async {
                replayed = false;
                let (parts, body) = run.await.into_parts();
                let body = body
                    .collect()
                    .await
                    .map(|c| c.to_bytes())
                    .unwrap_or_default();
                Stored {
                    status: parts.status,
                    headers: parts.headers,
                    body,
                }
            })
            .await;
        if stored.status.is_server_error() {
            self.map
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(key);
        }
        let mut reply = Response::new(Full::new(stored.body.clone()));
        *reply.status_mut() = stored.status;
        *reply.headers_mut() = stored.headers.clone();
        if replayed {
            reply
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        if let Ok(v) = HeaderValue::from_str(rid) {
            reply.headers_mut().insert("x-request-id", v);
        }
        reply
    }
}
