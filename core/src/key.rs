//! Record keys ([`RecordKey`]: IndexedDB string or number keys) and record ids
//! ([`RecordId`]: table + key).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

/// The primary key of a record: a string or a number, as IndexedDB allows.
///
/// Numbers order before strings (IndexedDB key order). `-0.0` equals `0.0`.
/// On the wire it is a bare JSON string or number; integral numbers are written
/// without a fraction (`1`, not `1.0`), as JavaScript would.
#[derive(Clone, Debug)]
pub enum RecordKey {
    /// A numeric key (IndexedDB numbers are doubles).
    Number(f64),
    /// A string key.
    String(String),
}

impl RecordKey {
    fn canonical_bits(x: f64) -> u64 {
        if x == 0.0 {
            0
        } else {
            x.to_bits()
        }
    }
}

impl PartialEq for RecordKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for RecordKey {}

impl Ord for RecordKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (RecordKey::Number(a), RecordKey::Number(b)) => {
                if *a == 0.0 && *b == 0.0 {
                    Ordering::Equal
                } else {
                    a.total_cmp(b)
                }
            }
            (RecordKey::Number(_), RecordKey::String(_)) => Ordering::Less,
            (RecordKey::String(_), RecordKey::Number(_)) => Ordering::Greater,
            (RecordKey::String(a), RecordKey::String(b)) => a.cmp(b),
        }
    }
}
impl PartialOrd for RecordKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Hash for RecordKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            RecordKey::Number(x) => {
                0u8.hash(state);
                RecordKey::canonical_bits(*x).hash(state);
            }
            RecordKey::String(s) => {
                1u8.hash(state);
                s.hash(state);
            }
        }
    }
}

impl Serialize for RecordKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// Integers up to 2^53 are exact in an f64 (JavaScript's safe integers).
        const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
        match self {
            RecordKey::Number(x) if x.fract() == 0.0 && x.abs() <= MAX_SAFE_INTEGER => {
                serializer.serialize_i64(*x as i64)
            }
            RecordKey::Number(x) => serializer.serialize_f64(*x),
            RecordKey::String(s) => serializer.serialize_str(s),
        }
    }
}

/// A number or a string, read by one visitor (`crate::protocol::flat::record_key`)
/// rather than serde's untagged decoding, which buffers the value first.
impl<'de> Deserialize<'de> for RecordKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::protocol::flat::record_key(deserializer)
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordKey::Number(x) => write!(f, "{x}"),
            RecordKey::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<&str> for RecordKey {
    fn from(s: &str) -> Self {
        RecordKey::String(s.to_owned())
    }
}
impl From<String> for RecordKey {
    fn from(s: String) -> Self {
        RecordKey::String(s)
    }
}
impl From<f64> for RecordKey {
    fn from(x: f64) -> Self {
        RecordKey::Number(x)
    }
}
impl From<i64> for RecordKey {
    fn from(x: i64) -> Self {
        RecordKey::Number(x as f64)
    }
}

/// A record's identity: its table and its key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordId {
    /// The table (object store) name.
    pub table: String,
    /// The primary key.
    pub key: RecordKey,
}

impl RecordId {
    /// Builds a record id.
    pub fn new(table: impl Into<String>, key: impl Into<RecordKey>) -> Self {
        RecordId {
            table: table.into(),
            key: key.into(),
        }
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.table, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::RecordKey;

    #[test]
    fn integral_number_keys_serialize_without_a_fraction() {
        assert_eq!(serde_json::to_string(&RecordKey::Number(1.0)).unwrap(), "1");
        assert_eq!(
            serde_json::to_string(&RecordKey::Number(-0.0)).unwrap(),
            "0"
        );
        assert_eq!(
            serde_json::to_string(&RecordKey::Number(1.5)).unwrap(),
            "1.5"
        );
        assert_eq!(
            serde_json::to_string(&RecordKey::String("1".into())).unwrap(),
            "\"1\""
        );
        let back: RecordKey = serde_json::from_str("1").unwrap();
        assert_eq!(back, RecordKey::Number(1.0));
    }

    #[test]
    fn keys_read_back_by_their_type_and_anything_else_is_refused() {
        let read = |s: &str| serde_json::from_str::<RecordKey>(s);
        assert_eq!(read("\"a\"").unwrap(), RecordKey::String("a".into()));
        assert_eq!(read("\"1\"").unwrap(), RecordKey::String("1".into()));
        assert_eq!(read("-3").unwrap(), RecordKey::Number(-3.0));
        assert_eq!(read("2.5").unwrap(), RecordKey::Number(2.5));
        assert_eq!(
            read("18446744073709551615").unwrap(),
            RecordKey::Number(u64::MAX as f64)
        );
        for bad in ["null", "true", "[1]", "{}"] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
