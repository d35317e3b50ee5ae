//! HTML `<table>`s in a spec, read into the same header and rows as a Markdown table: tags removed,
//! entities decoded, a `colspan` cell repeated so columns line up, each row with its source line.

use super::markdown::{Row, Text};

/// The header and rows of the first table in `html`; None when it has no row.
pub(crate) fn parse(html: &Text) -> Option<(Row, Vec<Row>)> {
    let s = &html.s;
    let lower = s.to_ascii_lowercase();
    let end = lower.find("</table").unwrap_or(s.len());
    let mut rows: Vec<(Row, bool)> = Vec::new();
    let mut at = 0;
    while let Some(k) = find_tag(&lower[..end], at, "tr") {
        let stop = [
            find_from(&lower[..end], k + 3, "</tr"),
            find_tag(&lower[..end], k + 3, "tr"),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(end);
        let (cells, has_th) = cells(&s[k..stop], &lower[k..stop]);
        rows.push((
            Row {
                cells,
                line: html.line_at(k),
            },
            has_th,
        ));
        at = stop;
    }
    if rows.is_empty() {
        return None;
    }
    let (header, _) = rows.remove(0);
    Some((header, rows.into_iter().map(|(r, _)| r).collect()))
}

/// The cells of one `<tr>` (its text and lower-cased text): texts, and whether any was a `<th>`.
fn cells(s: &str, lower: &str) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut has_th = false;
    let mut at = 0;
    loop {
        let next = [find_tag(lower, at, "td"), find_tag(lower, at, "th")]
            .into_iter()
            .flatten()
            .min();
        let Some(k) = next else { break };
        has_th |= lower[k..].starts_with("<th");
        let Some(open_end) = lower[k..].find('>').map(|e| k + e + 1) else {
            break;
        };
        let stop = [
            find_from(lower, open_end, "</td"),
            find_from(lower, open_end, "</th"),
            find_tag(lower, open_end, "td"),
            find_tag(lower, open_end, "th"),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(s.len());
        let text = clean(&s[open_end..stop]);
        let span = colspan(&lower[k..open_end]).clamp(1, 32);
        for _ in 0..span {
            out.push(text.clone());
        }
        at = stop;
    }
    (out, has_th)
}

/// The next `<name` tag (followed by `>` or whitespace) at or after `from`.
fn find_tag(lower: &str, from: usize, name: &str) -> Option<usize> {
    let pat = format!("<{name}");
    let mut at = from;
    while let Some(k) = find_from(lower, at, &pat) {
        let after = lower[k + pat.len()..].chars().next();
        if after.is_some_and(|c| c == '>' || c.is_whitespace() || c == '/') {
            return Some(k);
        }
        at = k + pat.len();
    }
    None
}

fn find_from(s: &str, from: usize, pat: &str) -> Option<usize> {
    s.get(from..)?.find(pat).map(|k| from + k)
}

fn colspan(tag: &str) -> usize {
    let Some(k) = tag.find("colspan") else {
        return 1;
    };
    let digits: String = tag[k + 7..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap_or(1)
}

/// Cell text: tags removed, entities decoded, whitespace collapsed.
fn clean(s: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let decoded = decode(&text);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn decode(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(k) = rest.find('&') {
        out.push_str(&rest[..k]);
        let tail = &rest[k..];
        let semi = tail.find(';').filter(|e| *e <= 10);
        let entity = semi.map(|e| &tail[1..e]);
        let ch = entity.and_then(|e| match e {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "le" => Some('≤'),
            "ge" => Some('≥'),
            "nbsp" => Some(' '),
            "quot" => Some('"'),
            "mu" | "micro" => Some('µ'),
            _ => {
                let n = e.strip_prefix('#')?;
                let code = match n.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => n.parse().ok()?,
                };
                char::from_u32(code)
            }
        });
        match (ch, semi) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &tail[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_cells_spans_and_entities() {
        let html = "<table>\n<tr><th>Operation</th><th colspan=\"2\">P95 / P99</th></tr>\n<tr><td><b>GET</b> /a</td><td>&lt; 80ms</td><td>&le;&nbsp;1&nbsp;s</td></tr>\n</table>";
        let text = Text::single(html.to_string(), 10);
        let (h, rows) = parse(&text).unwrap();
        assert_eq!(h.cells, ["Operation", "P95 / P99", "P95 / P99"]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].cells, ["GET /a", "< 80ms", "≤ 1 s"]);
        assert!(parse(&Text::single("<table></table>".into(), 1)).is_none());
    }
}
