//! gRPC unary calls: the method's input type read from a `.proto` at load (protox compiles it
//! into runtime descriptors, prost-reflect encodes with them: no build step), a request's JSON
//! message encoded and framed per request, `grpc-timeout` from the time left, status names.

use std::path::Path;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::HeaderValue;
use prost_reflect::prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};

/// A unary method and the type its requests carry.
#[derive(Debug, Clone)]
pub struct GrpcMethod {
    /// "catalog.v1.Items/Get".
    pub name: String,
    input: MessageDescriptor,
}

/// Compiles `proto` (imports resolved beside it) and finds the unary `method`
/// ("package.Service/Method"). The error says what was expected and what was found.
pub fn load(proto: &Path, method: &str) -> Result<GrpcMethod, String> {
    let dir = proto.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let file = proto
        .file_name()
        .ok_or_else(|| format!("expected a .proto file, found {}", proto.display()))?;
    let mut compiler = protox::Compiler::new([dir]).map_err(|e| e.to_string())?;
    compiler
        .open_file(file)
        .map_err(|e| format!("cannot compile {}: {e}", proto.display()))?;
    let pool = compiler.descriptor_pool();
    find(&pool, method, proto)
}

fn find(pool: &DescriptorPool, method: &str, proto: &Path) -> Result<GrpcMethod, String> {
    let (service_name, call) = method
        .split_once('/')
        .ok_or_else(|| format!("expected \"package.Service/Method\", found {method:?}"))?;
    let Some(service) = pool.get_service_by_name(service_name) else {
        let known: Vec<String> = pool.services().map(|s| s.full_name().to_string()).collect();
        return Err(format!(
            "expected a service {service_name:?} in {}, found {}",
            proto.display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ));
    };
    let Some(m) = service.methods().find(|m| m.name() == call) else {
        let known: Vec<String> = service.methods().map(|m| m.name().to_string()).collect();
        return Err(format!(
            "expected a method {call:?} in service {service_name}, found {}",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ));
    };
    if m.is_client_streaming() || m.is_server_streaming() {
        return Err(format!(
            "expected a unary method, found {method} streaming (only unary calls are sent)"
        ));
    }
    Ok(GrpcMethod {
        name: method.to_string(),
        input: m.input(),
    })
}

impl GrpcMethod {
    /// The input type's full name ("catalog.v1.GetRequest").
    pub fn input_name(&self) -> &str {
        self.input.full_name()
    }

    /// `json` (protobuf's JSON mapping) encoded as one length-prefixed, uncompressed gRPC
    /// message.
    pub fn frame(&self, json: &[u8]) -> Result<Bytes, String> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let msg =
            DynamicMessage::deserialize(self.input.clone(), &mut de).map_err(|e| e.to_string())?;
        de.end().map_err(|e| e.to_string())?;
        let len = msg.encoded_len();
        let mut out = BytesMut::with_capacity(5 + len);
        out.put_u8(0);
        out.put_u32(len as u32);
        msg.encode(&mut out).map_err(|e| e.to_string())?;
        Ok(out.freeze())
    }
}

/// `grpc-timeout` for the time left: whole milliseconds (at most 8 digits, else seconds),
/// rounded down so the server's deadline is never later than the client's.
pub fn timeout_header(left: Duration) -> HeaderValue {
    let ms = left.as_millis();
    let text = if ms < 100_000_000 {
        format!("{}m", ms.max(1))
    } else {
        format!("{}S", left.as_secs().min(99_999_999))
    };
    HeaderValue::from_str(&text).expect("digits and a unit are a valid header value")
}

/// DEADLINE_EXCEEDED: the call ran out of time (counted as a timeout).
pub const DEADLINE_EXCEEDED: u8 = 4;

/// The canonical name of a status code ("UNAVAILABLE"), "UNKNOWN_CODE" past 16.
pub fn status_name(code: u8) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    NAMES.get(code as usize).copied().unwrap_or("UNKNOWN_CODE")
}

/// A `grpc-status` value: decimal 0..=255 (codes past 16 are kept as sent).
pub fn parse_status(v: &[u8]) -> Option<u8> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTO: &str = r#"syntax = "proto3";
package catalog.v1;
message GetRequest { int64 id = 1; string name = 2; }
message Item { int64 id = 1; }
service Items {
  rpc Get(GetRequest) returns (Item);
  rpc Watch(GetRequest) returns (stream Item);
}
"#;

    fn proto_file() -> (tempdir::Dir, std::path::PathBuf) {
        let dir = tempdir::Dir::new();
        let path = dir.0.join("items.proto");
        std::fs::write(&path, PROTO).unwrap();
        (dir, path)
    }

    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                let n = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos();
                let p =
                    std::env::temp_dir().join(format!("redline-grpc-{}-{n}", std::process::id()));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn a_json_message_is_encoded_and_framed() {
        let (_d, path) = proto_file();
        let m = load(&path, "catalog.v1.Items/Get").unwrap();
        assert_eq!(m.input_name(), "catalog.v1.GetRequest");
        let framed = m.frame(br#"{"id": 7, "name": "a"}"#).unwrap();
        // field 1 varint 7, field 2 length 1 "a"
        assert_eq!(&framed[..], &[0, 0, 0, 0, 5, 0x08, 7, 0x12, 1, b'a']);
        // int64 in protobuf JSON may be a string too.
        assert_eq!(m.frame(br#"{"id": "7", "name": "a"}"#).unwrap(), framed);
    }

    #[test]
    fn wrong_messages_and_methods_say_what_was_expected() {
        let (_d, path) = proto_file();
        let m = load(&path, "catalog.v1.Items/Get").unwrap();
        let e = m.frame(br#"{"idd": 7}"#).unwrap_err();
        assert!(e.contains("idd"), "{e}");
        assert!(m.frame(b"{\"id\": 7} x").is_err(), "trailing text");
        let e = load(&path, "catalog.v1.Items/Put").unwrap_err();
        assert!(e.contains("\"Put\"") && e.contains("Get, Watch"), "{e}");
        let e = load(&path, "catalog.v2.Items/Get").unwrap_err();
        assert!(e.contains("catalog.v1.Items"), "{e}");
        let e = load(&path, "catalog.v1.Items/Watch").unwrap_err();
        assert!(e.contains("unary"), "{e}");
        let e = load(&path.with_file_name("none.proto"), "a.B/C").unwrap_err();
        assert!(e.contains("none.proto"), "{e}");
    }

    #[test]
    fn timeout_header_rounds_down_to_milliseconds() {
        assert_eq!(timeout_header(Duration::from_micros(250_900)), "250m");
        assert_eq!(timeout_header(Duration::from_micros(10)), "1m");
        assert_eq!(timeout_header(Duration::from_secs(200_000)), "200000S");
        assert_eq!(status_name(14), "UNAVAILABLE");
        assert_eq!(parse_status(b"4"), Some(4));
    }
}
