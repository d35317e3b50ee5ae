//! `redline proxy`: run a fault proxy (HTTP or TCP) and/or the control API until Ctrl-C.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::ValueEnum;
use redline_proxy::control::{ControlServer, DEFAULT_LISTEN};
use redline_proxy::fault::FaultSpec;
use redline_proxy::lease::Item;
use redline_proxy::registry::Registry;
use redline_proxy::tcp::TcpProxyConfig;
use redline_proxy::toxic::{Toxic, ToxicError, TYPES};

use super::exit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// Per-request HTTP faults (`--fault`) and the dependency-side log.
    Http,
    /// HTTP/2 with prior knowledge (h2c) on both sides, faults per stream: gRPC dependencies
    /// (`--fault abort:grpc_status=UNAVAILABLE`).
    #[value(alias = "grpc")]
    Http2,
    /// Byte relay with Toxiproxy's toxics (`--toxic`).
    Tcp,
}

/// Run a fault proxy between a service and one dependency, with a live control API.
///
/// With only `--control`, starts no proxy and waits for proxies to be created over the API
/// (Toxiproxy-compatible, so Toxiproxy clients work unchanged).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  redline proxy --listen 127.0.0.1:9101 --upstream 127.0.0.1:9100 --fault 'abort:status=503,probability=0.5'\n  redline proxy --protocol tcp --listen 127.0.0.1:6380 --upstream 127.0.0.1:6379 --toxic 'latency:latency=100,jitter=10'\n  redline proxy --control 127.0.0.1:8474"
)]
pub struct Args {
    /// Address the proxy listens on (`host:port`; port 0 picks a free one).
    #[arg(long, requires = "upstream")]
    pub listen: Option<String>,
    /// The dependency, `host:port`.
    #[arg(long, requires = "listen")]
    pub upstream: Option<String>,
    #[arg(long, value_enum, default_value = "http")]
    pub protocol: Protocol,
    /// HTTP fault, `kind:key=value,...` (repeatable), e.g. `abort:status=503,probability=0.5`.
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<String>,
    /// TCP toxic, `type:key=value,...` (repeatable), e.g. `latency:latency=100,stream=upstream`.
    #[arg(long = "toxic", value_name = "SPEC")]
    pub toxics: Vec<String>,
    /// Seed of every coin flip (fault probabilities, toxicity, jitter); random if absent.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Serve the control API on this address (Toxiproxy's default is 127.0.0.1:8474).
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = DEFAULT_LISTEN)]
    pub control: Option<String>,
    /// Allow the control API on a non-loopback address (anyone who reaches it controls faults).
    #[arg(long)]
    pub control_allow_remote: bool,
    /// Name of the proxy (in the control API, logs and metrics).
    #[arg(long, default_value = "proxy")]
    pub name: String,
    /// Longest life of any fault, toxic or disable (e.g. 1h): the proxy removes it by itself
    /// then, whoever installed it (shared environments). Default: no cap.
    #[arg(long, value_name = "DURATION", value_parser = parse_cap)]
    pub max_fault_ttl: Option<std::time::Duration>,
    /// HTTP: caller connections open at once. At the cap the longest-idle connection (between
    /// requests, or a slow head) is shed for a new caller; a caller is refused only when every
    /// connection is serving a request. Default: from the open-file limit (half of it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
}

fn parse_cap(text: &str) -> Result<std::time::Duration, String> {
    match redline_proxy::fault::Ms::parse(text) {
        Ok(m) if !m.0.is_zero() => Ok(m.0),
        Ok(_) => Err("expected a duration above 0, found 0".into()),
        Err(e) => Err(format!("expected {e}")),
    }
}

/// What to start, validated before anything binds.
struct Plan {
    proxy: Option<ProxyPlan>,
    control: Option<String>,
    seed: u64,
    max_fault_ttl: Option<std::time::Duration>,
    max_connections: Option<u32>,
}

struct ProxyPlan {
    name: String,
    listen: String,
    upstream: String,
    kind: Kind,
}

enum Kind {
    /// The faults, and true for HTTP/2.
    Http(Vec<FaultSpec>, bool),
    Tcp(Vec<Toxic>),
}

pub fn execute(args: Args) -> anyhow::Result<u8> {
    let plan = validate(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(run(plan))
}

fn validate(args: Args) -> anyhow::Result<Plan> {
    let proxy = match (args.listen, args.upstream) {
        (Some(listen), Some(upstream)) => Some(proxy_plan(
            args.name,
            listen,
            upstream,
            args.protocol,
            &args.faults,
            &args.toxics,
        )?),
        _ if args.control.is_none() => {
            bail!("nothing to run: give --listen and --upstream for a proxy, or --control to wait for proxies created over the API")
        }
        _ => {
            if !args.faults.is_empty() || !args.toxics.is_empty() {
                bail!("--fault and --toxic need a proxy: give --listen and --upstream");
            }
            None
        }
    };
    if let Some(control) = &args.control {
        check_control_addr(control, args.control_allow_remote)?;
    }
    Ok(Plan {
        proxy,
        control: args.control,
        seed: args.seed.unwrap_or_else(rand::random),
        max_fault_ttl: args.max_fault_ttl,
        max_connections: args.max_connections,
    })
}

fn proxy_plan(
    name: String,
    listen: String,
    upstream: String,
    protocol: Protocol,
    faults: &[String],
    toxics: &[String],
) -> anyhow::Result<ProxyPlan> {
    check_host_port("--listen", &listen)?;
    check_host_port("--upstream", &upstream)?;
    let kind = match protocol {
        Protocol::Http | Protocol::Http2 => {
            if !toxics.is_empty() {
                bail!("--toxic is for --protocol tcp; an http proxy takes --fault");
            }
            let mut specs = Vec::new();
            for f in faults {
                let mut spec = FaultSpec::parse_cli(f).with_context(|| format!("--fault {f:?}"))?;
                spec.validate().with_context(|| format!("--fault {f:?}"))?;
                spec.check_protocol(protocol == Protocol::Http2)
                    .with_context(|| format!("--fault {f:?}"))?;
                specs.push(spec);
            }
            Kind::Http(specs, protocol == Protocol::Http2)
        }
        Protocol::Tcp => {
            if !faults.is_empty() {
                bail!("--fault is for --protocol http; a tcp proxy takes --toxic (Toxiproxy's toxics)");
            }
            let parsed: Result<Vec<Toxic>, _> = toxics.iter().map(|t| parse_toxic(t)).collect();
            Kind::Tcp(parsed?)
        }
    };
    Ok(ProxyPlan {
        name,
        listen,
        upstream,
        kind,
    })
}

fn parse_toxic(text: &str) -> anyhow::Result<Toxic> {
    Toxic::parse_cli(text).map_err(|e| match e {
        ToxicError::InvalidType(t) => anyhow::anyhow!(
            "--toxic {text:?}: unknown toxic type {t:?}; expected one of {}",
            TYPES.join(", ")
        ),
        other => anyhow::anyhow!("--toxic {text:?}: {other}"),
    })
}

fn check_host_port(flag: &str, value: &str) -> anyhow::Result<()> {
    match value.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
        _ => bail!("{flag}: expected host:port (e.g. 127.0.0.1:9100), found {value:?}"),
    }
}

fn check_control_addr(control: &str, allow_remote: bool) -> anyhow::Result<()> {
    check_host_port("--control", control)?;
    let addr: Option<SocketAddr> = control.parse().ok();
    let loopback = match addr {
        Some(a) => a.ip().is_loopback(),
        None => control.rsplit_once(':').is_some_and(|(h, _)| {
            h == "localhost" || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }),
    };
    if !loopback && !allow_remote {
        bail!("--control {control}: not a loopback address; add --control-allow-remote to expose the control API");
    }
    Ok(())
}

async fn run(plan: Plan) -> anyhow::Result<u8> {
    let registry = Arc::new(Registry::new(plan.seed, Instant::now()));
    registry.leases().set_max_ttl(plan.max_fault_ttl);
    // A proxy holds two descriptors per caller: take the whole allowance before sizing the cap.
    let _ = redline_proxy::http::raise_open_file_limit();
    if let Some(p) = plan.proxy {
        start_proxy(&registry, p, plan.seed, plan.max_connections).await?;
    }
    if let Some(cap) = plan.max_fault_ttl {
        println!(
            "redline proxy: every fault, toxic and disable is removed after at most {} s",
            cap.as_secs_f64()
        );
    }
    // The control server runs the lease reaper; without one, the cap still needs it.
    let (_reaper_stop, reaper_rx) = tokio::sync::watch::channel(false);
    let reaper = (plan.control.is_none() && plan.max_fault_ttl.is_some())
        .then(|| redline_proxy::lease::reaper::spawn(registry.clone(), reaper_rx));
    let control = match &plan.control {
        Some(addr) => {
            let server = ControlServer::start(addr, registry.clone())
                .await
                .with_context(|| format!("--control {addr}: cannot listen"))?;
            println!("redline proxy: control API on http://{} (Toxiproxy-compatible; native under /redline)", server.local_addr());
            Some(server)
        }
        None => None,
    };
    println!("redline proxy: seed {} ; Ctrl-C to stop", plan.seed);
    wait_for_stop().await;
    if let Some(r) = reaper {
        r.abort();
    }
    if let Some(server) = control {
        server.stop().await;
    }
    registry.stop_all().await;
    eprintln!("redline proxy: stopped");
    Ok(exit::OK)
}

async fn start_proxy(
    registry: &Registry,
    p: ProxyPlan,
    seed: u64,
    max_connections: Option<u32>,
) -> anyhow::Result<()> {
    let handle = match p.kind {
        Kind::Http(faults, http2) => {
            let h = registry
                .add_http(&p.name, &p.listen, &p.upstream, |cfg| {
                    cfg.seed = seed;
                    cfg.http2 = http2;
                    if let Some(n) = max_connections {
                        cfg.max_connections = n as usize;
                    }
                })
                .await
                .with_context(|| format!("--listen {}", p.listen))?;
            if let redline_proxy::registry::ProxyHandle::Http(http) = &*h {
                for f in faults {
                    let name = f.name.clone();
                    http.add_fault(f)?;
                    // No lease asked: only --max-fault-ttl can end it.
                    registry
                        .leases()
                        .grant(&p.name, Item::Fault(name), &Default::default());
                }
            }
            h
        }
        Kind::Tcp(toxics) => {
            let mut cfg = TcpProxyConfig::new(&p.name, &p.listen, &p.upstream);
            cfg.seed = Some(seed);
            let names: Vec<String> = toxics.iter().map(|t| t.name.clone()).collect();
            cfg.toxics = toxics;
            let h = registry
                .add_tcp(cfg)
                .await
                .with_context(|| format!("--listen {}", p.listen))?;
            for n in names {
                registry
                    .leases()
                    .grant(&p.name, Item::Toxic(n), &Default::default());
            }
            h
        }
    };
    let cap = match &*handle {
        redline_proxy::registry::ProxyHandle::Http(h) => {
            format!(", at most {} connections", h.max_connections())
        }
        redline_proxy::registry::ProxyHandle::Tcp(_) => String::new(),
    };
    println!(
        "redline proxy: {:?} ({}) listening on {} -> {}{cap}",
        p.name,
        handle.protocol().as_str(),
        handle.listen(),
        handle.upstream()
    );
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix (how service managers and test harnesses stop us).
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
