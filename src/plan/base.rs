//! The base scenario: what to send and where. Its `[load]`, `[[fault]]` and `[[phase]]` tables are
//! the plan's to write, so they are kept as comments (line numbers unchanged); everything else is
//! kept as written. It is read as a scenario with a placeholder schedule.

use crate::scenario::{self, Plan};

/// Tables the plan writes itself.
const REPLACED: [&str; 3] = ["[load]", "[[fault]]", "[[phase]]"];
/// Marks a line of the base the plan replaced.
pub const REPLACED_MARK: &str = "# (replaced by the plan) ";

#[derive(Debug, Clone)]
pub struct Base {
    /// The base text with the replaced tables commented out.
    pub text: String,
    pub plan: Plan,
    /// The replaced table headers with their lines ("[load] (line 12)").
    pub replaced: Vec<String>,
}

/// A table header line: `[name]` or `[[name]]`, with an optional comment after it.
fn header(line: &str) -> Option<&str> {
    let t = line.trim();
    let t = t.split_once('#').map_or(t, |(h, _)| h).trim_end();
    (t.starts_with('[') && t.ends_with(']')).then_some(t)
}

/// Reads the base; Err is the scenario reader's own message (file:line, key, expected vs found).
pub fn read(text: &str, file: &str) -> Result<Base, String> {
    let mut out = String::with_capacity(text.len() + 256);
    let mut replaced = Vec::new();
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        if let Some(h) = header(line) {
            let compact: String = h.chars().filter(|c| !c.is_whitespace()).collect();
            inside = REPLACED.contains(&compact.as_str());
            if inside {
                replaced.push(format!("{compact} (line {})", i + 1));
            }
        }
        if inside && !line.trim().is_empty() {
            out.push_str(REPLACED_MARK);
        }
        out.push_str(line);
        out.push('\n');
    }
    let probe = format!("{out}\n[load]\nstages = [ {{ duration = \"1s\", rate = 1 }} ]\n");
    let plan = scenario::parse(&probe, file).map_err(|e| e.to_string())?;
    Ok(Base {
        text: out,
        plan,
        replaced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "name = \"b\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\nallowed_hosts = [\"127.0.0.1\"]\n\
                        [load] # mine\nstages = [ { duration = \"9s\", rate = 5 } ]\n\
                        [[request]]\nname = \"get\"\npath = \"/\"\n\
                        [[dependency]]\nname = \"D\"\nlisten = \"127.0.0.1:2\"\nupstream = \"127.0.0.1:3\"\n\
                        [[fault]]\ndependency = \"D\"\nat = \"1s\"\nduration = \"1s\"\nkind = \"hang\"\n";

    #[test]
    fn the_plans_tables_become_comments_and_the_rest_stays() {
        let b = read(BASE, "base.toml").unwrap();
        assert_eq!(b.replaced, vec!["[load] (line 5)", "[[fault]] (line 14)"]);
        assert!(b.text.contains("# (replaced by the plan) [load] # mine\n"));
        assert!(b.text.contains("\n[[request]]\nname = \"get\""));
        assert!(b.text.contains("# (replaced by the plan) kind = \"hang\""));
        assert_eq!(b.plan.requests.len(), 1);
        assert!(b.plan.faults.is_empty());
        assert_eq!(b.text.lines().count(), BASE.lines().count());
    }

    #[test]
    fn a_broken_base_says_where() {
        let e = read("name = \"b\"\n[target]\nbase_url = 3\n", "base.toml").unwrap_err();
        assert!(e.contains("base.toml"), "{e}");
    }
}
