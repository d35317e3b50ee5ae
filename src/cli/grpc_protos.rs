//! `[[request]] grpc` before a run: each `proto` resolved against the scenario file's folder
//! and compiled, the method looked up, and the message template rendered once and encoded, so
//! a missing file, an unknown method or a message that does not fit its type is bad input
//! (file:line, exit 2) before anything is sent.

use std::path::Path;

use anyhow::bail;
use rand::SeedableRng;

use crate::engine::http2::grpc;
use crate::scenario::Plan;

/// Resolves and checks every gRPC request of `plan` (`scenario` is the file, `file` its name
/// as the user wrote it).
pub fn resolve(plan: &mut Plan, scenario: &Path, file: &str) -> anyhow::Result<()> {
    let base = scenario.parent().unwrap_or(Path::new("")).to_path_buf();
    for r in &mut plan.requests {
        let Some(g) = r.grpc.as_mut() else {
            continue;
        };
        if g.proto.is_relative() {
            g.proto = base.join(&g.proto);
        }
        let at = format!("{file}:{}:{}", g.pos.line, g.pos.column);
        let method = match grpc::load(&g.proto, &g.method) {
            Ok(m) => m,
            Err(why) => bail!("{at}: `{}.grpc`: {why}", r.name),
        };
        let mut sample = String::new();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(plan.seed);
        r.body.render(0, &mut rng, &mut sample);
        if let Err(why) = method.frame(sample.as_bytes()) {
            bail!(
                "{at}: `{}.grpc.message`: expected JSON for {}, found {sample:?} ({why})",
                r.name,
                method.input_name()
            );
        }
    }
    Ok(())
}
