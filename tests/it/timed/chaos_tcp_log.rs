//! A chaos run with a TCP dependency: the proxy's connection log reaches result.json. The
//! reference service gives up each UserService call after 300 ms; a 1 s latency toxic holds the
//! answers, so the service closes connections the toxic holds, and the run shows when.

use crate::chaos_common;

use std::time::Duration;

use chaos_common::{redline_run, result, temp_dir, wait, Rig};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tcp_dependency_reports_its_connections_and_the_service_giving_up() {
    let rig = Rig::start().await;
    let dir = temp_dir("tcp-log");
    let fault = "[[fault]]\ndependency = \"UserService\"\nat = \"1s\"\nduration = \"2s\"\nkind = \"latency\"\ndelay = \"1000ms\"\n";
    let scenario = rig
        .scenario("{ duration = \"4s\", rate = 10 }", fault)
        .replace("[[dependency]]\n", "[[dependency]]\nprotocol = \"tcp\"\n");
    let child = redline_run(&dir, &scenario, &["--quiet", "--format", "json"])
        .spawn()
        .unwrap();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(90)))
            .await
            .unwrap();
    assert!(code.is_some(), "{stdout}\n{stderr}");
    let r = result(&dir);
    let dep = &r.dependencies["UserService"];
    assert_eq!(dep.protocol, "tcp");
    let conns = dep
        .connections
        .as_ref()
        .expect("connection log in result.json");
    assert!(conns.total >= 1, "{conns:?}");
    assert_eq!(
        conns.log.len() as u64,
        conns.total,
        "short run: every entry kept"
    );
    assert!(
        conns.gave_up >= 1,
        "the service gave up on held answers: {conns:?}"
    );
    assert!(conns.closed_by.get("client").copied().unwrap_or(0) >= conns.gave_up);
    let gave_up = dep
        .gave_up_ms
        .as_ref()
        .expect("gave_up_ms for a tcp dependency");
    // The service's 300 ms call timeout, seen from outside (generous bounds for a busy machine).
    assert!(
        (150.0..950.0).contains(&gave_up.p50),
        "gave-up p50 {} ms",
        gave_up.p50
    );
    let given_up: Vec<_> = conns
        .log
        .iter()
        .filter(|e| e.gave_up_ms.is_some())
        .collect();
    assert!(given_up
        .iter()
        .all(|e| e.toxics.iter().any(|t| t == "latency")));
    // Each give-up falls in the fault window (a pooled connection may have opened before it),
    // after the held answer waited about the service's timeout.
    assert!(
        given_up.iter().all(|e| {
            let gave_up = e.gave_up_ms.unwrap();
            (1000.0..4500.0).contains(&(e.t_ms + gave_up))
                && e.held_ms.is_some_and(|h| h <= gave_up + 0.001)
        }),
        "{given_up:?}"
    );

    // The result file (not only our types) carries the fields, and the schema documents them.
    let path = dir.join("out").join("result.json");
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(raw["dependencies"]["UserService"]["connections"]["closed_by"].is_object());
    let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/result.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let v = jsonschema::draft202012::new(&schema).unwrap();
    let errs: Vec<String> = v
        .iter_errors(&raw)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errs.is_empty(), "{errs:#?}");

    // The reports: one line for the TCP dependency in the terminal and Markdown sections.
    let bin = env!("CARGO_BIN_EXE_redline");
    let md_dir = dir.join("md");
    let out = std::process::Command::new(bin)
        .arg("report")
        .arg(&path)
        .args(["--format", "terminal,markdown", "--out"])
        .arg(&md_dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert!(
        terminal.contains("UserService (tcp):") && terminal.contains("gave up"),
        "{terminal}"
    );
    let md = std::fs::read_dir(&md_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .expect("a Markdown report");
    assert!(md.contains("- UserService (tcp):"), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attached_tcp_proxy_gives_its_connection_log_over_the_api() {
    use redline_proxy::control::ControlServer;
    use redline_proxy::registry::Registry;
    use redline_proxy::tcp::TcpProxyConfig;
    use std::sync::Arc;

    let rig = Rig::start().await;
    // The attached proxy's clock started long before the run.
    let origin = std::time::Instant::now() - Duration::from_secs(100);
    let registry = Arc::new(Registry::new(1, origin));
    {
        let _ops = registry.lock_ops().await;
        let cfg = TcpProxyConfig::new(
            "users",
            format!("127.0.0.1:{}", rig.proxy_port),
            rig.stub.addr().to_string(),
        );
        registry.add_tcp(cfg).await.unwrap();
    }
    let control = ControlServer::start(
        &format!("127.0.0.1:{}", chaos_common::free_port()),
        registry.clone(),
    )
    .await
    .unwrap();
    // Connections before the run are not the run's.
    for _ in 0..3 {
        let s = tokio::net::TcpStream::connect(("127.0.0.1", rig.proxy_port))
            .await
            .unwrap();
        drop(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let dir = temp_dir("tcp-log-attach");
    let fault = "[[fault]]\ndependency = \"UserService\"\nat = \"1s\"\nduration = \"2s\"\nkind = \"latency\"\ndelay = \"1000ms\"\n";
    let attach = format!(
        "protocol = \"tcp\"\ncontrol = \"http://{}\"\nproxy = \"users\"\n",
        control.local_addr()
    );
    let scenario = rig
        .scenario("{ duration = \"4s\", rate = 10 }", fault)
        .replace(
            &format!(
                "listen = \"127.0.0.1:{}\"\nupstream = \"{}\"\n",
                rig.proxy_port,
                rig.stub.addr()
            ),
            &attach,
        );
    let child = redline_run(&dir, &scenario, &["--quiet", "--format", "json"])
        .spawn()
        .unwrap();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || wait(child, Duration::from_secs(90)))
            .await
            .unwrap();
    assert!(code.is_some(), "{stdout}\n{stderr}");
    let r = result(&dir);
    let conns = r.dependencies["UserService"]
        .connections
        .as_ref()
        .expect("connection log read over the control API");
    assert!(
        conns.log.iter().all(|e| e.seq >= 3),
        "pre-run connections counted: {conns:?}"
    );
    assert!(conns.gave_up >= 1, "{conns:?}");
    // Entries are on the run's clock, not the proxy's (which started 100 s earlier).
    for e in conns.log.iter().filter(|e| e.gave_up_ms.is_some()) {
        let at = e.t_ms + e.gave_up_ms.unwrap();
        assert!((1000.0..4500.0).contains(&at), "{e:?}");
    }
    control.stop().await;
}
