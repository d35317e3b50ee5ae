//! What usually fixes a failure, tied to the scenario key that does it: a self-signed or
//! private-CA certificate (`insecure_tls`, `ca_file`), a refused connection (is the service
//! running on that port?), timeouts shorter than the service's median (`timeout`), requests
//! queued for a connection (`max_connections`).

use crate::engine::stats::{FailKind, SlotStats};
use crate::scenario::Plan;

use super::human_duration;

/// The hint for one failure text of `kind`, given the operation's measured-run statistics.
pub fn hint(plan: &Plan, kind: FailKind, text: &str, stats: &SlotStats) -> Option<String> {
    let t = &plan.target;
    let url = &t.base_url;
    match kind {
        FailKind::Tls => Some(tls(plan, text)),
        FailKind::Connect if text.contains("refused") => Some(format!(
            "is the service running on {}:{}? nothing accepts connections on that port \
             ([target] base_url)",
            url.host, url.port
        )),
        FailKind::Connect => Some(format!(
            "check that {}:{} is reachable from here ([target] base_url)",
            url.host, url.port
        )),
        FailKind::Timeout if text.starts_with(super::Said::QueuedPastTimeout.sentence()) => {
            Some(format!(
                "requests waited for a free connection: raise [target] max_connections (now {}) \
                 or lower the load",
                t.max_connections
            ))
        }
        FailKind::Timeout => Some(timeout(plan, stats)),
        FailKind::Reset => Some(
            "the server closed or reset the connection during the exchange: check its logs \
             (a crash, a keep-alive or request limit, a proxy in between)"
                .to_string(),
        ),
        FailKind::Protocol if text.starts_with(super::Said::BadPath.sentence()) => Some(
            "a template in the request's path renders a space or control character".to_string(),
        ),
        FailKind::Protocol => Some(format!(
            "the answer was not HTTP/1.1: is port {} an HTTP server{}?",
            url.port,
            match url.scheme {
                crate::scenario::Scheme::Http => " (https:// in base_url for a TLS port)",
                crate::scenario::Scheme::Https => "",
            }
        )),
        FailKind::StatusUnexpected => Some(
            "add the status to the request's expect_status if it is a correct answer \
             (default: any 2xx or 3xx)"
                .to_string(),
        ),
        FailKind::Cancelled => None,
        FailKind::GrpcStatus => None,
    }
}

fn tls(plan: &Plan, text: &str) -> String {
    let t = &plan.target;
    let has = |s: &str| text.contains(s);
    if has("UnknownIssuer") || has("UnknownCa") || has("BadSignature") {
        match &t.ca_file {
            Some(ca) => format!(
                "ca_file {} does not hold the CA that signed this certificate: add it, or set \
                 insecure_tls = true for a self-signed certificate",
                ca.path.display()
            ),
            None => "set insecure_tls = true for a self-signed certificate, or ca_file = \
                     \"ca.pem\" under [target] to trust a private CA"
                .to_string(),
        }
    } else if has("NotValidForName") || has("not valid for name") {
        format!(
            "the certificate does not name {}: use a name it was issued for in base_url (and \
             allowed_hosts), or set insecure_tls = true",
            t.base_url.host
        )
    } else if has("Expired") || has("expired") || has("NotValidYet") || has("not valid yet") {
        "the certificate is outside its validity period: renew it, or set insecure_tls = true \
         for a test service"
            .to_string()
    } else if has("corrupt message") || has("InvalidContentType") || has("received unexpected") {
        "the server did not answer TLS: if it serves plain HTTP, use http:// in base_url"
            .to_string()
    } else {
        "check the server's TLS setup; insecure_tls = true skips the certificate checks".to_string()
    }
}

fn timeout(plan: &Plan, stats: &SlotStats) -> String {
    let limit = human_duration(plan.target.timeout);
    let timeouts = stats.kinds[FailKind::Timeout as usize];
    let answered = stats.count - stats.errors.min(stats.count);
    if stats.count > 0 && answered == 0 && timeouts == stats.count {
        format!(
            "the service answered none within {limit}: is it slower than that, or not answering \
             at all? Raise [target] timeout if it is meant to be that slow"
        )
    } else if stats.count > 0 && timeouts * 2 >= stats.count {
        format!(
            "at least half the requests got no answer within timeout = {limit}, so the \
             service's p50 is longer than the timeout: raise [target] timeout if it is meant to \
             be that slow"
        )
    } else {
        format!(
            "some requests took longer than timeout = {limit}: raise [target] timeout if the \
             service is meant to be that slow"
        )
    }
}
