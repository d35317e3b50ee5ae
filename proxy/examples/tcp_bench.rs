//! Passthrough cost of the TCP relay on loopback: added round-trip latency at one connection
//! (p50/p99 of 64-byte ping-pongs, direct vs through a `TcpProxy` without toxics) and bulk
//! throughput with the process CPU time per MB relayed.
//!
//! Run: `cargo run --release -p redline-proxy --example tcp_bench`

use std::time::{Duration, Instant};

use redline_proxy::tcp::{TcpProxy, TcpProxyConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PINGS: usize = 20_000;
const BULK: usize = 1 << 30;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let echo = echo_server().await;
    let sink = sink_server().await;
    let proxy = TcpProxy::start(TcpProxyConfig::new(
        "bench",
        "127.0.0.1:0",
        echo.to_string(),
    ))
    .await
    .unwrap();
    let bulk_proxy = TcpProxy::start(TcpProxyConfig::new("bulk", "127.0.0.1:0", sink.to_string()))
        .await
        .unwrap();

    let direct = pings(echo).await;
    let proxied = pings(proxy.listen_addr().unwrap()).await;
    for (q, name) in [(0.5, "p50"), (0.99, "p99")] {
        let (d, p) = (quantile(&direct, q), quantile(&proxied, q));
        println!(
            "round trip {name}: direct {d:?}, proxied {p:?}, added {:?}",
            p.saturating_sub(d)
        );
    }

    let (t_direct, cpu_direct) = bulk(sink).await;
    let (t_proxied, cpu_proxied) = bulk(bulk_proxy.listen_addr().unwrap()).await;
    let mb = (BULK >> 20) as f64;
    println!(
        "bulk {mb} MB: direct {:.0} MB/s, proxied {:.0} MB/s; process CPU per MB direct {:.0} us, proxied {:.0} us",
        mb / t_direct.as_secs_f64(),
        mb / t_proxied.as_secs_f64(),
        cpu_direct.as_secs_f64() * 1e6 / mb,
        cpu_proxied.as_secs_f64() * 1e6 / mb,
    );
}

async fn pings(addr: std::net::SocketAddr) -> Vec<Duration> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let msg = [7u8; 64];
    let mut buf = [0u8; 64];
    let mut out = Vec::with_capacity(PINGS);
    for i in 0..PINGS + 1000 {
        let start = Instant::now();
        s.write_all(&msg).await.unwrap();
        s.read_exact(&mut buf).await.unwrap();
        if i >= 1000 {
            out.push(start.elapsed()); // the first 1000 warm up
        }
    }
    out.sort();
    out
}

async fn bulk(addr: std::net::SocketAddr) -> (Duration, Duration) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let chunk = vec![1u8; 64 * 1024];
    let (cpu0, start) = (cpu_time(), Instant::now());
    let mut sent = 0;
    while sent < BULK {
        s.write_all(&chunk).await.unwrap();
        sent += chunk.len();
    }
    s.shutdown().await.unwrap();
    let mut ack = [0u8; 1];
    s.read_exact(&mut ack).await.unwrap(); // the sink answers once it has read everything
    (start.elapsed(), cpu_time().saturating_sub(cpu0))
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q) as usize]
}

/// User + system CPU time of this process, from /proc (Linux).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

async fn echo_server() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            s.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

async fn sink_server() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
                let _ = s.write_all(b"k").await;
            });
        }
    });
    addr
}
