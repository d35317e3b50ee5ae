//! Redaction of sampled bodies: the values `{{env NAME}}` resolved to and the values of secret
//! headers the scenario sends are replaced wherever a body repeats them, and JSON fields with a
//! secret name (built-in names plus `[target] secret_fields`) lose their values.

use serde_json::Value;

use crate::scenario::{Plan, Template};

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// JSON field names always redacted (compared lowercased, `-` as `_`).
const FIELDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "set_cookie",
    "private_key",
];

/// Header names whose values are secret.
fn secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "x-api-key" | "api-key"
    ) || n.contains("token")
        || n.contains("secret")
        || n.contains("password")
}

/// The secrets of one plan.
#[derive(Debug, Default)]
pub struct Redactor {
    /// Literal values to blank in text (longest first, at least 4 bytes: shorter would blank
    /// ordinary words).
    values: Vec<String>,
    fields: Vec<String>,
}

fn field_key(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

impl Redactor {
    pub fn new(plan: &Plan) -> Self {
        let mut values = Vec::new();
        let mut add = |t: &Template, header: Option<&str>| {
            values.extend(t.env_values().iter().cloned());
            if header.is_some_and(secret_header) {
                values.extend(t.literals().map(str::to_string));
                // "Bearer abc": the credential alone is repeated too.
                if let Some(s) = t.as_static() {
                    if let Some((_, cred)) = s.split_once(' ') {
                        values.push(cred.to_string());
                    }
                }
            }
        };
        for (name, t) in &plan.target.header_templates {
            add(t, Some(name));
        }
        for r in &plan.requests {
            for (name, t) in &r.header_templates {
                add(t, Some(name));
            }
            add(&r.path, None);
            add(&r.body, None);
        }
        values.retain(|v| v.len() >= 4);
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        let mut fields: Vec<String> = FIELDS.iter().map(|f| f.to_string()).collect();
        fields.extend(plan.target.secret_fields.iter().map(|f| field_key(f)));
        Redactor { values, fields }
    }

    /// `text` with every secret value replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), REDACTED);
            }
        }
        out
    }

    /// `json` with secret fields' values and secret values in strings replaced.
    pub fn json(&self, json: &mut Value) {
        match json {
            Value::String(s) => {
                let r = self.text(s);
                if r != *s {
                    *s = r;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if self.fields.contains(&field_key(k)) && !v.is_null() {
                        *v = Value::String(REDACTED.to_string());
                    } else {
                        self.json(v);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(extra_target: &str, header: &str) -> Plan {
        let src = format!(
            "name = \"t\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\nallowed_hosts = [\"127.0.0.1\"]\n{extra_target}\n[load]\nstages = [ {{ duration = \"1s\", rate = 1 }} ]\n[[request]]\nname = \"r\"\npath = \"/\"\n{header}\n"
        );
        crate::scenario::parse(&src, "t.toml").unwrap()
    }

    #[test]
    fn env_values_secret_headers_and_fields_are_redacted() {
        std::env::set_var("REDLINE_REDACT_TEST", "s3cr3t-value");
        let p = plan(
            "secret_fields = [\"ssn\"]\nheaders = { authorization = \"Bearer tok-12345\" }",
            "body = '{\"k\": \"{{env REDLINE_REDACT_TEST}}\"}'",
        );
        let r = Redactor::new(&p);
        assert_eq!(
            r.text("echo s3cr3t-value and tok-12345"),
            "echo [redacted] and [redacted]"
        );
        let mut v: Value = serde_json::json!({
            "user": {"SSN": "123", "Password": "pw", "name": "ann"},
            "echo": ["s3cr3t-value"], "access-token": null
        });
        r.json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "user": {"SSN": REDACTED, "Password": REDACTED, "name": "ann"},
                "echo": [REDACTED], "access-token": null
            })
        );
    }
}
