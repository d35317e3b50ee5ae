//! Request templates built once per run; `build` turns an arrival index into a hyper request.
//!
//! Everything random about request `i` comes from an RNG seeded with (seed, i), so the same
//! seed gives the same request sequence whatever the number of workers or their timing.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue, HOST};
use hyper::{HeaderMap, Method, Request, Uri};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::scenario::{Plan, Template};

/// A request ready to send.
pub type Req = Request<Full<Bytes>>;

struct Prepared {
    method: Method,
    /// Built once when the path has no placeholders.
    static_uri: Option<Uri>,
    path: Template,
    prefix: String,
    static_body: Option<Bytes>,
    body: Template,
    headers: HeaderMap,
}

/// Builds requests for a run: picks the request by weight and renders its templates.
pub struct RequestGen {
    seed: u64,
    prepared: Vec<Prepared>,
    /// Cumulative weights, for the weighted pick.
    cumulative: Vec<u64>,
    id_header: Option<HeaderName>,
    run_id: u32,
}

/// What a request looks like, for tests and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub op: usize,
    pub path: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
#[error("request `{name}`: {why}")]
pub struct BuildError {
    name: String,
    why: String,
}

impl RequestGen {
    /// `run_id` makes request ids unique across runs.
    pub fn new(plan: &Plan, run_id: u32) -> Result<RequestGen, BuildError> {
        let mut prepared = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0u64;
        let prefix = plan.target.base_url.prefix.clone();
        let host = HeaderValue::from_str(&plan.target.base_url.authority())
            .map_err(|e| err("target", e))?;
        for r in &plan.requests {
            let mut headers = HeaderMap::new();
            headers.insert(HOST, host.clone());
            for (k, v) in plan.target.headers.iter().chain(&r.headers) {
                let name = HeaderName::from_bytes(k.as_bytes()).map_err(|e| err(&r.name, e))?;
                headers.insert(name, HeaderValue::from_str(v).map_err(|e| err(&r.name, e))?);
            }
            let static_uri = match r.path.as_static() {
                Some(p) => {
                    Some(Uri::try_from(format!("{prefix}{p}")).map_err(|e| err(&r.name, e))?)
                }
                None => None,
            };
            prepared.push(Prepared {
                method: Method::from_bytes(r.method.as_bytes()).map_err(|e| err(&r.name, e))?,
                static_uri,
                path: r.path.clone(),
                prefix: prefix.clone(),
                static_body: r
                    .body
                    .as_static()
                    .map(|b| Bytes::copy_from_slice(b.as_bytes())),
                body: r.body.clone(),
                headers,
            });
            total += r.weight.get() as u64;
            cumulative.push(total);
        }
        let id_header = match &plan.target.request_id_header {
            Some(h) => Some(HeaderName::from_bytes(h.as_bytes()).map_err(|e| err("target", e))?),
            None => None,
        };
        Ok(RequestGen {
            seed: plan.seed,
            prepared,
            cumulative,
            id_header,
            run_id,
        })
    }

    fn rng(&self, index: u64) -> SmallRng {
        SmallRng::seed_from_u64(self.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn pick(&self, rng: &mut SmallRng) -> usize {
        if self.cumulative.len() == 1 {
            return 0;
        }
        let x = rng.gen_range(0..*self.cumulative.last().unwrap_or(&1));
        self.cumulative.partition_point(|c| *c <= x)
    }

    /// The operation index and the request for arrival `index`; `buf` is reused between calls.
    pub fn build(&self, index: u64, buf: &mut String) -> (usize, Result<Req, ()>) {
        let mut rng = self.rng(index);
        let op = self.pick(&mut rng);
        let p = &self.prepared[op];
        let uri = match &p.static_uri {
            Some(u) => Ok(u.clone()),
            None => {
                buf.clear();
                buf.push_str(&p.prefix);
                p.path.render(index, &mut rng, buf);
                Uri::try_from(buf.as_str()).map_err(|_| ())
            }
        };
        let body = match &p.static_body {
            Some(b) => b.clone(),
            None => {
                buf.clear();
                p.body.render(index, &mut rng, buf);
                Bytes::copy_from_slice(buf.as_bytes())
            }
        };
        let Ok(uri) = uri else { return (op, Err(())) };
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = p.method.clone();
        *req.uri_mut() = uri;
        *req.headers_mut() = p.headers.clone();
        if let Some(name) = &self.id_header {
            req.headers_mut()
                .insert(name.clone(), self.request_id(index));
        }
        (op, Ok(req))
    }

    /// The id sent for request `index`: run id and index in hex, e.g. `3f2a9c01-1a2b`.
    pub fn request_id(&self, index: u64) -> HeaderValue {
        let mut buf = [0u8; 8 + 1 + 16];
        let n = write_id(self.run_id, index, &mut buf);
        HeaderValue::from_bytes(&buf[..n]).expect("hex digits are a valid header value")
    }

    /// The same id as a string, for the client log.
    pub fn request_id_string(&self, index: u64) -> Option<String> {
        self.id_header.as_ref()?;
        let mut buf = [0u8; 8 + 1 + 16];
        let n = write_id(self.run_id, index, &mut buf);
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Path and body of request `index` as text (tests, diagnostics).
    pub fn render(&self, index: u64) -> Rendered {
        let mut rng = self.rng(index);
        let op = self.pick(&mut rng);
        let p = &self.prepared[op];
        let mut path = p.prefix.clone();
        p.path.render(index, &mut rng, &mut path);
        let mut body = String::new();
        p.body.render(index, &mut rng, &mut body);
        Rendered { op, path, body }
    }
}

fn write_id(run: u32, index: u64, buf: &mut [u8; 25]) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in 0..8 {
        buf[i] = HEX[((run >> (28 - 4 * i)) & 0xF) as usize];
    }
    buf[8] = b'-';
    let digits = (64 - index.leading_zeros()).div_ceil(4).max(1) as usize;
    for i in 0..digits {
        buf[9 + i] = HEX[((index >> (4 * (digits - 1 - i))) & 0xF) as usize];
    }
    9 + digits
}

fn err(name: &str, e: impl std::fmt::Display) -> BuildError {
    BuildError {
        name: name.to_string(),
        why: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_run_and_index() {
        let mut buf = [0u8; 25];
        let n = write_id(0x3f2a9c01, 0x1a2b, &mut buf);
        assert_eq!(&buf[..n], b"3f2a9c01-1a2b");
        let n = write_id(1, 0, &mut buf);
        assert_eq!(&buf[..n], b"00000001-0");
        let n = write_id(1, u64::MAX, &mut buf);
        assert_eq!(&buf[..n], b"00000001-ffffffffffffffff");
    }
}
