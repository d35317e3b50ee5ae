//! Request templates: `{{seq}}`, `{{random_int A B}}`, `{{uuid}}`, `{{choice a b c}}` in paths and bodies.
//!
//! Parsed once when the scenario is validated; rendering appends to a reused buffer and takes
//! its randomness from the caller's RNG, so the same seed gives the same bytes.

use std::fmt::Write as _;

use rand::Rng;

/// A parsed template: literal text and placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Seq,
    RandomInt(i64, i64),
    Uuid,
    Choice(Vec<String>),
}

impl Template {
    /// Parses `text`; the error says which placeholder is wrong and why.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| "a `{{` is never closed with `}}`".to_string())?;
            parts.push(placeholder(after[..close].trim())?);
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Template { parts })
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

    /// Appends the rendered template to `out`.
    pub fn render(&self, seq: u64, rng: &mut impl Rng, out: &mut String) {
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Seq => {
                    let _ = write!(out, "{seq}");
                }
                Part::RandomInt(a, b) => {
                    let _ = write!(out, "{}", rng.gen_range(*a..=*b));
                }
                Part::Uuid => push_uuid(rng.gen(), out),
                Part::Choice(options) => out.push_str(&options[rng.gen_range(0..options.len())]),
            }
        }
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
        _ => Err(format!("unknown placeholder `{{{{{inner}}}}}`; expected seq, random_int A B, uuid or choice a b c")),
    }
}

/// A version-4 UUID from 128 random bits, written without allocating.
fn push_uuid(bits: u128, out: &mut String) {
    let b = (bits & !(0xF000u128 << 64) | (0x4000u128 << 64)) & !(0xC000u128 << 48)
        | (0x8000u128 << 48);
    let _ = write!(
        out,
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        (b >> 96) as u32,
        (b >> 80) as u16,
        (b >> 64) as u16,
        (b >> 48) as u16,
        (b as u64) & 0xFFFF_FFFF_FFFF
    );
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
}
