//! Table columns found by the words of their headers, so columns may come in any order, with extras.

use super::markdown::Row;
use super::names::words;
use super::tokens::unit_ms;

/// A table's header, asked for columns by words.
pub(crate) struct Header<'a>(pub &'a Row);

impl Header<'_> {
    /// The first column whose header contains all the words of the first of `alternatives` that any
    /// header matches (alternatives are in order of preference; a plural matches its singular).
    pub fn col(&self, alternatives: &[&[&str]]) -> Option<usize> {
        alternatives.iter().find_map(|alt| {
            self.0.cells.iter().position(|h| {
                let ws = words(h);
                alt.iter().all(|w| ws.iter().any(|x| same_word(x, w)))
            })
        })
    }

    /// The time unit a header names for bare numbers in its column: "P95 (ms)" -> 1.0.
    pub fn unit_ms(&self, col: usize) -> Option<f64> {
        let h = self.0.cells.get(col)?;
        words(h).iter().skip(1).find_map(|w| unit_ms(w))
    }

    pub fn text(&self, col: usize) -> &str {
        self.0.cells.get(col).map_or("", String::as_str)
    }
}

fn same_word(x: &str, w: &str) -> bool {
    x == w || x.strip_suffix('s') == Some(w) || x.strip_suffix("es") == Some(w)
}

/// The cell of `row` in column `col`, or "" when the column or the cell is missing.
pub(crate) fn cell(row: &Row, col: Option<usize>) -> &str {
    col.and_then(|c| row.cells.get(c))
        .map_or("", String::as_str)
}
