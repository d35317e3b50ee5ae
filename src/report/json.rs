//! JSON renderer: result.json itself, pretty-printed (its schema is `schema/result.schema.json`).

use std::io::{self, Write};

use super::model::Report;

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &report.result).map_err(io::Error::other)?;
    writeln!(out)
}

/// A fault's parameters on one line for people: `(delay_ms=2000, status=503)`; empty if none.
pub fn compact_params(params: &serde_json::Value) -> String {
    let pairs: Vec<String> = match params {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect(),
        serde_json::Value::Null => Vec::new(),
        other => vec![other.to_string()],
    };
    if pairs.is_empty() {
        String::new()
    } else {
        format!("({})", pairs.join(", "))
    }
}
