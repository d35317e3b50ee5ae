//! `redline fault add|rm|list`: a small client of a running proxy's native control API.

use anyhow::{bail, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use redline_proxy::fault::FaultSpec;
use serde_json::Value;
use tokio::net::TcpStream;

use super::exit;

/// Add, remove or list HTTP faults on a running `redline proxy` (via its control API).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
    /// Control API of the proxy, `http://host:port` or `host:port`.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8474")]
    pub control: String,
    /// Name of the proxy to change.
    #[arg(long, global = true, default_value = "proxy")]
    pub proxy: String,
    /// Who is making the change (recorded in the proxy's change journal); default: user@host.
    #[arg(long, global = true)]
    pub actor: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Add a fault: `kind:key=value,...`, e.g. `abort:status=503,probability=0.5`.
    Add {
        #[arg(value_name = "SPEC")]
        spec: String,
        /// The proxy removes the fault by itself after this long (e.g. 10m, 1h); default: it
        /// stays until removed (or the proxy's --max-fault-ttl).
        #[arg(long, value_name = "DURATION", value_parser = parse_ttl)]
        ttl: Option<std::time::Duration>,
    },
    /// Remove a fault by name, or every fault with --all.
    Rm {
        #[arg(value_name = "NAME", required_unless_present = "all")]
        name: Option<String>,
        #[arg(long, conflicts_with = "name")]
        all: bool,
    },
    /// List the proxy's faults.
    List {
        /// Print the faults as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn execute(args: Args) -> anyhow::Result<u8> {
    let authority = authority(&args.control)?;
    // Validate before any network traffic, so a typo is a usage error with nothing sent.
    let add_body = match &args.action {
        Action::Add { spec, ttl } => {
            let mut f = FaultSpec::parse_cli(spec).with_context(|| format!("fault {spec:?}"))?;
            f.validate().with_context(|| format!("fault {spec:?}"))?;
            let mut body = serde_json::to_value(&f)?;
            if let Some(ttl) = ttl {
                body["expires_in"] = (ttl.as_millis() as u64).into();
            }
            Some(body.to_string())
        }
        _ => None,
    };
    let actor = args.actor.clone().unwrap_or_else(default_actor);
    let base = format!("/redline/proxies/{}/faults", encode(&args.proxy));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match args.action {
            Action::Add { .. } => {
                let v = call(&authority, "POST", &base, add_body, &actor).await?;
                let until = v["expires_at"]
                    .as_u64()
                    .map(|at| format!(" (the proxy removes it at {})", unix_ms_text(at)))
                    .unwrap_or_default();
                println!(
                    "added fault {} to {}{until}",
                    v["name"].as_str().unwrap_or("?"),
                    args.proxy
                );
            }
            Action::Rm {
                name: Some(name), ..
            } => {
                call(
                    &authority,
                    "DELETE",
                    &format!("{base}/{}", encode(&name)),
                    None,
                    &actor,
                )
                .await?;
                println!("removed fault {name} from {}", args.proxy);
            }
            Action::Rm { .. } => {
                call(&authority, "DELETE", &base, None, &actor).await?;
                println!("removed every fault from {}", args.proxy);
            }
            Action::List { json } => {
                let v = call(&authority, "GET", &base, None, &actor).await?;
                print_list(&v, json)?;
            }
        }
        Ok(exit::OK)
    })
}

fn print_list(v: &Value, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(v)?);
        return Ok(());
    }
    let faults = v.as_array().map(Vec::as_slice).unwrap_or_default();
    if faults.is_empty() {
        println!("no faults");
    }
    for f in faults {
        let kind = &f["kind"];
        println!(
            "{:<16} {:<9} p={:<5} {}",
            f["name"].as_str().unwrap_or("?"),
            kind["type"].as_str().unwrap_or("?"),
            f["probability"],
            serde_json::to_string(kind).unwrap_or_default()
        );
    }
    Ok(())
}

/// `host:port` from `http://host:port[/]` or `host:port`.
fn authority(control: &str) -> anyhow::Result<String> {
    if control.starts_with("https://") {
        bail!("--control {control:?}: https is not supported; the control API speaks plain http");
    }
    let rest = control
        .strip_prefix("http://")
        .unwrap_or(control)
        .trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((host, port))
            if !host.is_empty() && !rest.contains('/') && port.parse::<u16>().is_ok() =>
        {
            Ok(rest.to_string())
        }
        _ => bail!(
            "--control: expected http://host:port (e.g. http://127.0.0.1:8474), found {control:?}"
        ),
    }
}

/// Percent-encodes a path segment (names may hold any character).
fn encode(seg: &str) -> String {
    let mut out = String::new();
    for b in seg.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `--ttl`: a duration above zero ("10m", "1h", "30s").
fn parse_ttl(text: &str) -> Result<std::time::Duration, String> {
    match redline_proxy::fault::Ms::parse(text) {
        Ok(m) if !m.0.is_zero() => Ok(m.0),
        Ok(_) => Err("expected a duration above 0, found 0".into()),
        Err(e) => Err(format!("expected {e}")),
    }
}

/// Unix epoch milliseconds as a UTC stamp (`20260102T030405Z`).
fn unix_ms_text(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    crate::engine::collect::stamp(t)
}

fn default_actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "someone".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    if host.is_empty() {
        format!("redline-fault:{user}")
    } else {
        format!("redline-fault:{user}@{host}")
    }
}

/// One request to the control API; a non-2xx answer becomes an error naming the API's message.
async fn call(
    authority: &str,
    method: &str,
    path: &str,
    body: Option<String>,
    actor: &str,
) -> anyhow::Result<Value> {
    let stream = TcpStream::connect(authority)
        .await
        .with_context(|| format!("cannot reach the control API at {authority}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", authority)
        .header("user-agent", concat!("redline/", env!("CARGO_PKG_VERSION")))
        .header("x-redline-actor", actor)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.unwrap_or_default())))?;
    let resp = tokio::time::timeout(std::time::Duration::from_secs(30), sender.send_request(req))
        .await
        .context("the control API did not answer within 30 s")??;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    let value: Value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    if !status.is_success() {
        let msg = value["error"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        bail!(
            "control API answered {} for {method} {path}: {msg}",
            status.as_u16()
        );
    }
    Ok(value)
}
