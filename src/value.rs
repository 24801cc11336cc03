//! Record values at the JS boundary: the one walk over an app's record or update
//! (checks and wire-encodes it, by the rules of `idb_sync_core::value`), and the way
//! back from the wire to JavaScript objects, with Dates.
//!
//! - [`check_fields`]: at the write boundary (`Table` writes), before any
//!   transaction; refuses with `invalid_value` and the field path, and drops
//!   `undefined` properties from what is stored.
//! - [`fields_from_js`]: a stored record or patch to its wire form (sync path).
//! - [`record_to_js`], [`value_to_js`]: wire form to JavaScript (pulled records,
//!   conflicts, dead letters, the conflict function's arguments).

use idb_sync_core::value::{self, ArrayItems, Shape, Text, ValueSource, WireObject};
use idb_sync_core::{Op, Record};
use js_sys::{Array, Function, JsString, Object, Reflect};
use serde_json::{Map, Value};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::SyncError;

thread_local! {
    /// `Object.prototype.toString` and `Date.prototype.getTime`, called on values
    /// (not as their own methods, which an app object could override).
    static INTRINSICS: (Function, Function) = {
        let method = |class: &str, name: &str, fallback: &str| -> Function {
            Reflect::get(&js_sys::global(), &class.into())
                .and_then(|c| Reflect::get(&c, &"prototype".into()))
                .and_then(|p| Reflect::get(&p, &name.into()))
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
                .unwrap_or_else(|| Function::new_no_args(fallback))
        };
        (method("Object", "toString", "return ''"), method("Date", "getTime", "return NaN"))
    };
}

/// The message of a thrown JS value.
fn message(e: &JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(e) => String::from(e.message()),
        None => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    }
}

/// The type name in `[object Name]` (`Map`, `Uint8Array`, ...), or `None` if asking threw.
fn type_tag(v: &JsValue) -> Option<String> {
    let tag = INTRINSICS
        .with(|(to_string, _)| Reflect::apply(to_string, v, &Array::new()))
        .ok()?
        .as_string()?;
    Some(tag.strip_prefix("[object ")?.strip_suffix(']')?.to_owned())
}

fn text(s: &JsValue) -> Text {
    let js: &JsString = s.unchecked_ref();
    let well_formed = js.is_valid_utf16();
    Text {
        text: String::from(js),
        well_formed,
    }
}

/// A JavaScript value, read for the walk.
#[derive(Clone)]
pub(crate) struct Js(pub(crate) JsValue);

impl ValueSource for Js {
    fn shape(&self) -> Shape {
        let v = &self.0;
        if v.is_undefined() {
            Shape::Undefined
        } else if v.is_null() {
            Shape::Null
        } else if let Some(b) = v.as_bool() {
            Shape::Bool(b)
        } else if let Some(x) = v.as_f64() {
            Shape::Number(x)
        } else if v.is_string() {
            Shape::String(text(v))
        } else if v.is_bigint() {
            Shape::BigInt
        } else if v.is_symbol() {
            Shape::Symbol
        } else if v.is_function() {
            Shape::Function
        } else if Array::is_array(v) {
            Shape::Array
        } else {
            match type_tag(v).as_deref() {
                Some("Object") => Shape::Object,
                Some("Date") => match INTRINSICS
                    .with(|(_, get_time)| Reflect::apply(get_time, v, &Array::new()))
                {
                    Ok(t) => Shape::Date(t.as_f64().unwrap_or(f64::NAN)),
                    Err(_) => Shape::Other("Date".into()),
                },
                Some(name) => Shape::Other(name.to_owned()),
                None => Shape::Other("unreadable object".into()),
            }
        }
    }

    fn items(&self) -> Result<ArrayItems<Self>, String> {
        let array: &Array = self.0.unchecked_ref();
        let len = array.length();
        let keys = Reflect::own_keys(&self.0).map_err(|e| message(&e))?;
        // Own keys list the indexes first, ascending, then `length`, then any other
        // property: a dense array with nothing else has exactly `len + 1` keys, the
        // last index at `len - 1`.
        let dense = keys.length() == len + 1
            && (len == 0
                || keys.get(len - 1).as_string().as_deref() == Some(&(len - 1).to_string()));
        if dense {
            return Ok(ArrayItems {
                items: (0..len).map(|i| Some(Js(array.get(i)))).collect(),
                extra_property: None,
            });
        }
        let mut present = vec![false; len as usize];
        let mut extra_property = None;
        for key in keys.iter() {
            let Some(name) = key.as_string() else {
                continue;
            }; // symbols: not stored
            match name.parse::<u32>() {
                Ok(i) if i < len && i.to_string() == name => present[i as usize] = true,
                _ if name == "length" => {}
                _ => {
                    extra_property.get_or_insert(name);
                }
            }
        }
        let items = present
            .iter()
            .enumerate()
            .map(|(i, &p)| p.then(|| Js(array.get(i as u32))))
            .collect();
        Ok(ArrayItems {
            items,
            extra_property,
        })
    }

    fn entries(&self) -> Result<Vec<(Text, Self)>, String> {
        let keys = Object::keys(self.0.unchecked_ref::<Object>());
        let mut out = Vec::with_capacity(keys.length() as usize);
        for key in keys.iter() {
            let value = Reflect::get(&self.0, &key).map_err(|e| message(&e))?;
            out.push((text(&key), Js(value)));
        }
        Ok(out)
    }

    fn same(&self, other: &Self) -> bool {
        Object::is(&self.0, &other.0)
    }
}

/// Whether `v` is a plain object (or a class instance), the only thing a record or an
/// update's changes can be.
pub(crate) fn is_plain_object(v: &JsValue) -> bool {
    matches!(Js(v.clone()).shape(), Shape::Object)
}

/// An app record or changes object, checked: its wire form, and the JS object to
/// store (the same object, or a copy without its `undefined` properties).
pub(crate) struct Checked {
    /// The fields, wire-encoded.
    pub(crate) fields: Record,
    /// What to store locally.
    pub(crate) js: JsValue,
}

/// Checks a record (or an update's changes) the app is writing to `table`: refuses
/// with `invalid_value` (naming the field path) anything that would not come back the
/// same on another device.
pub(crate) fn check_fields(table: &str, object: &JsValue) -> Result<Checked, SyncError> {
    let encoded =
        value::encode_fields(&Js(object.clone())).map_err(|error| SyncError::InvalidValue {
            table: table.to_owned(),
            error,
        })?;
    let js = if encoded.dropped_undefined {
        record_to_js(&encoded.fields)
    } else {
        object.clone()
    };
    Ok(Checked {
        fields: encoded.fields,
        js,
    })
}

/// The wire form of a stored record or patch (`None` for `undefined`/`null`).
pub(crate) fn fields_from_js(table: &str, stored: &JsValue) -> Result<Option<Record>, SyncError> {
    if stored.is_undefined() || stored.is_null() {
        return Ok(None);
    }
    if !is_plain_object(stored) {
        return Err(SyncError::InvalidRecord {
            table: table.to_owned(),
            reason: "a stored record is not a plain object".into(),
        });
    }
    Ok(Some(check_fields(table, stored)?.fields))
}

/// What can be kept of a stored object that does not encode: its fields without each
/// top-level field holding a value that cannot be encoded, and why those could not
/// (see `idb_sync_core::outbox::encodable_part`).
pub(crate) fn encodable_part(object: &JsValue) -> (Record, Vec<idb_sync_core::value::ValueError>) {
    idb_sync_core::outbox::encodable_part(&Js(object.clone()))
}

/// Sets `object[name] = value` as an own data property (also for `__proto__`).
pub(crate) fn set_field(object: &Object, name: &str, value: &JsValue) {
    if name == "__proto__" {
        let descriptor = Object::new();
        let _ = Reflect::set(&descriptor, &"value".into(), value);
        for flag in ["writable", "enumerable", "configurable"] {
            let _ = Reflect::set(&descriptor, &flag.into(), &JsValue::TRUE);
        }
        Object::define_property(object, &name.into(), &descriptor);
    } else {
        let _ = Reflect::set(object, &name.into(), value);
    }
}

fn object_to_js(fields: &Map<String, Value>) -> JsValue {
    let object = Object::new();
    for (name, v) in fields {
        set_field(&object, name, &value_to_js(v));
    }
    object.into()
}

/// A wire value as JavaScript: `$date` tags become Dates, escaped objects their content.
pub(crate) fn value_to_js(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => JsValue::from_f64(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => items.iter().map(value_to_js).collect::<Array>().into(),
        Value::Object(map) => match value::classify(map) {
            WireObject::Date(ms) => js_sys::Date::new(&JsValue::from_f64(ms)).into(),
            WireObject::Literal(fields) => object_to_js(fields),
        },
    }
}

/// A wire record as a JavaScript object.
pub(crate) fn record_to_js(record: &Record) -> JsValue {
    object_to_js(record)
}

/// An optional wire record as JavaScript (`null` when absent).
pub(crate) fn optional_record_to_js(record: Option<&Record>) -> JsValue {
    record.map_or(JsValue::NULL, record_to_js)
}

/// An outbox operation as JavaScript: `{ kind, record }`, `{ kind, patch }` or
/// `{ kind: 'delete' }`, with the record or patch as the app wrote it.
pub(crate) fn op_to_js(op: &Op) -> JsValue {
    let out = Object::new();
    let _ = Reflect::set(&out, &"kind".into(), &op.kind().into());
    match op {
        Op::Create { record } | Op::Put { record } => {
            set_field(&out, "record", &record_to_js(record))
        }
        Op::Update { patch } => set_field(&out, "patch", &record_to_js(patch)),
        Op::Delete => {}
    }
    out.into()
}
