//! `redline report RESULT.json`: render a saved result again, optionally against a baseline run.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args as ClapArgs;

use crate::report::{self, terminal, Format, Report};
use crate::result::{RunResult, SCHEMA_VERSION};

use super::exit;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The result.json of a run.
    pub result: PathBuf,
    /// Formats to render, comma-separated: terminal, md, junit, json, csv, html. Default: all of
    /// them with --out, otherwise terminal (printed to standard output); files need --out.
    #[arg(long, value_delimiter = ',')]
    pub format: Vec<String>,
    /// Folder to write the report files into (report.txt, report.md, junit.xml, result.json,
    /// timeline.csv, report.html). Terminal output is printed as well.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// An older result.json to compare with, per request and percentile.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Exit 1 when the baseline comparison flags a regression.
    #[arg(long, requires = "baseline")]
    pub fail_on_regression: bool,
}

/// Reads and checks one result.json, with the file and the JSON line/column in any error.
pub fn load(path: &Path) -> anyhow::Result<RunResult> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let result: RunResult = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}:{}: not a redline result.json: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if result.schema_version > SCHEMA_VERSION {
        bail!(
            "{}: schema_version {} is newer than this redline understands (expected <= {SCHEMA_VERSION})",
            path.display(),
            result.schema_version
        );
    }
    Ok(result)
}

pub fn execute(args: Args) -> anyhow::Result<u8> {
    let mut formats = Vec::new();
    for f in &args.format {
        for format in report::parse_formats(f)? {
            if !formats.contains(&format) {
                formats.push(format);
            }
        }
    }
    if formats.is_empty() {
        formats = match args.out {
            Some(_) => Format::ALL.to_vec(),
            None => vec![Format::Terminal],
        };
    }
    if args.out.is_none() && formats.iter().any(|f| *f != Format::Terminal) {
        bail!(
            "--format {} writes files: give --out DIR",
            args.format.join(",")
        );
    }
    let result = load(&args.result)?;
    let report = match &args.baseline {
        Some(path) => Report::with_baseline(&result, &load(path)?),
        None => Report::new(&result),
    };
    if formats.contains(&Format::Terminal) || args.out.is_none() {
        let color = terminal::stdout_supports_color();
        let mut stdout = io::stdout().lock();
        terminal::write_styled(&report, &mut stdout, color)?;
        stdout.flush()?;
    }
    if let Some(dir) = &args.out {
        let written = report::write_report(&report, dir, &formats)
            .with_context(|| format!("cannot write reports into {}", dir.display()))?;
        for path in written {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(if args.fail_on_regression && report.has_regression() {
        exit::FAILED
    } else {
        exit::OK
    })
}
