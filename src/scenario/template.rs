//! Request templates: `{{seq}}`, `{{random_int A B}}`, `{{uuid}}`, `{{choice a b c}}` in paths,
//! bodies and header values, and `{{env NAME}}`, resolved once when the scenario is loaded.
//!
//! Parsed once when the scenario is validated; rendering appends to a reused buffer and takes
//! its randomness from the caller's RNG, so the same seed gives the same bytes. A template keeps
//! the text as written, so what is shown of it never holds a value read from the environment.

use rand::Rng;

/// A parsed template: literal text and placeholders.
#[derive(Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
    /// The text as written (`{{env NAME}}` unresolved): safe to print.
    source: String,
    /// Whether an `{{env NAME}}` was resolved into the literal parts.
    secret: bool,
    /// The values `{{env NAME}}` resolved to (redacted wherever a sampled body repeats them).
    env_values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Seq,
    RandomInt(i64, i64),
    Uuid,
    Choice(Vec<String>),
}

/// Looks up `{{env NAME}}`: the value, or why there is none.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// The process environment, as `{{env NAME}}` sees it.
pub fn process_env(name: &str) -> Result<String, String> {
    match std::env::var(name) {
        Ok(v) => Ok(v),
        Err(std::env::VarError::NotPresent) => {
            Err(format!("environment variable {name} is not set"))
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(format!("environment variable {name} is not valid UTF-8"))
        }
    }
}

/// Debug shows the text as written, so a plan printed with `{:?}` leaks no secret.
impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Template").field(&self.source).finish()
    }
}

impl Template {
    /// Parses `text`, reading `{{env NAME}}` from the process environment; the error says which
    /// placeholder is wrong and why.
    pub fn parse(text: &str) -> Result<Template, String> {
        Template::parse_with_env(text, &process_env)
    }

    /// Parses `text`, resolving `{{env NAME}}` with `env` (once, here: never per request).
    pub fn parse_with_env(text: &str, env: EnvLookup) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut secret = false;
        let mut env_values = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            push_literal(&mut parts, &rest[..open]);
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| "a `{{` is never closed with `}}`".to_string())?;
            let inner = after[..close].trim();
            match env_name(inner)? {
                Some(name) => {
                    let value = env(name)?;
                    push_literal(&mut parts, &value);
                    env_values.push(value);
                    secret = true;
                }
                None => parts.push(placeholder(inner)?),
            }
            rest = &after[close + 2..];
        }
        push_literal(&mut parts, rest);
        Ok(Template {
            parts,
            source: text.to_string(),
            secret,
            env_values,
        })
    }

    /// The text as written, with `{{env NAME}}` unresolved: what reports and logs may show.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether a value read from the environment is part of this template.
    pub fn has_env(&self) -> bool {
        self.secret
    }

    /// The values read from the environment into this template (never shown: redacted).
    pub fn env_values(&self) -> &[String] {
        &self.env_values
    }

    /// The text when the template has no placeholders (so callers can build it once).
    pub fn as_static(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Literal(s)] => Some(s),
            _ => None,
        }
    }

    /// The literal text between placeholders.
    pub fn literals(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Literal(s) => Some(s.as_str()),
            _ => None,
        })
    }

    /// Checks that every byte this template can render passes `ok`: literal text (values from
    /// the environment included) and `choice` options are checked here; `seq`, `random_int` and
    /// `uuid` render only digits, `-` and hex letters. The error never quotes an env value.
    pub fn check_bytes(&self, ok: impl Fn(u8) -> bool, what: &str) -> Result<(), String> {
        for part in &self.parts {
            match part {
                Part::Literal(s) if !s.bytes().all(&ok) => {
                    let from = if self.secret {
                        "the text (or an environment variable's value)"
                    } else {
                        "the text"
                    };
                    return Err(format!("{from} holds a character not allowed in {what}"));
                }
                Part::Choice(options) => {
                    if let Some(bad) = options.iter().find(|o| !o.bytes().all(&ok)) {
                        return Err(format!(
                            "`choice` option {bad:?} holds a character not allowed in {what}"
                        ));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Appends the rendered template to `out`.
    pub fn render(&self, seq: u64, rng: &mut impl Rng, out: &mut String) {
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Seq => push_u64(seq, out),
                Part::RandomInt(a, b) => {
                    let v: i64 = rng.gen_range(*a..=*b);
                    if v < 0 {
                        out.push('-');
                    }
                    push_u64(v.unsigned_abs(), out);
                }
                Part::Uuid => push_uuid(rng.gen(), out),
                Part::Choice(options) => out.push_str(&options[rng.gen_range(0..options.len())]),
            }
        }
    }
}

fn push_literal(parts: &mut Vec<Part>, text: &str) {
    if text.is_empty() {
        return;
    }
    // Adjacent literals merge, so a template of text and env values stays static.
    if let Some(Part::Literal(last)) = parts.last_mut() {
        last.push_str(text);
    } else {
        parts.push(Part::Literal(text.to_string()));
    }
}

/// `Some(NAME)` for `env NAME`; an error for `env` with a wrong number of words.
fn env_name(inner: &str) -> Result<Option<&str>, String> {
    let mut words = inner.split_whitespace();
    if words.next() != Some("env") {
        return Ok(None);
    }
    match (words.next(), words.next()) {
        (Some(name), None) => Ok(Some(name)),
        _ => Err("`env` takes one variable name: {{env NAME}}".into()),
    }
}

fn placeholder(inner: &str) -> Result<Part, String> {
    let mut words = inner.split_whitespace();
    let name = words.next().unwrap_or("");
    let args: Vec<&str> = words.collect();
    match (name, args.as_slice()) {
        ("seq", []) => Ok(Part::Seq),
        ("uuid", []) => Ok(Part::Uuid),
        ("random_int", [a, b]) => {
            let a: i64 = a.parse().map_err(|_| format!("`random_int` needs two integers, found `{a}`"))?;
            let b: i64 = b.parse().map_err(|_| format!("`random_int` needs two integers, found `{b}`"))?;
            if a > b {
                return Err(format!("`random_int {a} {b}`: the first bound must not exceed the second"));
            }
            Ok(Part::RandomInt(a, b))
        }
        ("random_int", _) => Err("`random_int` takes two integers: {{random_int A B}}".into()),
        ("choice", []) => Err("`choice` needs at least one option: {{choice a b c}}".into()),
        ("choice", opts) => Ok(Part::Choice(opts.iter().map(|s| s.to_string()).collect())),
        ("seq" | "uuid", _) => Err(format!("`{name}` takes no arguments")),
        _ => Err(format!("unknown placeholder `{{{{{inner}}}}}`; expected seq, random_int A B, uuid, choice a b c or env NAME")),
    }
}

/// Decimal digits of `n`, formatted by hand: `write!` costs several times more per request.
fn push_u64(mut n: u64, out: &mut String) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

/// A version-4 UUID from 128 random bits, written without allocating or `write!`.
fn push_uuid(bits: u128, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = (bits & !(0xF000u128 << 64) | (0x4000u128 << 64)) & !(0xC000u128 << 48)
        | (0x8000u128 << 48);
    let mut buf = [0u8; 36];
    let mut j = 0;
    for i in 0..32 {
        if matches!(i, 8 | 12 | 16 | 20) {
            buf[j] = b'-';
            j += 1;
        }
        buf[j] = HEX[((b >> (124 - 4 * i)) & 0xF) as usize];
        j += 1;
    }
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    use super::*;

    fn render(t: &str, seq: u64, seed: u64) -> String {
        let mut out = String::new();
        Template::parse(t)
            .unwrap()
            .render(seq, &mut SmallRng::seed_from_u64(seed), &mut out);
        out
    }

    #[test]
    fn renders_placeholders() {
        assert_eq!(render("/items/{{seq}}", 42, 1), "/items/42");
        let v: i64 = render("{{random_int 1 3}}", 0, 1).parse().unwrap();
        assert!((1..=3).contains(&v));
        assert!(["a", "b"].contains(&render("{{choice a b}}", 0, 3).as_str()));
        let u = render("{{uuid}}", 0, 9);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }

    #[test]
    fn same_seed_same_text() {
        let t = "/x/{{random_int 1 1000000}}/{{uuid}}";
        assert_eq!(render(t, 0, 5), render(t, 0, 5));
        assert_ne!(render(t, 0, 5), render(t, 0, 6));
    }

    #[test]
    fn static_templates_are_detected() {
        assert_eq!(
            Template::parse("/health").unwrap().as_static(),
            Some("/health")
        );
        assert_eq!(Template::parse("/x/{{seq}}").unwrap().as_static(), None);
    }

    #[test]
    fn bad_placeholders_are_explained() {
        assert!(Template::parse("/x/{{seq")
            .unwrap_err()
            .contains("never closed"));
        assert!(Template::parse("{{random_int 5 1}}")
            .unwrap_err()
            .contains("must not exceed"));
        assert!(Template::parse("{{nope}}")
            .unwrap_err()
            .contains("unknown placeholder"));
    }

    fn env(name: &str) -> Result<String, String> {
        match name {
            "TOKEN" => Ok("s3cret".into()),
            _ => Err(format!("environment variable {name} is not set")),
        }
    }

    #[test]
    fn env_is_resolved_once_into_literal_text() {
        let t = Template::parse_with_env("Bearer {{ env TOKEN }}!", &env).unwrap();
        assert_eq!(t.as_static(), Some("Bearer s3cret!"));
        assert!(t.has_env());
        assert_eq!(t.source(), "Bearer {{ env TOKEN }}!");
        let t = Template::parse_with_env("/{{env TOKEN}}/{{seq}}", &env).unwrap();
        let mut out = String::new();
        t.render(7, &mut SmallRng::seed_from_u64(1), &mut out);
        assert_eq!(out, "/s3cret/7");
        assert!(!Template::parse("x{{seq}}").unwrap().has_env());
    }

    #[test]
    fn env_errors_are_explained() {
        let e = Template::parse_with_env("{{env NOPE}}", &env).unwrap_err();
        assert_eq!(e, "environment variable NOPE is not set");
        assert!(Template::parse_with_env("{{env}}", &env)
            .unwrap_err()
            .contains("one variable name"));
        assert!(Template::parse_with_env("{{env A B}}", &env)
            .unwrap_err()
            .contains("one variable name"));
    }

    #[test]
    fn debug_and_errors_never_show_env_values() {
        let t = Template::parse_with_env("k-{{env TOKEN}}", &env).unwrap();
        assert!(!format!("{t:?}").contains("s3cret"), "{t:?}");
        let no_s = |b: u8| b != b's';
        let e = t.check_bytes(no_s, "here").unwrap_err();
        assert!(!e.contains("s3cret") && e.contains("environment"), "{e}");
    }

    #[test]
    fn check_bytes_covers_literals_and_choices() {
        let header = |b: u8| b == b'\t' || (b' '..0x7f).contains(&b);
        let ok = Template::parse("id-{{seq}}-{{uuid}}-{{random_int -5 5}}-{{choice a b}}").unwrap();
        assert_eq!(ok.check_bytes(header, "a header"), Ok(()));
        let bad = Template::parse("{{choice a \u{1}b}}").unwrap();
        assert!(bad
            .check_bytes(header, "a header")
            .unwrap_err()
            .contains("`choice` option"));
        let bad = Template::parse("caf\u{e9} {{seq}}").unwrap();
        assert!(bad.check_bytes(header, "a header").is_err());
    }

    #[test]
    fn hand_formatting_matches_std() {
        for n in [0u64, 7, 10, 99, 12345, u64::MAX] {
            let mut out = String::new();
            push_u64(n, &mut out);
            assert_eq!(out, n.to_string());
        }
        let t = Template::parse("{{random_int -1000 1000}}").unwrap();
        for seed in 0..50 {
            let v: i64 = render("{{random_int -1000 1000}}", 0, seed)
                .parse()
                .unwrap();
            assert!((-1000..=1000).contains(&v), "{v}");
        }
        assert_eq!(t.as_static(), None);
        for bits in [0u128, u128::MAX, 0x0123_4567_89ab_cdef_0123_4567_89ab_cdef] {
            let b = (bits & !(0xF000u128 << 64) | (0x4000u128 << 64)) & !(0xC000u128 << 48)
                | (0x8000u128 << 48);
            let expected = format!(
                "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                (b >> 96) as u32,
                (b >> 80) as u16,
                (b >> 64) as u16,
                (b >> 48) as u16,
                (b as u64) & 0xFFFF_FFFF_FFFF
            );
            let mut out = String::new();
            push_uuid(bits, &mut out);
            assert_eq!(out, expected);
        }
    }
}
