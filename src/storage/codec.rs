//! Hand-written `JsValue` codecs of the two structures every pushed record and every
//! local write stores besides the app's record: the client metadata
//! ([`ClientMeta`], the row `client` of `_idbsync_meta`) and a key's in-flight entry
//! ([`InFlightOp`], field `f` of its state row). They read and write exactly the
//! shape serde-wasm-bindgen wrote before them (field names as in the Rust structs,
//! `null` for `None`, an op as `{kind, record|patch}`, a timestamp as
//! `{millis, counter, node}`), so existing databases open unchanged; what no longer
//! happens per record is serde's visitor machinery and its error values
//! (docs/STORAGE.md, "IndexedDB work per record").
//!
//! A value that cannot be read is an error naming what is wrong, which the callers
//! turn into a `storage_error` (metadata) or a corrupt state row ([`super::row`]).

use idb_sync_core::hlc::Hlc;
use idb_sync_core::outbox::{ClientMeta, InFlightOp};
use idb_sync_core::protocol::{Cursor, MergeMode};
use idb_sync_core::{Op, RecordId};
use js_sys::{Array, Object};
use serde_json::{Map, Value};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::SyncError;
use crate::interop::{get, set};
use crate::storage::keys::{from_record_key, to_record_key};
use crate::value::set_field;

/// Property names, created once per thread rather than once per record.
struct Names {
    client_id: JsValue,
    next_seq: JsValue,
    next_queue_order: JsValue,
    cursor: JsValue,
    clock_offset_ms: JsValue,
    hlc: JsValue,
    next_dead_letter_id: JsValue,
    account: JsValue,
    exact_through: JsValue,
    answered_through: JsValue,
    millis: JsValue,
    counter: JsValue,
    node: JsValue,
    id: JsValue,
    table: JsValue,
    key: JsValue,
    op: JsValue,
    seq: JsValue,
    base_version: JsValue,
    mode: JsValue,
    kind: JsValue,
    record: JsValue,
    patch: JsValue,
}

thread_local! {
    static NAMES: Names = Names {
        client_id: "client_id".into(),
        next_seq: "next_seq".into(),
        next_queue_order: "next_queue_order".into(),
        cursor: "cursor".into(),
        clock_offset_ms: "clock_offset_ms".into(),
        hlc: "hlc".into(),
        next_dead_letter_id: "next_dead_letter_id".into(),
        account: "account".into(),
        exact_through: "exact_through".into(),
        answered_through: "answered_through".into(),
        millis: "millis".into(),
        counter: "counter".into(),
        node: "node".into(),
        id: "id".into(),
        table: "table".into(),
        key: "key".into(),
        op: "op".into(),
        seq: "seq".into(),
        base_version: "base_version".into(),
        mode: "mode".into(),
        kind: "kind".into(),
        record: "record".into(),
        patch: "patch".into(),
    };
}

/// How deep a stored JSON value may nest before it is called damaged (records nest at
/// most `idb_sync_core::value::MAX_DEPTH` deep; this only guards the recursion).
const MAX_NESTING: usize = 2 * idb_sync_core::value::MAX_DEPTH;

/// JavaScript's largest exactly representable integer range, `2^53`.
const SAFE: f64 = 9_007_199_254_740_992.0;

fn number(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

/// An integer field in `0..=max` (`name` for the error).
fn uint(v: &JsValue, name: &str, max: f64) -> Result<u64, String> {
    match v.as_f64() {
        Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= max => Ok(x as u64),
        _ => Err(format!("`{name}` is not a non-negative integer: {v:?}")),
    }
}

fn string(v: &JsValue, name: &str) -> Result<String, String> {
    v.as_string()
        .ok_or_else(|| format!("`{name}` is not a string: {v:?}"))
}

/// An optional string field: `undefined` and `null` are `None`.
fn opt_string(v: &JsValue, name: &str) -> Result<Option<String>, String> {
    if v.is_undefined() || v.is_null() {
        Ok(None)
    } else {
        string(v, name).map(Some)
    }
}

/// A field that was added later and defaults to 0 when absent (`#[serde(default)]`).
fn uint_or_zero(v: &JsValue, name: &str) -> Result<u64, String> {
    if v.is_undefined() {
        Ok(0)
    } else {
        uint(v, name, SAFE)
    }
}

fn object(v: JsValue, what: &str) -> Result<JsValue, String> {
    if v.is_object() && !Array::is_array(&v) {
        Ok(v)
    } else {
        Err(format!("{what} is not an object: {v:?}"))
    }
}

fn hlc_to_js(n: &Names, hlc: &Hlc) -> JsValue {
    let out: JsValue = Object::new().into();
    set(&out, &n.millis, &number(hlc.millis));
    set(&out, &n.counter, &JsValue::from_f64(f64::from(hlc.counter)));
    set(&out, &n.node, &JsValue::from_str(&hlc.node));
    out
}

fn hlc_from_js(n: &Names, v: JsValue, name: &str) -> Result<Hlc, String> {
    let v = object(v, name)?;
    Ok(Hlc {
        millis: uint(&get(&v, &n.millis), "millis", SAFE)?,
        counter: uint(&get(&v, &n.counter), "counter", f64::from(u32::MAX))? as u32,
        node: string(&get(&v, &n.node), "node")?,
    })
}

/// The client metadata as stored.
pub(crate) fn meta_to_js(meta: &ClientMeta) -> JsValue {
    NAMES.with(|n| {
        let out: JsValue = Object::new().into();
        set(&out, &n.client_id, &JsValue::from_str(&meta.client_id));
        set(&out, &n.next_seq, &number(meta.next_seq));
        set(&out, &n.next_queue_order, &number(meta.next_queue_order));
        let cursor = meta
            .cursor
            .as_ref()
            .map_or(JsValue::NULL, |c| JsValue::from_str(&c.0));
        set(&out, &n.cursor, &cursor);
        set(
            &out,
            &n.clock_offset_ms,
            &JsValue::from_f64(meta.clock_offset_ms as f64),
        );
        set(&out, &n.hlc, &hlc_to_js(n, &meta.hlc));
        set(
            &out,
            &n.next_dead_letter_id,
            &number(meta.next_dead_letter_id),
        );
        let account = meta
            .account
            .as_deref()
            .map_or(JsValue::NULL, JsValue::from_str);
        set(&out, &n.account, &account);
        set(&out, &n.exact_through, &number(meta.exact_through));
        set(&out, &n.answered_through, &number(meta.answered_through));
        out
    })
}

/// The client metadata read from its row (`undefined`: there is none, an error).
pub(crate) fn meta_from_js(v: &JsValue) -> Result<ClientMeta, SyncError> {
    NAMES
        .with(|n| meta_fields(n, v))
        .map_err(|e| SyncError::Storage(format!("client metadata unreadable: {e}")))
}

fn meta_fields(n: &Names, v: &JsValue) -> Result<ClientMeta, String> {
    let v = &object(v.clone(), "the row")?;
    let offset = get(v, &n.clock_offset_ms);
    let clock_offset_ms = match offset.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() <= SAFE => x as i64,
        _ => return Err(format!("`clock_offset_ms` is not an integer: {offset:?}")),
    };
    Ok(ClientMeta {
        client_id: string(&get(v, &n.client_id), "client_id")?,
        next_seq: uint(&get(v, &n.next_seq), "next_seq", SAFE)?,
        next_queue_order: uint(&get(v, &n.next_queue_order), "next_queue_order", SAFE)?,
        cursor: opt_string(&get(v, &n.cursor), "cursor")?.map(Cursor),
        clock_offset_ms,
        hlc: hlc_from_js(n, get(v, &n.hlc), "hlc")?,
        next_dead_letter_id: uint(&get(v, &n.next_dead_letter_id), "next_dead_letter_id", SAFE)?,
        account: opt_string(&get(v, &n.account), "account")?,
        exact_through: uint_or_zero(&get(v, &n.exact_through), "exact_through")?,
        answered_through: uint_or_zero(&get(v, &n.answered_through), "answered_through")?,
    })
}

/// A JSON value (a record's wire form, `$date` tags kept as they are) as a plain
/// JavaScript value.
fn json_to_js(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(x) => JsValue::from_f64(x.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => items.iter().map(json_to_js).collect::<Array>().into(),
        Value::Object(fields) => object_to_js(fields),
    }
}

fn object_to_js(fields: &Map<String, Value>) -> JsValue {
    let out = Object::new();
    for (name, v) in fields {
        set_field(&out, name, &json_to_js(v));
    }
    out.into()
}

/// The inverse of [`json_to_js`]: only JSON values (numbers finite) are read.
fn json_from_js(v: &JsValue, depth: usize) -> Result<Value, String> {
    if depth > MAX_NESTING {
        return Err("nested too deep".into());
    }
    if v.is_null() {
        Ok(Value::Null)
    } else if let Some(b) = v.as_bool() {
        Ok(Value::Bool(b))
    } else if let Some(x) = v.as_f64() {
        idb_sync_core::value::number(x)
            .map(Value::Number)
            .map_err(|_| format!("not a finite number: {x}"))
    } else if let Some(s) = v.as_string() {
        Ok(Value::String(s))
    } else if Array::is_array(v) {
        let items: &Array = v.unchecked_ref();
        items
            .iter()
            .map(|item| json_from_js(&item, depth + 1))
            .collect::<Result<_, _>>()
            .map(Value::Array)
    } else if v.is_object() {
        object_from_js(v, depth).map(Value::Object)
    } else {
        Err(format!("not a JSON value: {v:?}"))
    }
}

fn object_from_js(v: &JsValue, depth: usize) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for name in Object::keys(v.unchecked_ref::<Object>()).iter() {
        let value = js_sys::Reflect::get(v, &name).unwrap_or(JsValue::UNDEFINED);
        let name = name.as_string().unwrap_or_default();
        out.insert(name, json_from_js(&value, depth + 1)?);
    }
    Ok(out)
}

/// A key's in-flight entry as stored (field `f` of its state row).
pub(crate) fn in_flight_to_js(op: &InFlightOp) -> JsValue {
    NAMES.with(|n| {
        let out: JsValue = Object::new().into();
        let id: JsValue = Object::new().into();
        set(&id, &n.table, &JsValue::from_str(&op.id.table));
        set(&id, &n.key, &from_record_key(&op.id.key));
        set(&out, &n.id, &id);
        let change: JsValue = Object::new().into();
        set(&change, &n.kind, &JsValue::from_str(op.op.kind()));
        match &op.op {
            Op::Create { record } | Op::Put { record } => {
                set(&change, &n.record, &object_to_js(record))
            }
            Op::Update { patch } => set(&change, &n.patch, &object_to_js(patch)),
            Op::Delete => {}
        }
        set(&out, &n.op, &change);
        set(&out, &n.seq, &number(op.seq));
        set(&out, &n.base_version, &number(op.base_version));
        set(&out, &n.hlc, &hlc_to_js(n, &op.hlc));
        let mode = match op.mode {
            MergeMode::FieldMerge => "fieldMerge",
            MergeMode::Strict => "strict",
        };
        set(&out, &n.mode, &JsValue::from_str(mode));
        out
    })
}

/// A key's in-flight entry read from field `f` of its state row.
pub(crate) fn in_flight_from_js(v: &JsValue) -> Result<InFlightOp, String> {
    NAMES.with(|n| {
        let v = &object(v.clone(), "the entry")?;
        let id = object(get(v, &n.id), "`id`")?;
        let key = get(&id, &n.key);
        let id = RecordId {
            table: string(&get(&id, &n.table), "id.table")?,
            key: to_record_key(&key).ok_or_else(|| format!("`id.key` is not a key: {key:?}"))?,
        };
        let change = object(get(v, &n.op), "`op`")?;
        let data = |name: &JsValue, field: &str| {
            let data = object(get(&change, name), &format!("`op.{field}`"))?;
            object_from_js(&data, 1)
        };
        let op = match get(&change, &n.kind).as_string().as_deref() {
            Some("create") => Op::Create {
                record: data(&n.record, "record")?,
            },
            Some("put") => Op::Put {
                record: data(&n.record, "record")?,
            },
            Some("update") => Op::Update {
                patch: data(&n.patch, "patch")?,
            },
            Some("delete") => Op::Delete,
            _ => return Err(format!("unknown op kind {:?}", get(&change, &n.kind))),
        };
        let mode = get(v, &n.mode);
        let mode = match mode.as_string().as_deref() {
            Some("fieldMerge") => MergeMode::FieldMerge,
            Some("strict") => MergeMode::Strict,
            _ => return Err(format!("unknown merge mode {mode:?}")),
        };
        Ok(InFlightOp {
            id,
            op,
            seq: uint(&get(v, &n.seq), "seq", SAFE)?,
            base_version: uint(&get(v, &n.base_version), "base_version", SAFE)?,
            hlc: hlc_from_js(n, get(v, &n.hlc), "hlc")?,
            mode,
        })
    })
}
