//! Support for tests/it/timed/grpc_front.rs: the Python processes (`grpc_front.py`: a gRPC
//! dependency, and a gRPC front door that calls it with a deadline and answers UNAVAILABLE when
//! it fails), the `.proto` redline encodes its calls from, and one `redline run --spec` over them.

use crate::grpc_dependency_support::{redline_run, Py};

pub use crate::support::free_port;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/grpc_front_support/grpc_front.py"
);

/// The front door's service as the test writes it for redline (the Python side has no .proto:
/// it relays bytes, and both messages are `{int64 id = 1}`).
pub const PROTO: &str = r#"syntax = "proto3";
package shop.v1;

message GetItemRequest { int64 id = 1; }
message Item { int64 id = 1; }

service Catalog {
  rpc GetItem(GetItemRequest) returns (Item);
}
"#;

/// The gRPC dependency and the front door calling it through `proxy` with `deadline_ms`.
pub struct Service {
    pub front: Py,
    pub dependency: Py,
}

impl Service {
    pub fn start(proxy: u16, deadline_ms: u64) -> Service {
        let dependency = Py::script(SCRIPT, &["dependency"]);
        let front = Py::script(
            SCRIPT,
            &[
                "front",
                &format!("127.0.0.1:{proxy}"),
                &deadline_ms.to_string(),
            ],
        );
        Service { front, dependency }
    }
}

/// `redline run` of `scenario` with `spec` in a fresh folder holding `catalog.proto`:
/// (exit code, result.json, what redline said).
pub fn run(tag: &str, scenario: &str, spec: &str) -> (i32, serde_json::Value, String) {
    let dir = std::env::temp_dir().join(format!("redline-grpcfront-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("catalog.proto"), PROTO).unwrap();
    let out = redline_run(&dir, scenario, spec);
    let _ = std::fs::remove_dir_all(&dir);
    out
}
