//! A bare HTTP fault proxy for benchmarks (bench/proxy.sh): passthrough from LISTEN to UPSTREAM
//! on a single-threaded runtime, so CPU per request is easy to attribute; optional `--fault`s.
//!
//! Usage: http_proxy LISTEN UPSTREAM [--http2] [--fault SPEC]... (runs until killed); `--http2`
//! makes it the HTTP/2 (h2c) proxy, as bench/proxy_grpc.sh runs it.

use redline_proxy::fault::FaultSpec;
use redline_proxy::http::{HttpProxy, HttpProxyConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: http_proxy LISTEN UPSTREAM [--http2] [--fault SPEC]...");
        std::process::exit(2);
    }
    let listen = match args[0].parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: LISTEN {:?}: expected host:port, {e}", args[0]);
            std::process::exit(2);
        }
    };
    let mut faults = Vec::new();
    let mut http2 = false;
    let mut rest = args[2..].iter();
    while let Some(flag) = rest.next() {
        if flag == "--http2" {
            http2 = true;
            continue;
        }
        match (flag.as_str(), rest.next()) {
            ("--fault", Some(spec)) => match FaultSpec::parse_cli(spec) {
                Ok(f) => faults.push(f),
                Err(e) => {
                    eprintln!("error: --fault: {e}");
                    std::process::exit(2);
                }
            },
            _ => {
                eprintln!("error: unexpected argument {flag:?}");
                std::process::exit(2);
            }
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let mut cfg = HttpProxyConfig::new("bench", listen, args[1].clone());
        cfg.http2 = http2;
        let proxy = HttpProxy::start(cfg).await.expect("bind");
        for f in faults {
            proxy.add_fault(f).expect("fault");
        }
        println!("listening on {}", proxy.listen_addr());
        std::future::pending::<()>().await;
    });
}
