//! Reports: one model (`Report`) built from a `RunResult`, rendered by one pure renderer per format.
//!
//! Invariant: renderers only read the model and write bytes; they never measure, judge or touch
//! the disk. Only `write_all` creates files, and it writes each one atomically (temp + rename).

mod answers;
pub mod baseline;
mod capacity;
pub mod charts;
pub mod csv;
pub mod first_errors;
pub mod groups;
pub mod histogram;
pub mod html;
mod html_tables;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
mod ready;
pub mod terminal;
mod terminal_verdicts;
mod text;
pub mod unanswered;

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use model::Report;

use crate::result::RunResult;

/// One output format. `Terminal` goes to standard output in the CLI and to `report.txt` on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Terminal,
    Markdown,
    Junit,
    Json,
    Csv,
    Html,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Terminal,
        Format::Markdown,
        Format::Junit,
        Format::Json,
        Format::Csv,
        Format::Html,
    ];

    /// The file name this format is written to inside the output folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Terminal => "report.txt",
            Format::Markdown => "report.md",
            Format::Junit => "junit.xml",
            Format::Json => "result.json",
            Format::Csv => "timeline.csv",
            Format::Html => "report.html",
        }
    }

    /// Renders `report` in this format (terminal without colour).
    pub fn write(self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Format::Terminal => terminal::write(report, out),
            Format::Markdown => markdown::write(report, out),
            Format::Junit => junit::write(report, out),
            Format::Json => json::write(report, out),
            Format::Csv => csv::write(report, out),
            Format::Html => html::write(report, out),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Terminal => "terminal",
            Format::Markdown => "md",
            Format::Junit => "junit",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Html => "html",
        })
    }
}

/// A `--format` value that names no format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report format `{0}` (expected one of: terminal, md, junit, json, csv, html)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "terminal" | "term" | "text" | "txt" => Ok(Format::Terminal),
            "md" | "markdown" => Ok(Format::Markdown),
            "junit" | "xml" => Ok(Format::Junit),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "html" => Ok(Format::Html),
            other => Err(UnknownFormat(other.to_string())),
        }
    }
}

/// Parses a comma-separated list such as `terminal,md,junit`; duplicates are dropped.
pub fn parse_formats(list: &str) -> Result<Vec<Format>, UnknownFormat> {
    let mut formats = Vec::new();
    for part in list.split(',').filter(|p| !p.trim().is_empty()) {
        let format: Format = part.parse()?;
        if !formats.contains(&format) {
            formats.push(format);
        }
    }
    Ok(formats)
}

/// Writes `result` in each of `formats` into `dir` (created if missing) and returns the paths
/// written, in the order of `formats`. This is what `redline run` calls at the end of a run.
pub fn write_all(result: &RunResult, dir: &Path, formats: &[Format]) -> io::Result<Vec<PathBuf>> {
    write_report(&Report::new(result), dir, formats)
}

/// Prints the terminal report of `result` to standard output, in colour when it is a terminal
/// and `NO_COLOR` is unset: what `redline run` shows at the end of a run.
pub fn print_terminal(result: &RunResult) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    terminal::write_styled(
        &Report::new(result),
        &mut stdout,
        terminal::stdout_supports_color(),
    )?;
    stdout.flush()
}

/// Like `write_all`, for a model already built (e.g. with a baseline comparison).
pub fn write_report(report: &Report, dir: &Path, formats: &[Format]) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    let mut written = Vec::with_capacity(formats.len());
    for &format in formats {
        let path = dir.join(format.file_name());
        let mut buf = Vec::new();
        format.write(report, &mut buf)?;
        // Write then rename, so a reader never sees half a report (and an interrupted run
        // never leaves a truncated result.json behind).
        let tmp = dir.join(format!(".{}.tmp", format.file_name()));
        fs::write(&tmp, &buf)?;
        fs::rename(&tmp, &path)?;
        written.push(path);
    }
    Ok(written)
}
