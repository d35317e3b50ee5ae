//! The `--fault` command-line form: `kind:key=value,key=value`, with errors naming field, expected, found.

use super::{FaultError, Ms};

/// The `key=value` pairs of one `--fault` argument; each typed `take_*` consumes a key so that
/// `finish` can reject the ones nobody asked for.
pub struct Params {
    fault: String,
    pairs: Vec<(String, String, bool)>,
}

impl Params {
    /// Splits `key=value,key=value`; `fault` names the fault in error messages.
    pub fn parse(fault: &str, text: &str) -> Result<Params, FaultError> {
        let mut pairs = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(FaultError::Field {
                    fault: fault.to_string(),
                    field: part.to_string(),
                    expected: "key=value".into(),
                    found: format!("{part:?}"),
                });
            };
            pairs.push((key.to_string(), value.to_string()));
        }
        Params::from_pairs(fault, &pairs)
    }

    /// Pairs already split (e.g. from a scenario table); keys are matched case-insensitively.
    pub fn from_pairs(fault: &str, raw: &[(String, String)]) -> Result<Params, FaultError> {
        let mut pairs: Vec<(String, String, bool)> = Vec::new();
        for (key, value) in raw {
            let key = key.trim().to_ascii_lowercase();
            if pairs.iter().any(|(k, _, _)| *k == key) {
                return Err(FaultError::Field {
                    fault: fault.to_string(),
                    field: key,
                    expected: "each key once".into(),
                    found: "a repeated key".into(),
                });
            }
            pairs.push((key, value.trim().to_string(), false));
        }
        Ok(Params {
            fault: fault.to_string(),
            pairs,
        })
    }

    /// The raw value of `key`, marking it used.
    pub fn take_str(&mut self, key: &str) -> Option<String> {
        self.pairs
            .iter_mut()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, used)| {
                *used = true;
                v.clone()
            })
    }

    /// The value of `key` converted by `convert`; `expected` describes a good value.
    pub fn take<T>(
        &mut self,
        key: &str,
        expected: &str,
        convert: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, FaultError> {
        match self.take_str(key) {
            None => Ok(None),
            Some(v) => convert(&v)
                .map(Some)
                .ok_or_else(|| self.bad(key, expected, &v)),
        }
    }

    pub fn take_u64(&mut self, key: &str) -> Result<Option<u64>, FaultError> {
        self.take(key, "a non-negative integer", |v| v.parse().ok())
    }

    pub fn take_f64(&mut self, key: &str) -> Result<Option<f64>, FaultError> {
        self.take(key, "a number", |v| {
            v.parse().ok().filter(|x: &f64| x.is_finite())
        })
    }

    pub fn take_ms(&mut self, key: &str) -> Result<Option<Ms>, FaultError> {
        match self.take_str(key) {
            None => Ok(None),
            Some(v) => Ms::parse(&v)
                .map(Some)
                .map_err(|expected| FaultError::Field {
                    fault: self.fault.clone(),
                    field: key.to_string(),
                    expected,
                    found: format!("{v:?}"),
                }),
        }
    }

    /// The value of a key this kind cannot do without.
    pub fn require<T>(&self, key: &str, value: Option<T>, expected: &str) -> Result<T, FaultError> {
        value.ok_or_else(|| FaultError::Field {
            fault: self.fault.clone(),
            field: key.to_string(),
            expected: expected.to_string(),
            found: "nothing (the key is missing)".into(),
        })
    }

    pub fn bad(&self, key: &str, expected: &str, found: &str) -> FaultError {
        FaultError::Field {
            fault: self.fault.clone(),
            field: key.to_string(),
            expected: expected.to_string(),
            found: format!("{found:?}"),
        }
    }

    /// Fails on the first key no `take_*` consumed, listing the keys this kind knows.
    pub fn finish(self, known: &[&str]) -> Result<(), FaultError> {
        match self.pairs.iter().find(|(_, _, used)| !used) {
            None => Ok(()),
            Some((k, _, _)) => Err(FaultError::Field {
                fault: self.fault.clone(),
                field: k.clone(),
                expected: format!("one of: {}", known.join(", ")),
                found: format!("unknown key {k:?}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_takes_and_unknown_keys() {
        let mut p = Params::parse("abort", "status=503, delay=2s,zzz=1").unwrap();
        assert_eq!(p.take_u64("status").unwrap(), Some(503));
        assert_eq!(p.take_ms("delay").unwrap(), Some(Ms::from_millis(2000)));
        let err = p.finish(&["status", "delay"]).unwrap_err().to_string();
        assert!(
            err.contains("zzz") && err.contains("status, delay"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_name_field_expected_and_found() {
        let mut p = Params::parse("abort", "status=five").unwrap();
        let err = p.take_u64("status").unwrap_err().to_string();
        assert!(
            err.contains("status") && err.contains("integer") && err.contains("five"),
            "{err}"
        );
        assert!(Params::parse("x", "novalue").is_err());
        assert!(Params::parse("x", "a=1,a=2").is_err());
    }
}
