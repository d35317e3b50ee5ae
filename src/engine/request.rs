//! Request templates encoded once per run; `encode` turns an arrival index into HTTP/1.1 bytes.
//!
//! Everything random about request `i` comes from an RNG seeded with (seed, i), so the same
//! seed gives the same request sequence whatever the number of workers or their timing.

use hyper::header::{HeaderName, HeaderValue};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::scenario::{Plan, RequestSpec, Template};

struct Prepared {
    /// `GET ` (method and a space).
    method: Vec<u8>,
    head_request: bool,
    /// The full path when it has no placeholders (prefix included).
    static_path: Option<Vec<u8>>,
    path: Template,
    prefix: String,
    /// ` HTTP/1.1\r\nhost: ...\r\n` and every header without placeholders, encoded once.
    fixed: Vec<u8>,
    /// Headers with placeholders: `name: ` encoded once, the value rendered per request.
    templated: Vec<(Vec<u8>, Template)>,
    static_body: Option<Vec<u8>>,
    body: Template,
    /// Send `content-length` even for an empty body (methods that carry one).
    length_always: bool,
}

/// Encodes requests for a run: picks the request by weight and renders its templates.
pub struct RequestGen {
    seed: u64,
    prepared: Vec<Prepared>,
    /// Cumulative weights, for the weighted pick.
    cumulative: Vec<u64>,
    /// `x-request-id: ` when ids are sent.
    id_prefix: Option<Vec<u8>>,
    run_id: u32,
    /// Whether each request carries a W3C `traceparent` (`[target] traceparent`).
    trace: bool,
}

/// What a request looks like, for tests and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub op: usize,
    pub path: String,
    /// Templated headers only (name, value), in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
#[error("request `{name}`: {why}")]
pub struct BuildError {
    name: String,
    why: String,
}

/// A rendered path that would break the request line (space, control character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPath;

impl RequestGen {
    /// `run_id` makes request ids unique across runs.
    pub fn new(plan: &Plan, run_id: u32) -> Result<RequestGen, BuildError> {
        let mut prepared = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0u64;
        let prefix = plan.target.base_url.prefix.clone();
        for r in &plan.requests {
            let mut fixed = b" HTTP/1.1\r\nhost: ".to_vec();
            fixed.extend_from_slice(plan.target.base_url.authority().as_bytes());
            fixed.extend_from_slice(b"\r\n");
            let templated = encode_headers(plan, r, &mut fixed)?;
            let static_path =
                match r.path.as_static() {
                    Some(p) => Some(checked_path(format!("{prefix}{p}").into_bytes()).map_err(
                        |_| err(&r.name, "the path contains spaces or control characters"),
                    )?),
                    None => None,
                };
            let method = r.method.to_ascii_uppercase();
            prepared.push(Prepared {
                method: format!("{method} ").into_bytes(),
                head_request: method == "HEAD",
                static_path,
                path: r.path.clone(),
                prefix: prefix.clone(),
                fixed,
                templated,
                static_body: r.body.as_static().map(|b| b.as_bytes().to_vec()),
                body: r.body.clone(),
                length_always: matches!(method.as_str(), "POST" | "PUT" | "PATCH"),
            });
            total += r.weight.get() as u64;
            cumulative.push(total);
        }
        let id_prefix = plan
            .target
            .request_id_header
            .as_ref()
            .map(|h| format!("{}: ", h.to_ascii_lowercase()).into_bytes());
        Ok(RequestGen {
            seed: plan.seed,
            prepared,
            cumulative,
            id_prefix,
            run_id,
            trace: plan.target.traceparent == Some(true),
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

    /// Whether operation `op` is a HEAD request (its answer has no body).
    pub fn is_head(&self, op: usize) -> bool {
        self.prepared[op].head_request
    }

    /// The operation picked for arrival `index` (without encoding it).
    pub fn op_of(&self, index: u64) -> usize {
        self.pick(&mut self.rng(index))
    }

    /// Encodes arrival `index` as HTTP/1.1 bytes into `out` (cleared first); `scratch` is reused
    /// between calls. Returns the operation index, or which operation failed to render.
    pub fn encode(
        &self,
        index: u64,
        out: &mut Vec<u8>,
        scratch: &mut String,
    ) -> (usize, Result<(), BadPath>) {
        // Seeding costs a few ns; most requests (one static request) never need it.
        let mut rng_slot: Option<SmallRng> = None;
        let op = if self.cumulative.len() == 1 {
            0
        } else {
            self.pick(rng_slot.get_or_insert_with(|| self.rng(index)))
        };
        let p = &self.prepared[op];
        out.clear();
        out.extend_from_slice(&p.method);
        match &p.static_path {
            Some(path) => out.extend_from_slice(path),
            None => {
                scratch.clear();
                scratch.push_str(&p.prefix);
                p.path.render(
                    index,
                    rng_slot.get_or_insert_with(|| self.rng(index)),
                    scratch,
                );
                if scratch.bytes().any(|b| b <= b' ' || b == 0x7f) {
                    return (op, Err(BadPath));
                }
                out.extend_from_slice(scratch.as_bytes());
            }
        }
        out.extend_from_slice(&p.fixed);
        for (name, value) in &p.templated {
            out.extend_from_slice(name);
            scratch.clear();
            value.render(
                index,
                rng_slot.get_or_insert_with(|| self.rng(index)),
                scratch,
            );
            // Safe by construction: the scenario checked every byte the template can render.
            out.extend_from_slice(scratch.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if let Some(prefix) = &self.id_prefix {
            out.extend_from_slice(prefix);
            let mut id = [0u8; 25];
            let n = write_id(self.run_id, index, &mut id);
            out.extend_from_slice(&id[..n]);
            out.extend_from_slice(b"\r\n");
        }
        if self.trace {
            super::trace::write_header(self.run_id, self.seed, index, out);
        }
        let body: &[u8] = match &p.static_body {
            Some(b) => b,
            None => {
                scratch.clear();
                p.body.render(
                    index,
                    rng_slot.get_or_insert_with(|| self.rng(index)),
                    scratch,
                );
                scratch.as_bytes()
            }
        };
        if !body.is_empty() || p.length_always {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(itoa_buf(body.len() as u64).as_slice());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        (op, Ok(()))
    }

    /// The id sent for request `index`, as a string for the client log.
    pub fn request_id_string(&self, index: u64) -> Option<String> {
        self.id_prefix.as_ref()?;
        let mut buf = [0u8; 25];
        let n = write_id(self.run_id, index, &mut buf);
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// The trace id sent in request `index`'s `traceparent`, when the engine sends one.
    pub fn trace_id_string(&self, index: u64) -> Option<String> {
        self.trace
            .then(|| super::trace::trace_id_string(self.run_id, self.seed, index))
    }

    /// Path and body of request `index` as text (tests, diagnostics).
    pub fn render(&self, index: u64) -> Rendered {
        let mut rng = self.rng(index);
        let op = self.pick(&mut rng);
        let p = &self.prepared[op];
        let mut path = p.prefix.clone();
        p.path.render(index, &mut rng, &mut path);
        // Same order as `encode`: path, headers, body.
        let headers = p
            .templated
            .iter()
            .map(|(name, value)| {
                let mut text = String::new();
                value.render(index, &mut rng, &mut text);
                let name = String::from_utf8_lossy(name);
                (name.trim_end_matches(": ").to_string(), text)
            })
            .collect();
        let mut body = String::new();
        p.body.render(index, &mut rng, &mut body);
        Rendered {
            op,
            path,
            headers,
            body,
        }
    }
}

/// Appends the headers without placeholders to `fixed` and returns the templated ones. A
/// request's own header replaces the target's header of the same name.
fn encode_headers(
    plan: &Plan,
    r: &RequestSpec,
    fixed: &mut Vec<u8>,
) -> Result<Vec<(Vec<u8>, Template)>, BuildError> {
    let own = &r.header_templates;
    let target_only = plan
        .target
        .header_templates
        .iter()
        .filter(|(k, _)| !own.iter().any(|(rk, _)| rk.eq_ignore_ascii_case(k)));
    let mut templated = Vec::new();
    for (k, v) in target_only.chain(own) {
        HeaderName::from_bytes(k.as_bytes()).map_err(|e| err(&r.name, e))?;
        if k.eq_ignore_ascii_case("host")
            || k.eq_ignore_ascii_case("content-length")
            || k.eq_ignore_ascii_case("transfer-encoding")
        {
            return Err(err(&r.name, format!("header `{k}` is set by redline")));
        }
        match v.as_static() {
            Some(text) => {
                // The error names the header, never its value (it may come from the environment).
                HeaderValue::from_str(text)
                    .map_err(|_| err(&r.name, format!("header `{k}` has an invalid value")))?;
                fixed.extend_from_slice(format!("{k}: {text}\r\n").as_bytes());
            }
            None => templated.push((format!("{k}: ").into_bytes(), v.clone())),
        }
    }
    Ok(templated)
}

fn checked_path(path: Vec<u8>) -> Result<Vec<u8>, BadPath> {
    if path.iter().any(|b| *b <= b' ' || *b == 0x7f) {
        Err(BadPath)
    } else {
        Ok(path)
    }
}

/// Decimal digits of `n` on the stack.
fn itoa_buf(mut n: u64) -> DigitBuf {
    let mut buf = DigitBuf {
        bytes: [0; 20],
        start: 20,
    };
    loop {
        buf.start -= 1;
        buf.bytes[buf.start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return buf;
        }
    }
}

struct DigitBuf {
    bytes: [u8; 20],
    start: usize,
}

impl DigitBuf {
    fn as_slice(&self) -> &[u8] {
        &self.bytes[self.start..]
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
    fn digits() {
        assert_eq!(itoa_buf(0).as_slice(), b"0");
        assert_eq!(itoa_buf(1234567).as_slice(), b"1234567");
        assert_eq!(itoa_buf(u64::MAX).as_slice(), b"18446744073709551615");
    }

    #[test]
    fn encodes_a_full_request() {
        let src = r#"
name = "e"
seed = 1
[target]
base_url = "http://127.0.0.1:8080/api"
allowed_hosts = ["127.0.0.1"]
headers = { authorization = "Bearer t", accept = "text/plain" }
request_id_header = "X-Request-Id"
[load]
stages = [ { duration = "1s", rate = 1 } ]
[[request]]
name = "post"
method = "POST"
path = "/items/{{seq}}"
headers = { accept = "application/json" }
body = '{"n": {{seq}}}'
"#;
        let plan = crate::scenario::parse(src, "e.toml").unwrap();
        let gen = RequestGen::new(&plan, 0xabc).unwrap();
        let (mut out, mut scratch) = (Vec::new(), String::new());
        let (op, ok) = gen.encode(42, &mut out, &mut scratch);
        assert_eq!((op, ok), (0, Ok(())));
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "POST /api/items/42 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nauthorization: Bearer t\r\naccept: application/json\r\n\
             x-request-id: 00000abc-2a\r\ncontent-length: 9\r\n\r\n{\"n\": 42}"
        );
        assert_eq!(gen.request_id_string(42).as_deref(), Some("00000abc-2a"));
    }

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

    #[test]
    fn templated_headers_are_rendered_per_request_and_static_ones_once() {
        let src = r#"
name = "h"
seed = 3
[target]
base_url = "http://127.0.0.1:8080"
allowed_hosts = ["127.0.0.1"]
headers = { x-api-key = "{{choice k1 k2 k3}}", accept = "text/plain" }
[load]
stages = [ { duration = "1s", rate = 1 } ]
[[request]]
name = "get"
path = "/x"
headers = { x-trace = "t-{{seq}}-{{uuid}}", accept = "application/json" }
"#;
        let plan = crate::scenario::parse(src, "h.toml").unwrap();
        let gen = RequestGen::new(&plan, 1).unwrap();
        let (mut out, mut scratch) = (Vec::new(), String::new());
        gen.encode(5, &mut out, &mut scratch).1.unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        let r = gen.render(5);
        assert_eq!(r.headers.len(), 2);
        let (key, trace) = (&r.headers[0].1, &r.headers[1].1);
        assert!(["k1", "k2", "k3"].contains(&key.as_str()));
        assert!(
            trace.starts_with("t-5-") && trace.len() == 4 + 36,
            "{trace}"
        );
        assert_eq!(
            text,
            format!(
                "GET /x HTTP/1.1\r\nhost: 127.0.0.1:8080\r\naccept: application/json\r\n\
                 x-api-key: {key}\r\nx-trace: {trace}\r\n\r\n"
            )
        );
        // Another index gives another value; the same seed gives the same bytes.
        assert_ne!(gen.render(6).headers[1], r.headers[1]);
        let again = RequestGen::new(&plan, 1).unwrap();
        let mut out2 = Vec::new();
        again.encode(5, &mut out2, &mut scratch).1.unwrap();
        assert_eq!(out, out2);
    }
}
