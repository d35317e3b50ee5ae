//! `[target] ca_file` before a run: resolved against the scenario file's folder and read once,
//! so a missing, unreadable or empty bundle is bad input (file:line, exit 2) before anything starts.

use std::path::Path;

use anyhow::bail;

use crate::scenario::Plan;

/// Resolves `plan.target.ca_file` against `scenario`'s folder and checks it holds certificates.
pub fn resolve(plan: &mut Plan, scenario: &Path, file: &str) -> anyhow::Result<()> {
    let Some(ca) = plan.target.ca_file.as_mut() else {
        return Ok(());
    };
    if ca.path.is_relative() {
        let base = scenario.parent().unwrap_or(Path::new(""));
        ca.path = base.join(&ca.path);
    }
    if let Err(why) = crate::engine::tls::read_ca_bundle(&ca.path) {
        bail!(
            "{file}:{}:{}: `target.ca_file`: expected a readable PEM file of CA certificates, found: {why}",
            ca.pos.line,
            ca.pos.column
        );
    }
    Ok(())
}
