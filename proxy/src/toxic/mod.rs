//! Toxiproxy's toxics: their JSON shape (names, types, streams, toxicity, attributes with
//! Toxiproxy's names and defaults) and, one file per toxic, the pure parts of their behaviour.
//!
//! The TCP relay (`crate::tcp`) drives these on each connection; nothing here does I/O.

pub mod bandwidth;
pub mod latency;
pub mod limit_data;
pub mod noop;
mod parse;
pub mod reset_peer;
pub mod slicer;
pub mod slow_close;
pub mod timeout;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Which way the bytes flow that a toxic acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// Client to upstream (requests).
    Upstream,
    /// Upstream to client (responses); Toxiproxy's default.
    Downstream,
}

impl Stream {
    /// Parses Toxiproxy's stream names, case-insensitively as Toxiproxy does.
    pub fn parse(s: &str) -> Option<Stream> {
        if s.eq_ignore_ascii_case("upstream") {
            Some(Stream::Upstream)
        } else if s.eq_ignore_ascii_case("downstream") {
            Some(Stream::Downstream)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Upstream => "upstream",
            Stream::Downstream => "downstream",
        }
    }
}

/// A toxic's type with its attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum ToxicKind {
    Latency(latency::Latency),
    Bandwidth(bandwidth::Bandwidth),
    SlowClose(slow_close::SlowClose),
    Timeout(timeout::Timeout),
    ResetPeer(reset_peer::ResetPeer),
    Slicer(slicer::Slicer),
    LimitData(limit_data::LimitData),
    Noop(noop::Noop),
}

/// The toxic type names Toxiproxy knows and we implement.
pub const TYPES: &[&str] = &[
    "latency",
    "bandwidth",
    "slow_close",
    "timeout",
    "reset_peer",
    "slicer",
    "limit_data",
    "noop",
];

impl ToxicKind {
    /// Builds a toxic of `type_name` from a JSON attribute object; missing attributes take
    /// Toxiproxy's defaults (zero) and unknown ones are ignored, as Toxiproxy does.
    pub fn from_attributes(type_name: &str, attrs: &Value) -> Result<ToxicKind, ToxicError> {
        fn de<T: DeserializeOwned>(attrs: &Value) -> Result<T, ToxicError> {
            serde_json::from_value(attrs.clone())
                .map_err(|e| ToxicError::BadAttributes(e.to_string()))
        }
        let attrs = if attrs.is_null() {
            &Value::Object(Map::new())
        } else {
            attrs
        };
        if !attrs.is_object() {
            return Err(ToxicError::BadAttributes(
                "attributes must be a JSON object".into(),
            ));
        }
        Ok(match type_name {
            "latency" => ToxicKind::Latency(de(attrs)?),
            "bandwidth" => ToxicKind::Bandwidth(de(attrs)?),
            "slow_close" => ToxicKind::SlowClose(de(attrs)?),
            "timeout" => ToxicKind::Timeout(de(attrs)?),
            "reset_peer" => ToxicKind::ResetPeer(de(attrs)?),
            "slicer" => ToxicKind::Slicer(de(attrs)?),
            "limit_data" => ToxicKind::LimitData(de(attrs)?),
            "noop" => ToxicKind::Noop(de(attrs)?),
            other => return Err(ToxicError::InvalidType(other.to_string())),
        })
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            ToxicKind::Latency(_) => "latency",
            ToxicKind::Bandwidth(_) => "bandwidth",
            ToxicKind::SlowClose(_) => "slow_close",
            ToxicKind::Timeout(_) => "timeout",
            ToxicKind::ResetPeer(_) => "reset_peer",
            ToxicKind::Slicer(_) => "slicer",
            ToxicKind::LimitData(_) => "limit_data",
            ToxicKind::Noop(_) => "noop",
        }
    }

    /// The attributes as Toxiproxy reports them (every attribute of the type, defaults included).
    pub fn attributes(&self) -> Value {
        let v = match self {
            ToxicKind::Latency(a) => serde_json::to_value(a),
            ToxicKind::Bandwidth(a) => serde_json::to_value(a),
            ToxicKind::SlowClose(a) => serde_json::to_value(a),
            ToxicKind::Timeout(a) => serde_json::to_value(a),
            ToxicKind::ResetPeer(a) => serde_json::to_value(a),
            ToxicKind::Slicer(a) => serde_json::to_value(a),
            ToxicKind::LimitData(a) => serde_json::to_value(a),
            ToxicKind::Noop(a) => serde_json::to_value(a),
        };
        v.unwrap_or_else(|_| Value::Object(Map::new()))
    }
}

/// One named toxic on a proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct Toxic {
    pub name: String,
    pub kind: ToxicKind,
    pub stream: Stream,
    /// Probability that the toxic applies to a given connection (decided once per connection
    /// when the toxic starts on it, as Toxiproxy does).
    pub toxicity: f64,
}

/// A partial update: Toxiproxy merges `attributes` into the current ones and replaces
/// `toxicity` when given; name, type and stream cannot change.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ToxicPatch {
    #[serde(default)]
    pub toxicity: Option<f64>,
    #[serde(default)]
    pub attributes: Option<Map<String, Value>>,
}

/// Why a toxic could not be created, found or changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ToxicError {
    #[error("bad request body: {0}")]
    BadBody(String),
    #[error("stream was invalid, can be either upstream or downstream")]
    InvalidStream,
    #[error("invalid toxic type")]
    InvalidType(String),
    #[error("bad request body: {0}")]
    BadAttributes(String),
    #[error("toxic already exists")]
    AlreadyExists(String),
    #[error("toxic not found")]
    NotFound(String),
}

impl ToxicError {
    /// The HTTP status Toxiproxy answers with for this error.
    pub fn status(&self) -> u16 {
        match self {
            ToxicError::AlreadyExists(_) => 409,
            ToxicError::NotFound(_) => 404,
            _ => 400,
        }
    }
}

impl Toxic {
    /// A toxic with Toxiproxy's defaults: downstream, toxicity 1, name `<type>_<stream>`.
    pub fn new(kind: ToxicKind) -> Toxic {
        let stream = Stream::Downstream;
        Toxic {
            name: format!("{}_{}", kind.type_name(), stream.as_str()),
            kind,
            stream,
            toxicity: 1.0,
        }
    }

    /// Parses a Toxiproxy toxic-create body (`{name?, type, stream?, toxicity?, attributes?}`).
    pub fn from_json(body: &Value) -> Result<Toxic, ToxicError> {
        let obj = body
            .as_object()
            .ok_or_else(|| ToxicError::BadBody("expected a JSON object".into()))?;
        let text = |key: &str| -> Result<Option<&str>, ToxicError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(other) => Err(ToxicError::BadBody(format!(
                    "field `{key}` must be a string, found {other}"
                ))),
            }
        };
        let stream = match text("stream")? {
            None => Stream::Downstream,
            Some(s) => Stream::parse(s).ok_or(ToxicError::InvalidStream)?,
        };
        let type_name = text("type")?.unwrap_or("");
        let toxicity = match obj.get("toxicity") {
            None | Some(Value::Null) => 1.0,
            Some(v) => v.as_f64().ok_or_else(|| {
                ToxicError::BadBody(format!("field `toxicity` must be a number, found {v}"))
            })?,
        };
        let name = match text("name")? {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => format!("{}_{}", type_name, stream.as_str()),
        };
        if !TYPES.contains(&type_name) {
            return Err(ToxicError::InvalidType(type_name.to_string()));
        }
        let kind =
            ToxicKind::from_attributes(type_name, obj.get("attributes").unwrap_or(&Value::Null))?;
        Ok(Toxic {
            name,
            kind,
            stream,
            toxicity,
        })
    }

    /// This toxic with `patch` applied (attributes merged key by key, as Toxiproxy does).
    pub fn patched(&self, patch: &ToxicPatch) -> Result<Toxic, ToxicError> {
        let mut attrs = self.kind.attributes();
        if let (Some(changes), Value::Object(current)) = (&patch.attributes, &mut attrs) {
            for (k, v) in changes {
                current.insert(k.clone(), v.clone());
            }
        }
        let kind = ToxicKind::from_attributes(self.kind.type_name(), &attrs)?;
        let toxicity = patch.toxicity.unwrap_or(self.toxicity);
        Ok(Toxic {
            name: self.name.clone(),
            kind,
            stream: self.stream,
            toxicity,
        })
    }

    /// Toxiproxy's JSON shape for a toxic.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "name": self.name,
            "type": self.kind.type_name(),
            "stream": self.stream.as_str(),
            "toxicity": self.toxicity,
            "attributes": self.kind.attributes(),
        })
    }
}

impl Serialize for Toxic {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// Deserialises an integer attribute leniently: JSON numbers with a fraction are truncated
/// (Toxiproxy rejects them; clients in dynamic languages often send `100.0`).
pub(crate) fn int_attr<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = f64::deserialize(d)?;
    if !v.is_finite() {
        return Err(serde::de::Error::custom("expected a finite number"));
    }
    Ok(v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_follow_toxiproxy() {
        let t =
            Toxic::from_json(&json!({"type": "latency", "attributes": {"latency": 100}})).unwrap();
        assert_eq!(t.name, "latency_downstream");
        assert_eq!(t.stream, Stream::Downstream);
        assert_eq!(t.toxicity, 1.0);
        assert_eq!(
            t.to_json()["attributes"],
            json!({"latency": 100, "jitter": 0})
        );
    }

    #[test]
    fn stream_is_case_insensitive_and_checked() {
        let t = Toxic::from_json(&json!({"type": "noop", "stream": "UpStream"})).unwrap();
        assert_eq!(t.stream, Stream::Upstream);
        assert_eq!(t.name, "noop_upstream");
        let e = Toxic::from_json(&json!({"type": "noop", "stream": "sideways"})).unwrap_err();
        assert_eq!(e, ToxicError::InvalidStream);
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn unknown_type_is_rejected() {
        let e = Toxic::from_json(&json!({"type": "nope"})).unwrap_err();
        assert!(matches!(e, ToxicError::InvalidType(_)));
        assert_eq!(e.to_string(), "invalid toxic type");
    }

    #[test]
    fn bad_attribute_type_is_a_bad_body() {
        let e = Toxic::from_json(&json!({"type": "latency", "attributes": {"latency": "slow"}}))
            .unwrap_err();
        assert!(matches!(e, ToxicError::BadAttributes(_)));
    }

    #[test]
    fn patch_merges_attributes_and_keeps_identity() {
        let t = Toxic::from_json(
            &json!({"type": "latency", "attributes": {"latency": 100, "jitter": 5}}),
        )
        .unwrap();
        let p: ToxicPatch = serde_json::from_value(json!({"attributes": {"jitter": 9}})).unwrap();
        let u = t.patched(&p).unwrap();
        assert_eq!(
            u.to_json()["attributes"],
            json!({"latency": 100, "jitter": 9})
        );
        assert_eq!(u.name, t.name);
        let p: ToxicPatch = serde_json::from_value(json!({"toxicity": 0.5})).unwrap();
        assert_eq!(t.patched(&p).unwrap().toxicity, 0.5);
    }

    #[test]
    fn toxicity_prints_as_given() {
        let t = Toxic::from_json(&json!({"type": "noop", "toxicity": 0.1})).unwrap();
        assert_eq!(t.to_json()["toxicity"], json!(0.1));
    }

    #[test]
    fn every_type_round_trips_its_attributes() {
        for ty in TYPES {
            let t = Toxic::from_json(&json!({"type": ty})).unwrap();
            let again = ToxicKind::from_attributes(ty, &t.kind.attributes()).unwrap();
            assert_eq!(again, t.kind, "{ty}");
        }
    }
}
