//! Tokens of claim text: numbers, lower-cased words and symbols, each with its byte offset.
//!
//! Claim families read prose and cells through these tokens instead of regexes over raw text, so
//! `< 30ms`, `<30 ms` and `≤ 30 ms` all look the same to them.

/// One token kind. Comparators are folded: `<=` becomes `≤`, `>=` `≥`, `+/-` `±`, `->` `→`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Num(f64),
    Word(String),
    Sym(char),
}

/// A token and where it starts in the text it was read from (byte offset).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

impl Token {
    pub fn num(&self) -> Option<f64> {
        match self.tok {
            Tok::Num(n) => Some(n),
            _ => None,
        }
    }

    pub fn word(&self) -> Option<&str> {
        match &self.tok {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }

    pub fn is_word(&self, w: &str) -> bool {
        self.word() == Some(w)
    }

    pub fn is_sym(&self, c: char) -> bool {
        self.tok == Tok::Sym(c)
    }
}

/// Splits `s` into tokens. Never fails: unknown characters become symbols.
pub(crate) fn tokenize(s: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == '.' && next_is_digit(&chars, i)) {
            let (n, next) = read_number(&chars, i);
            // A number too long for f64 is no claim anyone can test; keep it as text, never as infinity.
            let end = chars.get(next).map_or(s.len(), |c| c.0);
            let tok = if n.is_finite() {
                Tok::Num(n)
            } else {
                Tok::Word(s[pos..end].to_string())
            };
            out.push(Token { tok, pos });
            i = next;
        } else if c.is_alphabetic() || c == '_' {
            let (w, next) = read_word(&chars, i);
            out.push(Token {
                tok: Tok::Word(w),
                pos,
            });
            i = next;
        } else {
            let (sym, next) = read_symbol(&chars, i);
            out.push(Token {
                tok: Tok::Sym(sym),
                pos,
            });
            i = next;
        }
    }
    out
}

fn next_is_digit(chars: &[(usize, char)], i: usize) -> bool {
    chars.get(i + 1).is_some_and(|(_, c)| c.is_ascii_digit())
}

/// Reads `12`, `0.5`, `.5` and `1,000` (a comma followed by exactly three digits groups thousands).
fn read_number(chars: &[(usize, char)], start: usize) -> (f64, usize) {
    let mut digits = String::new();
    let mut i = start;
    let mut seen_dot = false;
    while let Some(&(_, c)) = chars.get(i) {
        if c.is_ascii_digit() {
            digits.push(c);
            i += 1;
        } else if c == '.' && !seen_dot && next_is_digit(chars, i) {
            seen_dot = true;
            digits.push('.');
            i += 1;
        } else if c == ',' && !seen_dot && thousands_group(chars, i) {
            i += 1;
        } else {
            break;
        }
    }
    let text = if digits.starts_with('.') {
        format!("0{digits}")
    } else {
        digits
    };
    (text.parse::<f64>().unwrap_or(f64::NAN), i)
}

fn thousands_group(chars: &[(usize, char)], comma: usize) -> bool {
    let three = (1..=3).all(|k| {
        chars
            .get(comma + k)
            .is_some_and(|(_, c)| c.is_ascii_digit())
    });
    let fourth_ok = !chars
        .get(comma + 4)
        .is_some_and(|(_, c)| c.is_ascii_digit());
    three && fourth_ok
}

fn read_word(chars: &[(usize, char)], start: usize) -> (String, usize) {
    let mut w = String::new();
    let mut i = start;
    while let Some(&(_, c)) = chars.get(i) {
        if c.is_alphanumeric() || c == '_' {
            w.extend(c.to_lowercase());
            i += 1;
        } else {
            break;
        }
    }
    // `p99.9` is its own percentile: keep it whole so it is never read as p99.
    if is_percentile_word(&w)
        && chars.get(i).is_some_and(|(_, c)| *c == '.')
        && next_is_digit(chars, i)
    {
        w.push('.');
        i += 1;
        while let Some(&(_, c)) = chars.get(i).filter(|(_, c)| c.is_ascii_digit()) {
            w.push(c);
            i += 1;
        }
    }
    (w, i)
}

fn is_percentile_word(w: &str) -> bool {
    w.len() > 1 && w.starts_with('p') && w[1..].chars().all(|c| c.is_ascii_digit())
}

fn read_symbol(chars: &[(usize, char)], i: usize) -> (char, usize) {
    let c = chars[i].1;
    let next = chars.get(i + 1).map(|(_, c)| *c);
    match (c, next) {
        ('<', Some('=')) => ('≤', i + 2),
        ('>', Some('=')) => ('≥', i + 2),
        ('=', Some('<')) => ('≤', i + 2),
        ('-', Some('>')) => ('→', i + 2),
        ('+', Some('/')) if chars.get(i + 2).is_some_and(|(_, c)| *c == '-') => ('±', i + 3),
        ('⩽', _) => ('≤', i + 1),
        ('⩾', _) => ('≥', i + 1),
        _ => (c, i + 1),
    }
}

/// Milliseconds in one of the time unit `w`, if `w` is a time unit.
pub(crate) fn unit_ms(w: &str) -> Option<f64> {
    Some(match w {
        "ns" => 1e-6,
        "us" | "µs" | "μs" | "usec" | "usecs" | "microsecond" | "microseconds" => 1e-3,
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => 1.0,
        "s" | "sec" | "secs" | "second" | "seconds" => 1e3,
        "m" | "min" | "mins" | "minute" | "minutes" => 60e3,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600e3,
        "d" | "day" | "days" => 86_400e3,
        _ => return None,
    })
}

/// Reads a duration (`30ms`, `0.5 s`, `2min`) starting at token `i`: (milliseconds, next token).
pub(crate) fn duration_at(toks: &[Token], i: usize) -> Option<(f64, usize)> {
    let n = toks.get(i)?.num()?;
    let unit = unit_ms(toks.get(i + 1)?.word()?)?;
    Some((n * unit, i + 2))
}

/// Reads a percentage (`5%`, `99.9 %`, `5 percent`) at token `i`: (fraction, next token).
pub(crate) fn percent_at(toks: &[Token], i: usize) -> Option<(f64, usize)> {
    let n = toks.get(i)?.num()?;
    let next = toks.get(i + 1)?;
    if next.is_sym('%') || next.is_word("percent") {
        Some((n / 100.0, i + 2))
    } else {
        None
    }
}

/// True for tokens that mean "at most": `<`, `≤`, `under`, `below`, `within`.
pub(crate) fn is_at_most(t: &Token) -> bool {
    t.is_sym('<') || t.is_sym('≤') || matches!(t.word(), Some("under" | "below" | "within"))
}

/// True for tokens that mean "above": `>`, `≥`, `above`, `over`, `exceeds`.
pub(crate) fn is_above(t: &Token) -> bool {
    t.is_sym('>')
        || t.is_sym('≥')
        || matches!(
            t.word(),
            Some("above" | "over" | "exceeds" | "exceed" | "exceeding")
        )
}

/// Skips "at most"/"less than"/"up to"/"max" words and `<`-like symbols from `i`.
pub(crate) fn skip_at_most(toks: &[Token], mut i: usize) -> usize {
    while let Some(t) = toks.get(i) {
        let filler = matches!(
            t.word(),
            Some("at" | "most" | "less" | "than" | "up" | "to" | "max" | "maximum")
        );
        if is_at_most(t) || filler || t.is_sym('=') {
            i += 1;
        } else {
            break;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        tokenize(s).into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_units_and_comparators() {
        assert_eq!(
            kinds("<0.7s"),
            vec![Tok::Sym('<'), Tok::Num(0.7), Tok::Word("s".into())]
        );
        assert_eq!(kinds("<= 40 ms")[0], Tok::Sym('≤'));
        assert_eq!(
            kinds("+/-20%"),
            vec![Tok::Sym('±'), Tok::Num(20.0), Tok::Sym('%')]
        );
        assert_eq!(kinds("1,000 rps")[0], Tok::Num(1000.0));
        assert_eq!(kinds("1,2")[0], Tok::Num(1.0));
        assert_eq!(kinds("P99.9 P95")[0], Tok::Word("p99.9".into()));
        assert_eq!(kinds("250µs")[1], Tok::Word("µs".into()));
        assert!(matches!(&kinds(&"9".repeat(400))[0], Tok::Word(_)));
    }

    #[test]
    fn durations_and_percentages() {
        let t = tokenize("2 min 5%");
        assert_eq!(duration_at(&t, 0), Some((120_000.0, 2)));
        assert_eq!(percent_at(&t, 2), Some((0.05, 4)));
        assert_eq!(duration_at(&tokenize("30"), 0), None);
    }
}
