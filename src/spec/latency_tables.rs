//! Latency tables: one row per operation, a column per percentile (P50, P90, P99.9, "95th percentile",
//! "Median", or several in one merged column "P50 / P95 / P99"), and an optional timeout column.

use super::claims::{Claims, LatencyTarget};
use super::diag;
use super::latency::unreadable_duration;
use super::markdown::{Block, Kind, Row};
use super::percentiles::{self, Stated};
use super::tables::{cell, Header};
use super::tokens::{tokenize, unit_ms};
use super::units::{duration_cell, Cell};

const OPERATION: &[&[&str]] = &[
    &["operation"],
    &["rpc"],
    &["endpoint"],
    &["method"],
    &["route"],
    &["api"],
    &["request"],
    &["name"],
    &["path"],
];
const TIMEOUT: &[&[&str]] = &[&["timeout"]];

/// The percentile columns of a header: (column, the percentiles it holds).
pub(crate) fn percentile_columns(header: &Row) -> Vec<(usize, Vec<f64>)> {
    header
        .cells
        .iter()
        .enumerate()
        .map(|(i, c)| (i, percentiles::in_header(c)))
        .filter(|(_, ps)| !ps.is_empty())
        .collect()
}

/// Reads every table with a percentile column as latency targets.
pub(crate) fn read_tables(blocks: &[Block], claims: &mut Claims) {
    for b in blocks {
        let Kind::Table { header, rows } = &b.kind else {
            continue;
        };
        let pcols = percentile_columns(header);
        if pcols.is_empty() {
            if is_transposed(rows) {
                read_transposed(header, rows, claims);
            }
            continue;
        }
        let h = Header(header);
        let taken = |c: usize| pcols.iter().any(|(p, _)| *p == c);
        let op = h.col(OPERATION).or(Some(0)).filter(|c| !taken(*c));
        // "Method | Path | P95": the operation is both ("GET /orders").
        let method = h.col(&[&["method"], &["verb"]]);
        let path = h
            .col(&[&["endpoint"], &["path"], &["route"]])
            .filter(|p| Some(*p) != method);
        let op = match (method, path) {
            (Some(m), Some(p)) => [Some(m), Some(p)],
            _ => [op, None],
        };
        let timeout = h.col(TIMEOUT).filter(|c| !taken(*c));
        for row in rows {
            read_row(&h, row, op, &pcols, timeout, claims);
        }
    }
}

fn read_row(
    h: &Header,
    row: &Row,
    op: [Option<usize>; 2],
    pcols: &[(usize, Vec<f64>)],
    timeout: Option<usize>,
    claims: &mut Claims,
) {
    let parts: Vec<&str> = op
        .iter()
        .map(|c| cell(row, *c))
        .filter(|t| !t.is_empty())
        .collect();
    let operation = parts.join(" ");
    if operation.is_empty() {
        diag(
            claims,
            row.line,
            "latency row without an operation name; row skipped".into(),
        );
        return;
    }
    let mut target = LatencyTarget {
        operation: operation.clone(),
        line: row.line,
        ..LatencyTarget::default()
    };
    for (col, ps) in pcols {
        let text = cell(row, Some(*col));
        let what = |p: Option<f64>| match p {
            Some(p) => format!("{} of \"{operation}\"", percentiles::label(p)),
            None => format!("{} of \"{operation}\"", h.text(*col)),
        };
        if let [p] = ps[..] {
            match duration_cell(text, h.unit_ms(*col)) {
                Cell::Value(ms) => {
                    target.set(p, ms);
                }
                Cell::Blank => {}
                Cell::Unreadable => diag(claims, row.line, unreadable_duration(&what(None), text)),
            }
            continue;
        }
        // A merged column: "20 / 80 / 150 ms", the unit written once (last) or in the header.
        let values: Vec<&str> = text.split('/').map(str::trim).collect();
        if values.len() != ps.len() {
            if !super::units::is_blank(text) {
                let msg = format!(
                    "{}: expected {} values separated by \"/\", found \"{text}\"",
                    what(None),
                    ps.len()
                );
                diag(claims, row.line, msg);
            }
            continue;
        }
        let unit = h
            .unit_ms(*col)
            .or_else(|| last_unit(values.last().copied()));
        for (p, v) in ps.iter().zip(values) {
            match duration_cell(v, unit) {
                Cell::Value(ms) => {
                    target.set(*p, ms);
                }
                Cell::Blank => {}
                Cell::Unreadable => diag(claims, row.line, unreadable_duration(&what(Some(*p)), v)),
            }
        }
    }
    if let Some(col) = timeout {
        let text = cell(row, Some(col));
        match duration_cell(text, h.unit_ms(col)) {
            Cell::Value(ms) => target.timeout_ms = Some(ms),
            Cell::Blank => {}
            Cell::Unreadable => {
                let what = format!("{} of \"{operation}\"", h.text(col));
                diag(claims, row.line, unreadable_duration(&what, text));
            }
        }
    }
    claims.latency.push(target);
}

/// "| Percentile | Search | Browse |" with rows "P50 | 20ms | 35ms": percentiles down the first
/// column (a "Timeout" row allowed), one operation per other column.
pub(crate) fn is_transposed(rows: &[Row]) -> bool {
    let firsts: Vec<&str> = rows.iter().map(|r| cell(r, Some(0))).collect();
    let percentile_rows = firsts
        .iter()
        .filter(|c| percentiles::in_header(c).len() == 1)
        .count();
    percentile_rows > 0
        && firsts.iter().all(|c| {
            percentiles::in_header(c).len() == 1 || super::markdown::has_words(c, &["timeout"])
        })
}

fn read_transposed(header: &Row, rows: &[Row], claims: &mut Claims) {
    let h = Header(header);
    for (col, operation) in header.cells.iter().enumerate().skip(1) {
        if operation.trim().is_empty() {
            continue;
        }
        let mut target = LatencyTarget {
            operation: operation.trim().to_string(),
            line: header.line,
            ..LatencyTarget::default()
        };
        for row in rows {
            let label = cell(row, Some(0));
            let text = cell(row, Some(col));
            let unit = h
                .unit_ms(col)
                .or_else(|| Header(row).unit_ms(0))
                .or_else(|| h.unit_ms(0));
            let value = match duration_cell(text, unit) {
                Cell::Value(ms) => Some(ms),
                Cell::Blank => None,
                Cell::Unreadable => {
                    let what = format!("{label} of \"{operation}\"");
                    diag(claims, row.line, unreadable_duration(&what, text));
                    None
                }
            };
            match (percentiles::in_header(label).first(), value) {
                (Some(p), Some(ms)) => {
                    target.set(*p, ms);
                }
                (None, Some(ms)) => target.timeout_ms = Some(ms),
                _ => {}
            }
        }
        claims.latency.push(target);
    }
}

/// The unit written after the last value of a merged cell ("150 ms" -> 1.0).
fn last_unit(v: Option<&str>) -> Option<f64> {
    tokenize(v?)
        .iter()
        .rev()
        .find_map(|t| t.word().and_then(unit_ms))
}
