//! Error classification: the table mapping error types to HTTP status, code and whether to retry.

use super::claims::{Claims, ErrorClass};
use super::diag;
use super::markdown::{Block, Kind};
use super::names::words;
use super::tables::{cell, Header};
use super::units::{http_status, is_blank};

const TYPE: &[&[&str]] = &[&["error", "type"], &["exception"], &["error"]];
const STATUS: &[&[&str]] = &[&["status"], &["http"]];
const CODE: &[&[&str]] = &[&["error", "code"], &["code"]];
const RETRY: &[&[&str]] = &[&["retry"], &["retryable"], &["retriable"]];

/// Reads every table with an error type column and an HTTP status column.
pub(crate) fn read(blocks: &[Block], claims: &mut Claims) {
    for b in blocks {
        let Kind::Table { header, rows } = &b.kind else {
            continue;
        };
        let h = Header(header);
        let (ty, status) = (h.col(TYPE), h.col(STATUS));
        let (Some(ty), Some(status)) = (ty, status) else {
            continue;
        };
        if ty == status {
            continue;
        }
        let code = h.col(CODE).filter(|c| *c != ty && *c != status);
        let retry = h.col(RETRY);
        for row in rows {
            let error_type = cell(row, Some(ty)).to_string();
            if error_type.is_empty() {
                continue;
            }
            let status_text = cell(row, Some(status));
            let status = http_status(status_text);
            if status.is_none() && !is_blank(status_text) {
                diag(claims, row.line, format!("HTTP status of error \"{error_type}\": could not read \"{status_text}\" (expected 100-599)"));
            }
            let code = Some(cell(row, code))
                .filter(|c| !is_blank(c))
                .map(str::to_string);
            claims.error_classes.push(ErrorClass {
                error_type,
                status,
                code,
                retryable: retryable(cell(row, retry)),
                line: row.line,
            });
        }
    }
}

/// "No" -> false, "Yes (backoff)" -> true, "-" -> None.
fn retryable(text: &str) -> Option<bool> {
    let first = words(text).into_iter().next()?;
    match first.as_str() {
        "yes" | "true" | "retry" | "retryable" | "y" => Some(true),
        "no" | "false" | "never" | "n" => Some(false),
        _ => None,
    }
}
