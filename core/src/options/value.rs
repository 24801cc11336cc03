//! [`OptionValue`]: an options object from JavaScript as plain data, so that core can
//! validate it without a browser. The wasm side builds it (keeping each JS function
//! aside and leaving a [`FunctionId`] in its place); tests build it from JSON.

use std::borrow::Cow;

/// A JS function found in the options, by its position in the list the wasm side
/// keeps. The same function object found twice gets the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FunctionId(pub usize);

/// A JavaScript value as the options validator sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum OptionValue {
    /// `undefined` (also: a key that is not there).
    Undefined,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (any `f64`, NaN and infinities included).
    Number(f64),
    /// A string.
    String(String),
    /// A function, kept by the wasm side.
    Function(FunctionId),
    /// An array, element by element.
    Array(Vec<OptionValue>),
    /// Any other object: its own enumerable string-keyed properties, in order.
    Object(Vec<(String, OptionValue)>),
    /// Anything else (a bigint, a symbol, or an object nested deeper than options
    /// go), described by its JS type for messages.
    Other(String),
}

/// What a missing property reads as.
static UNDEFINED: OptionValue = OptionValue::Undefined;

impl OptionValue {
    /// `undefined` or `null`: the option is not given.
    pub fn is_absent(&self) -> bool {
        matches!(self, OptionValue::Undefined | OptionValue::Null)
    }

    /// True for what JS calls an object (`typeof v === 'object'`, not null): a plain
    /// object or an array. Functions are not objects here, as in `typeof`.
    pub fn is_object(&self) -> bool {
        matches!(self, OptionValue::Object(_) | OptionValue::Array(_))
    }

    /// The property `key` of an object or array, `undefined` when absent (or when
    /// this is not an object), like reading `v[key]` in JS.
    pub fn get(&self, key: &str) -> &OptionValue {
        match self {
            OptionValue::Object(entries) => entries
                .iter()
                .find(|(k, _)| k == key)
                .map_or(&UNDEFINED, |(_, v)| v),
            OptionValue::Array(items) => key
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .unwrap_or(&UNDEFINED),
            _ => &UNDEFINED,
        }
    }

    /// The entries of an object (or an array, keyed by index) in order, like
    /// `Object.entries(v)`; `None` for anything that is not an object.
    pub fn entries(&self) -> Option<Vec<(Cow<'_, str>, &OptionValue)>> {
        match self {
            OptionValue::Object(entries) => Some(
                entries
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), v))
                    .collect(),
            ),
            OptionValue::Array(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (Cow::Owned(i.to_string()), v))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            OptionValue::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            OptionValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            OptionValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An object from `(key, value)` pairs (for tests and builders).
    pub fn object<K: Into<String>>(entries: impl IntoIterator<Item = (K, OptionValue)>) -> Self {
        OptionValue::Object(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// This object with `key` set to `value` (replaced in place, or appended), like
    /// `{ ...v, [key]: value }`; a non-object becomes an object first.
    pub fn with(self, key: &str, value: OptionValue) -> Self {
        let mut entries = match self {
            OptionValue::Object(entries) => entries,
            _ => Vec::new(),
        };
        match entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => entries.push((key.to_owned(), value)),
        }
        OptionValue::Object(entries)
    }
}

impl From<serde_json::Value> for OptionValue {
    /// A JSON value as JS would see it after `JSON.parse` (object keys in
    /// `serde_json`'s order: sorted).
    fn from(json: serde_json::Value) -> Self {
        use serde_json::Value;
        match json {
            Value::Null => OptionValue::Null,
            Value::Bool(b) => OptionValue::Bool(b),
            Value::Number(n) => OptionValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => OptionValue::String(s),
            Value::Array(items) => OptionValue::Array(items.into_iter().map(Into::into).collect()),
            Value::Object(map) => {
                OptionValue::Object(map.into_iter().map(|(k, v)| (k, v.into())).collect())
            }
        }
    }
}
