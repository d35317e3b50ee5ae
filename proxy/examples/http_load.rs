//! A fixed-rate HTTP/1.1 load client for bench/proxy.sh, so that two proxies are compared at the
//! same request rate (CPU per request depends on load: busier event loops batch more).
//!
//! Usage: http_load HOST:PORT RATE SECONDS CONNECTIONS
//! Prints: `requests=N errors=E p50_us=.. p99_us=..` (latency from each request's scheduled time).

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = (
        args.first().cloned(),
        args.get(1).and_then(|a| a.parse::<f64>().ok()),
        args.get(2).and_then(|a| a.parse::<f64>().ok()),
        args.get(3).and_then(|a| a.parse::<usize>().ok()),
    );
    let (Some(addr), Some(rate), Some(secs), Some(conns)) = parsed else {
        eprintln!("usage: http_load HOST:PORT RATE SECONDS CONNECTIONS");
        std::process::exit(2);
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (mut lat, errors) = rt.block_on(run(addr, rate, secs, conns.max(1)));
    lat.sort_unstable();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)));
    println!(
        "requests={} errors={} p50_us={} p99_us={}",
        lat.len(),
        errors,
        pct(0.50).copied().unwrap_or(0),
        pct(0.99).copied().unwrap_or(0)
    );
}

/// Each connection sends one request per `conns / rate` seconds, one at a time.
async fn run(addr: String, rate: f64, secs: f64, conns: usize) -> (Vec<u64>, u64) {
    let period = Duration::from_secs_f64(conns as f64 / rate);
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for i in 0..conns {
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0u64);
            let Ok(stream) = TcpStream::connect(&addr).await else {
                return (lat, 1);
            };
            let _ = stream.set_nodelay(true);
            let Ok((mut send, conn)) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
            else {
                return (lat, 1);
            };
            tokio::spawn(conn);
            // Spread the connections' schedules evenly over one period.
            let start = tokio::time::Instant::now() + period.mul_f64(i as f64 / conns as f64);
            let mut tick = tokio::time::interval_at(start, period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            while Instant::now() < end {
                let due = tick.tick().await;
                let req = Request::get("/")
                    .header("host", &addr)
                    .body(Empty::<Bytes>::new())
                    .expect("request");
                let ok = match send.send_request(req).await {
                    Ok(resp) => resp.into_body().collect().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    lat.push(due.elapsed().as_micros() as u64);
                } else {
                    errors += 1;
                    break;
                }
            }
            (lat, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        if let Ok((lat, e)) = t.await {
            all.extend(lat);
            errors += e;
        }
    }
    (all, errors)
}
