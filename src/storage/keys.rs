//! Record keys at the JS boundary: reading a record's key from its key path,
//! validating it (a string or a finite number: what the sync protocol carries),
//! generating one (UUID v7: time-ordered, good index locality), and converting to the
//! core's [`RecordKey`].

use idb_sync_core::schema::{KeyPath, TableSchema};
use idb_sync_core::RecordKey;
use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::error::SyncError;

/// How a table's records get their keys.
#[derive(Clone, Debug)]
pub(crate) enum KeyMode {
    /// Read from this field of the record; a UUID v7 is generated when it is absent.
    Inline { field: JsValue, path: Vec<String> },
    /// Inline and auto-incremented by IndexedDB when absent.
    InlineAuto { field: JsValue, path: Vec<String> },
    /// Given with each write (out-of-line); required.
    OutOfLine,
    /// Out-of-line, auto-incremented by IndexedDB when not given.
    OutOfLineAuto,
}

impl KeyMode {
    /// The key mode of a table; compound primary keys cannot be synced.
    pub(crate) fn of(table: &TableSchema) -> Result<KeyMode, SyncError> {
        let auto = table.primary.auto_increment;
        match &table.primary.key_path {
            None if auto => Ok(KeyMode::OutOfLineAuto),
            None => Ok(KeyMode::OutOfLine),
            Some(KeyPath::Single(f)) => {
                let path: Vec<String> = f.split('.').map(str::to_owned).collect();
                let field = JsValue::from_str(f);
                Ok(if auto { KeyMode::InlineAuto { field, path } } else { KeyMode::Inline { field, path } })
            }
            Some(KeyPath::Compound(_)) => Err(SyncError::Schema(idb_sync_core::schema::SchemaError::Invalid {
                table: table.name.clone(),
                reason: "compound primary keys are not supported: a synced record's key is a string or a number".into(),
            })),
        }
    }

    /// Whether keys come from IndexedDB's key generator.
    pub(crate) fn auto_increment(&self) -> bool {
        matches!(self, KeyMode::InlineAuto { .. } | KeyMode::OutOfLineAuto)
    }

    /// The inline key field (for a single-segment path), to set on records.
    pub(crate) fn inline_field(&self) -> Option<&JsValue> {
        match self {
            KeyMode::Inline { field, path } | KeyMode::InlineAuto { field, path }
                if path.len() == 1 =>
            {
                Some(field)
            }
            _ => None,
        }
    }

    /// The key stored in `record` (`undefined` if absent).
    pub(crate) fn read(&self, record: &JsValue) -> JsValue {
        match self {
            KeyMode::Inline { field, path } | KeyMode::InlineAuto { field, path } => {
                if path.len() == 1 {
                    return Reflect::get(record, field).unwrap_or(JsValue::UNDEFINED);
                }
                let mut v = record.clone();
                for part in path {
                    if !v.is_object() {
                        return JsValue::UNDEFINED;
                    }
                    v = Reflect::get(&v, &JsValue::from_str(part)).unwrap_or(JsValue::UNDEFINED);
                }
                v
            }
            KeyMode::OutOfLine | KeyMode::OutOfLineAuto => JsValue::UNDEFINED,
        }
    }
}

/// Checks that `key` is a string or a finite number.
pub(crate) fn validate(table: &str, key: &JsValue) -> Result<(), SyncError> {
    if key.is_string() {
        return Ok(());
    }
    match key.as_f64() {
        Some(x) if x.is_finite() => Ok(()),
        Some(x) => Err(SyncError::InvalidKey {
            table: table.into(),
            reason: format!("{x} is not a finite number"),
        }),
        None => Err(SyncError::InvalidKey {
            table: table.into(),
            reason: format!("expected a string or a number, got {}", describe_type(key)),
        }),
    }
}

fn describe_type(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if js_sys::Array::is_array(v) {
        "an array".into()
    } else {
        v.js_typeof()
            .as_string()
            .unwrap_or_else(|| "something else".into())
    }
}

/// A fresh UUID v7 string key.
pub(crate) fn generate() -> JsValue {
    JsValue::from_str(&uuid::Uuid::now_v7().to_string())
}

/// A validated JS key as a core key.
pub(crate) fn to_record_key(key: &JsValue) -> Option<RecordKey> {
    if let Some(s) = key.as_string() {
        return Some(RecordKey::String(s));
    }
    key.as_f64()
        .filter(|x| x.is_finite())
        .map(RecordKey::Number)
}

/// A core key as a JS key.
pub(crate) fn from_record_key(key: &RecordKey) -> JsValue {
    match key {
        RecordKey::String(s) => JsValue::from_str(s),
        RecordKey::Number(x) => JsValue::from_f64(*x),
    }
}
