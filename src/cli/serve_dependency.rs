//! `redline serve-dependency`: run the stub UserService alone until Ctrl-C.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use clap::Args as ClapArgs;

use crate::demo::service::config::parse_duration;
use crate::demo::{StubConfig, StubDependency};

use super::exit;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Address to listen on (loopback unless you mean it)
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 8081)]
    pub port: u16,
    /// Delay before every answer, e.g. 1ms or 20ms
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "1ms")]
    pub latency: Duration,
    /// Extra delay drawn uniformly from [0, JITTER] per answer
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "1ms")]
    pub jitter: Duration,
    /// Seed for the jitter draws
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn duration(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

pub fn execute(args: Args) -> anyhow::Result<u8> {
    let cfg = StubConfig {
        bind: SocketAddr::new(args.host, args.port),
        latency: args.latency,
        jitter: args.jitter,
        seed: args.seed,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let handle = StubDependency::start(cfg)
            .await
            .context("starting the stub UserService")?;
        // One write: if stdout is closed later, nothing else is printed to fail on.
        println!(
            "stub UserService (GET /users/{{key}}, GET /health) listening on {}\nCtrl-C stops it",
            handle.url()
        );
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        handle.shutdown().await;
        Ok(exit::OK)
    })
}
