//! Compatibility proof: the real toxiproxy-python client (installed from PyPI by
//! `.ci/install-test-deps`) drives our control API unchanged. A missing client fails the test.

use crate::control_support;

use std::process::Command;

use control_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toxiproxy_python_client_drives_the_control_api() {
    let api = api().await;
    let upstream = echo_server().await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/toxiproxy_client_check.py"
    );
    let port = api.addr.port().to_string();
    let python = crate::support::python();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(port)
            .arg(upstream.to_string())
            .output()
    })
    .await
    .unwrap()
    .expect("python3 must be installed (see .ci/install-test-deps)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "toxiproxy-python check failed (install it with .ci/install-test-deps)\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
    // Every change the client made is in the change journal.
    let actions: Vec<String> = api
        .registry
        .journal()
        .since(0)
        .into_iter()
        .map(|c| c.action)
        .collect();
    for expected in [
        "proxy.create",
        "toxic.add",
        "proxy.update",
        "toxic.remove",
        "reset",
        "proxy.delete",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "journal lacks {expected}: {actions:?}"
        );
    }
}
