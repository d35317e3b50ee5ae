//! Unary gRPC calls one after another on one HTTP/2 connection per address, for
//! bench/proxy_grpc.sh: the same calls to DIRECT (the gRPC server) and to each VIA (a proxy in
//! front of it), alternated in rounds so all see the same machine, then the p50/p99 of each and
//! what each proxy adds.
//!
//! Usage: grpc_unary CALLS_PER_ROUND ROUNDS DIRECT VIA...   (env METHOD, default
//! /test.Echo/Unary: the bytes-in bytes-out method of proxy/tests/it/h2_support/grpc_peer.py)

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::time::Instant;

async fn connect(addr: &str) -> SendRequest<Full<Bytes>> {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let (send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .expect("HTTP/2 handshake");
    tokio::spawn(conn);
    send
}

/// One unary call; panics unless it ends with grpc-status 0.
async fn call(send: &mut SendRequest<Full<Bytes>>, addr: &str, method: &str, frame: &Bytes) {
    let req = Request::post(format!("http://{addr}{method}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("grpc-timeout", "5S")
        .body(Full::new(frame.clone()))
        .expect("request");
    let res = send.send_request(req).await.expect("call");
    let collected = res.into_body().collect().await.expect("answer body");
    let status = collected
        .trailers()
        .and_then(|t| t.get("grpc-status"))
        .map(|v| v.as_bytes().to_vec());
    assert_eq!(status.as_deref(), Some(&b"0"[..]), "grpc-status");
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!("usage: grpc_unary CALLS_PER_ROUND ROUNDS DIRECT VIA...");
        std::process::exit(2);
    }
    let calls: usize = args[0].parse().expect("CALLS_PER_ROUND");
    let rounds: usize = args[1].parse().expect("ROUNDS");
    let addrs: Vec<String> = args[2..].to_vec();
    let method = std::env::var("METHOD").unwrap_or("/test.Echo/Unary".into());
    // A length-prefixed message: not compressed, 16 bytes.
    let mut frame = vec![0u8, 0, 0, 0, 16];
    frame.extend_from_slice(b"0123456789abcdef");
    let frame = Bytes::from(frame);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let mut sends = Vec::new();
        for a in &addrs {
            sends.push(connect(a).await);
        }
        for _ in 0..200 {
            for (send, a) in sends.iter_mut().zip(&addrs) {
                call(send, a, &method, &frame).await;
            }
        }
        let mut lat: Vec<Vec<f64>> = vec![Vec::new(); addrs.len()];
        for _ in 0..rounds {
            for ((send, a), out) in sends.iter_mut().zip(&addrs).zip(&mut lat) {
                for _ in 0..calls {
                    let t = Instant::now();
                    call(send, a, &method, &frame).await;
                    out.push(t.elapsed().as_secs_f64() * 1e6);
                }
            }
        }
        for l in &mut lat {
            l.sort_by(f64::total_cmp);
        }
        let (d50, d99) = (percentile(&lat[0], 0.5), percentile(&lat[0], 0.99));
        println!(
            "calls={} per address, one connection each, latency in us:",
            lat[0].len()
        );
        println!("  {:22} p50 {d50:8.1}  p99 {d99:8.1}", addrs[0]);
        for (a, l) in addrs.iter().zip(&lat).skip(1) {
            let (p50, p99) = (percentile(l, 0.5), percentile(l, 0.99));
            println!(
                "  {a:22} p50 {p50:8.1}  p99 {p99:8.1}  added p50 {:.1}  added p99 {:.1}",
                p50 - d50,
                p99 - d99
            );
        }
    });
}
