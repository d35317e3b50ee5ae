//! `redline serve-reference`: run the reference service alone until Ctrl-C.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use clap::Args as ClapArgs;

use crate::demo::service::config::{parse_duration, parse_rate};
use crate::demo::{ReferenceConfig, ReferenceService};

use super::exit;

/// Flags left out keep the defaults, which are the figures in scenarios/specs/reference-service.md.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Base URL of UserService (put a fault proxy here to break it) [default: http://127.0.0.1:8081]
    #[arg(long, value_name = "URL")]
    pub dependency_url: Option<String>,
    /// Address to listen on (loopback unless you mean it)
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Consecutive failed UserService calls that open the breaker [default: 5]
    #[arg(long, value_name = "N")]
    pub failure_threshold: Option<u32>,
    /// Time the breaker stays open before probing, e.g. 5s [default: 5s]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub recovery_timeout: Option<Duration>,
    /// Trial calls let through when the breaker half-opens [default: 2]
    #[arg(long, value_name = "K")]
    pub half_open_requests: Option<u32>,
    /// Timeout of one UserService attempt, e.g. 300ms [default: 300ms]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub call_timeout: Option<Duration>,
    /// Retries after a failed UserService attempt [default: 2]
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// Wait before the first retry, doubled for each further one [default: 50ms]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub backoff: Option<Duration>,
    /// Relative jitter on each backoff, e.g. 0.2 or 20% [default: 20%]
    #[arg(long, value_name = "FRACTION", value_parser = fraction)]
    pub jitter: Option<f64>,
    /// Requests allowed per client key, e.g. 100/s or 600/minute; "off" disables [default: 100/s]
    #[arg(long, value_name = "RATE")]
    pub rate_limit: Option<String>,
    /// Requests a quiet client key may send at once [default: the per-second rate]
    #[arg(long, value_name = "N")]
    pub burst: Option<u32>,
    /// Multiply every operation's simulated work time (0 answers without work) [default: 1]
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
    pub work_scale: f64,
    /// Items in the store at start (ids 1..=N) [default: 1000]
    #[arg(long, value_name = "N")]
    pub items: Option<u32>,
    /// Seed for work-time variance and retry jitter [default: 1]
    #[arg(long)]
    pub seed: Option<u64>,
}

fn duration(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

fn fraction(s: &str) -> Result<f64, String> {
    let (num, scale) = match s.trim().strip_suffix('%') {
        Some(pct) => (pct, 0.01),
        None => (s.trim(), 1.0),
    };
    match num.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&(v * scale)) => Ok(v * scale),
        _ => Err(format!(
            "expected a fraction between 0 and 1 (or 0% to 100%), found {s:?}"
        )),
    }
}

/// The configuration the flags describe.
pub fn config(args: &Args) -> anyhow::Result<ReferenceConfig> {
    let mut cfg = ReferenceConfig {
        bind: SocketAddr::new(args.host, args.port),
        ..ReferenceConfig::default()
    };
    if let Some(url) = &args.dependency_url {
        cfg.dependency_url = url.clone();
    }
    let b = &mut cfg.breaker;
    b.failure_threshold = args.failure_threshold.unwrap_or(b.failure_threshold);
    b.recovery_timeout = args.recovery_timeout.unwrap_or(b.recovery_timeout);
    b.half_open_requests = args.half_open_requests.unwrap_or(b.half_open_requests);
    cfg.call_timeout = args.call_timeout.unwrap_or(cfg.call_timeout);
    let r = &mut cfg.retry;
    r.retries = args.retries.unwrap_or(r.retries);
    r.base_backoff = args.backoff.unwrap_or(r.base_backoff);
    r.jitter = args.jitter.unwrap_or(r.jitter);
    match args.rate_limit.as_deref() {
        Some("off" | "none") => cfg.rate_limit = None,
        Some(text) => {
            let per_second = parse_rate(text).context("--rate-limit")?;
            let burst = args.burst.unwrap_or(per_second.ceil().max(1.0) as u32);
            cfg.rate_limit = Some(crate::demo::service::RateLimitConfig { per_second, burst });
        }
        None => {
            if let (Some(rl), Some(burst)) = (cfg.rate_limit.as_mut(), args.burst) {
                rl.burst = burst;
            }
        }
    }
    anyhow::ensure!(
        args.work_scale.is_finite() && args.work_scale >= 0.0,
        "--work-scale: expected a factor >= 0, found {}",
        args.work_scale
    );
    let t = &mut cfg.service_times;
    for op in [
        &mut t.get,
        &mut t.list,
        &mut t.create,
        &mut t.update,
        &mut t.delete,
    ] {
        op.median = op.median.mul_f64(args.work_scale);
    }
    cfg.seed_items = args.items.unwrap_or(cfg.seed_items);
    cfg.seed = args.seed.unwrap_or(cfg.seed);
    Ok(cfg)
}

pub fn execute(args: Args) -> anyhow::Result<u8> {
    let cfg = config(&args)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let summary = format!(
            "UserService at {} | breaker: open after {} consecutive failures, {:?} open, {} half-open probes | call timeout {:?}, {} retries from {:?} (±{:.0}%) | rate limit {}",
            cfg.dependency_url,
            cfg.breaker.failure_threshold,
            cfg.breaker.recovery_timeout,
            cfg.breaker.half_open_requests,
            cfg.call_timeout,
            cfg.retry.retries,
            cfg.retry.base_backoff,
            cfg.retry.jitter * 100.0,
            cfg.rate_limit
                .map_or("off".to_string(), |r| format!("{}/s per key, burst {}", r.per_second, r.burst)),
        );
        let handle = ReferenceService::start(cfg)
            .await
            .context("starting the reference service")?;
        // One write: if stdout is closed later, nothing else is printed to fail on.
        println!(
            "reference service listening on {}\n{summary}\nCtrl-C stops it",
            handle.url()
        );
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
        handle.shutdown().await;
        Ok(exit::OK)
    })
}
