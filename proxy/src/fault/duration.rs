//! `Ms`: a duration written as "250ms" / "2s" / "1.5m" or as integer milliseconds, in JSON and on the CLI.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// A non-negative duration that serialises as milliseconds and parses from "250ms", "2s", "1m",
/// "500us" or a bare number of milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Ms(pub Duration);

impl Ms {
    pub fn from_millis(ms: u64) -> Ms {
        Ms(Duration::from_millis(ms))
    }

    pub fn as_millis_f64(self) -> f64 {
        self.0.as_secs_f64() * 1000.0
    }

    /// Parses "250ms", "2s", "1.5s", "1m", "1h", "500us" or "250" (milliseconds).
    pub fn parse(text: &str) -> Result<Ms, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let value: f64 = num.parse().map_err(|_| {
            format!("a duration like \"250ms\", \"2s\" or integer milliseconds, found {text:?}")
        })?;
        let scale_ms = match unit.trim() {
            "" | "ms" => 1.0,
            "us" | "µs" => 0.001,
            "s" => 1000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            other => {
                return Err(format!(
                    "a duration unit of us, ms, s, m or h, found {other:?} in {text:?}"
                ))
            }
        };
        let ms = value * scale_ms;
        if !ms.is_finite() || !(0.0..=1.0e10).contains(&ms) {
            return Err(format!("a duration between 0 and 10^10 ms, found {text:?}"));
        }
        Ok(Ms(Duration::from_secs_f64(ms / 1000.0)))
    }
}

impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.as_millis_f64())
    }
}

impl Serialize for Ms {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ms = self.as_millis_f64();
        if ms.fract() == 0.0 {
            s.serialize_u64(ms as u64)
        } else {
            s.serialize_f64(ms)
        }
    }
}

impl<'de> Deserialize<'de> for Ms {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ms, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Ms;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration like \"250ms\" or \"2s\", or integer milliseconds")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ms, E> {
                Ok(Ms::from_millis(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ms, E> {
                u64::try_from(v)
                    .map(Ms::from_millis)
                    .map_err(|_| E::custom(format!("a non-negative duration, found {v}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Ms, E> {
                Ms::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Ms, E> {
                Ms::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_bare_millis() {
        assert_eq!(Ms::parse("250ms").unwrap(), Ms::from_millis(250));
        assert_eq!(Ms::parse("2s").unwrap(), Ms::from_millis(2000));
        assert_eq!(Ms::parse("1.5s").unwrap(), Ms::from_millis(1500));
        assert_eq!(Ms::parse("40").unwrap(), Ms::from_millis(40));
        assert_eq!(Ms::parse("500us").unwrap().0, Duration::from_micros(500));
        assert!(Ms::parse("fast").is_err());
        assert_eq!(Ms::parse("1h").unwrap(), Ms::from_millis(3_600_000));
        assert!(Ms::parse("3d").unwrap_err().contains("unit"));
    }

    #[test]
    fn json_round_trip() {
        let d: Ms = serde_json::from_str("\"2s\"").unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "2000");
        let d: Ms = serde_json::from_str("125").unwrap();
        assert_eq!(d, Ms::from_millis(125));
        assert!(serde_json::from_str::<Ms>("-4").is_err());
    }
}
