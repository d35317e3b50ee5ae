//! Compatibility proof, second client: the real toxiproxy-node-client (npm, installed into
//! target/test-deps/node by `.ci/install-test-deps`) drives our control API unchanged.
//! A missing client fails the test.

use crate::control_support;

use std::path::PathBuf;
use std::process::Command;

use control_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toxiproxy_node_client_drives_the_control_api() {
    let api = api().await;
    let upstream = echo_server().await;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let modules = root.join("target/test-deps/node/node_modules");
    assert!(
        modules.join("toxiproxy-node-client/package.json").exists(),
        "toxiproxy-node-client missing from {}: run .ci/install-test-deps",
        modules.display()
    );
    let script = root.join("proxy/tests/node/toxiproxy_client_check.js");
    let port = api.addr.port().to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .env("NODE_PATH", modules)
            .arg(script)
            .arg(port)
            .arg(upstream.to_string())
            .output()
    })
    .await
    .unwrap()
    .expect("node must be installed (see .ci/install-test-deps)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "toxiproxy-node-client check failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
}
