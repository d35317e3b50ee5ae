//! The HTTP/2 proxy over TLS on both sides: a real grpcio client (TLS, verifying the proxy's
//! certificate) and a real grpcio TLS server behind it (verified by the proxy against the
//! configured CA), with a per-stream fault, all with certificates made here (rcgen).

use crate::h2_support;

use h2_support::{run_client_with, GrpcServer};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use redline_proxy::fault::{Abort, FaultKind, FaultSpec, Matcher};
use redline_proxy::http::h2::H2Tls;
use redline_proxy::http::{HttpProxy, HttpProxyConfig};
use serde_json::json;

struct Pki {
    ca_pem: String,
    leaf_pem: String,
    leaf_key: String,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Distinct names: rcgen's default one for both would make the leaf look self-signed.
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "redline test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap();
    Pki {
        ca_pem: ca.pem(),
        leaf_pem: leaf.pem(),
        leaf_key: leaf_key.serialize_pem(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_over_tls_on_both_sides_with_a_fault_per_stream() {
    let pki = pki();
    let dir = std::env::temp_dir().join(format!("redline-h2-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cert, key) = (
        dir.join("ca.pem"),
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
    );
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    std::fs::write(&cert, &pki.leaf_pem).unwrap();
    std::fs::write(&key, &pki.leaf_key).unwrap();
    let server = GrpcServer::start_with(&[cert.to_str().unwrap(), key.to_str().unwrap()]);

    let mut cfg = HttpProxyConfig::new(
        "tls-dep",
        "127.0.0.1:0".parse().unwrap(),
        server.addr.to_string(),
    );
    cfg.http2 = true;
    cfg.tls = Some(
        H2Tls::from_pem(
            &pki.leaf_pem,
            &pki.leaf_key,
            Some((&pki.ca_pem, "localhost")),
        )
        .unwrap(),
    );
    let proxy = HttpProxy::start(cfg).await.unwrap();
    proxy
        .add_fault(
            FaultSpec::new(FaultKind::Abort(Abort::grpc(8, Some("slow down")))).with_matcher(
                Matcher {
                    header: Some("x-case".into()),
                    header_value: Some("abort".into()),
                    ..Matcher::default()
                },
            ),
        )
        .unwrap();
    let addr = proxy.listen_addr();
    let calls = json!([
        {"id": "a", "method": "/test.Echo/Unary", "case": "abort"},
        {"id": "b", "method": "/test.Echo/Unary"},
        {"id": "c", "method": "/test.Echo/Unary"},
    ]);
    let ca_file = ca.clone();
    let results =
        tokio::task::spawn_blocking(move || run_client_with(addr, &calls, Some(&ca_file)))
            .await
            .unwrap();
    let by_id = |id: &str| results.iter().find(|r| r.id == id).unwrap().clone();
    assert_eq!(by_id("a").code, "RESOURCE_EXHAUSTED");
    assert_eq!(by_id("a").details, "slow down");
    assert_eq!(
        (by_id("b").code.as_str(), by_id("b").reply.as_str()),
        ("OK", "echo:b")
    );
    assert_eq!(by_id("c").code, "OK");
    let log = proxy.log_since(0);
    assert_eq!(log.len(), 3, "{log:#?}");
    assert!(log
        .iter()
        .filter(|e| e.correlation_id.as_deref() != Some("a"))
        .all(|e| e.h2.as_ref().unwrap().grpc_status == Some(0) && e.upstream_status == Some(200)));

    // Bad PEM is refused with the part named.
    let err = H2Tls::from_pem("not a certificate", &pki.leaf_key, None).unwrap_err();
    assert!(err.starts_with("certificate:"), "{err}");
    proxy.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
