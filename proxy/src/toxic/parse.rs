//! The `--toxic` command-line form: `type:key=value,...`, e.g.
//! `latency:latency=100,jitter=10,stream=upstream,toxicity=0.5`. Keys `name`, `stream` and
//! `toxicity` are the toxic's own; every other key is an attribute of its type.

use serde_json::{Map, Value};

use super::{Toxic, ToxicError, ToxicKind};

impl Toxic {
    /// Parses the `--toxic` form; unknown attribute keys are errors (unlike the JSON API, where
    /// Toxiproxy ignores them), so a typo on the command line does not pass silently.
    pub fn parse_cli(text: &str) -> Result<Toxic, ToxicError> {
        let (type_name, rest) = text.split_once(':').unwrap_or((text, ""));
        let type_name = type_name.trim();
        let known = ToxicKind::from_attributes(type_name, &Value::Null)?.attributes();
        let mut body = Map::new();
        body.insert("type".into(), Value::String(type_name.to_string()));
        let mut attrs = Map::new();
        for pair in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').ok_or_else(|| {
                ToxicError::BadBody(format!(
                    "toxic {type_name}: expected key=value, found {pair:?}"
                ))
            })?;
            let (key, value) = (key.trim(), value.trim());
            match key {
                "name" | "stream" => {
                    body.insert(key.into(), Value::String(value.to_string()));
                }
                "toxicity" => {
                    body.insert(key.into(), number(type_name, key, value)?);
                }
                _ if known.get(key).is_some() => {
                    attrs.insert(key.into(), number(type_name, key, value)?);
                }
                _ => {
                    let keys: Vec<&String> = known
                        .as_object()
                        .map(|o| o.keys().collect())
                        .unwrap_or_default();
                    return Err(ToxicError::BadAttributes(format!(
                        "toxic {type_name}: unknown key `{key}`; expected name, stream, toxicity or one of {keys:?}"
                    )));
                }
            }
        }
        body.insert("attributes".into(), Value::Object(attrs));
        Toxic::from_json(&Value::Object(body))
    }
}

fn number(type_name: &str, key: &str, value: &str) -> Result<Value, ToxicError> {
    let n: f64 = value.parse().map_err(|_| {
        ToxicError::BadAttributes(format!(
            "toxic {type_name}: field `{key}`: expected a number, found {value:?}"
        ))
    })?;
    serde_json::Number::from_f64(n)
        .map(Value::Number)
        .ok_or_else(|| {
            ToxicError::BadAttributes(format!(
                "toxic {type_name}: field `{key}`: not a finite number"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::Stream;
    use serde_json::json;

    #[test]
    fn parses_attributes_and_own_keys() {
        let t = Toxic::parse_cli(
            "latency:latency=100,jitter=10,stream=upstream,toxicity=0.5,name=slow",
        )
        .unwrap();
        assert_eq!(
            (t.name.as_str(), t.stream, t.toxicity),
            ("slow", Stream::Upstream, 0.5)
        );
        assert_eq!(t.kind.attributes(), json!({"latency": 100, "jitter": 10}));
        assert_eq!(Toxic::parse_cli("noop").unwrap().name, "noop_downstream");
    }

    #[test]
    fn rejects_typos_and_bad_values() {
        assert!(Toxic::parse_cli("latency:latncy=100")
            .unwrap_err()
            .to_string()
            .contains("latncy"));
        assert!(Toxic::parse_cli("latency:latency=slow")
            .unwrap_err()
            .to_string()
            .contains("expected a number"));
        assert!(matches!(
            Toxic::parse_cli("warp:x=1"),
            Err(ToxicError::InvalidType(_))
        ));
        assert!(Toxic::parse_cli("bandwidth:rate").is_err());
    }
}
