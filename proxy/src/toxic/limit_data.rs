//! The `limit_data` toxic: lets `bytes` bytes through on a connection's stream, then closes
//! the connection. The count survives updates of the toxic, as in Toxiproxy.

use serde::{Deserialize, Serialize};

use super::int_attr;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitData {
    /// Bytes allowed through before the connection is closed.
    #[serde(deserialize_with = "int_attr")]
    pub bytes: i64,
}

/// What to do with a chunk of `n` bytes when `sent` have already passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    /// Bytes of the chunk to pass on.
    pub pass: usize,
    /// Close the connection once those are passed.
    pub close: bool,
}

impl LimitData {
    pub fn allow(&self, sent: u64, n: usize) -> Allowance {
        let limit = self.bytes.max(0) as u64;
        let remaining = limit.saturating_sub(sent);
        let pass = (n as u64).min(remaining) as usize;
        Allowance {
            pass,
            close: sent + pass as u64 >= limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_up_to_the_limit_then_closes() {
        let t = LimitData { bytes: 10 };
        assert_eq!(
            t.allow(0, 4),
            Allowance {
                pass: 4,
                close: false
            }
        );
        assert_eq!(
            t.allow(4, 10),
            Allowance {
                pass: 6,
                close: true
            }
        );
        assert_eq!(
            t.allow(10, 3),
            Allowance {
                pass: 0,
                close: true
            }
        );
        assert_eq!(
            LimitData { bytes: 0 }.allow(0, 5),
            Allowance {
                pass: 0,
                close: true
            }
        );
    }
}
