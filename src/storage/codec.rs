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

/// The property names both structures use, in the order of the indexes below.
const NAME_LIST: [&str; 25] = [
    "client_id",
    "next_seq",
    "next_queue_order",
    "cursor",
    "clock_offset_ms",
    "hlc",
    "next_dead_letter_id",
    "account",
    "exact_through",
    "answered_through",
    "millis",
    "counter",
    "node",
    "id",
    "table",
    "key",
    "op",
    "seq",
    "base_version",
    "mode",
    "kind",
    "record",
    "patch",
    "since_ms",
    "attempts",
];
const CLIENT_ID: usize = 0;
const NEXT_SEQ: usize = 1;
const NEXT_QUEUE_ORDER: usize = 2;
const CURSOR: usize = 3;
const CLOCK_OFFSET_MS: usize = 4;
const HLC: usize = 5;
const NEXT_DEAD_LETTER_ID: usize = 6;
const ACCOUNT: usize = 7;
const EXACT_THROUGH: usize = 8;
const ANSWERED_THROUGH: usize = 9;
const MILLIS: usize = 10;
const COUNTER: usize = 11;
const NODE: usize = 12;
const ID: usize = 13;
const TABLE: usize = 14;
const KEY: usize = 15;
const OP: usize = 16;
const SEQ: usize = 17;
const BASE_VERSION: usize = 18;
const MODE: usize = 19;
const KIND: usize = 20;
const RECORD: usize = 21;
const PATCH: usize = 22;
const SINCE_MS: usize = 23;
const ATTEMPTS: usize = 24;

thread_local! {
    /// [`NAME_LIST`] as JS strings, made once per thread rather than once per record.
    static NAMES: Vec<JsValue> = NAME_LIST.iter().map(|n| JsValue::from_str(n)).collect();
}

/// A field that cannot be read: its name.
struct Bad(&'static str);

impl Bad {
    fn message(self) -> String {
        format!("`{}` is missing or of the wrong type", self.0)
    }
}

/// How deep a stored JSON value may nest before it is called damaged (records nest at
/// most `idb_sync_core::value::MAX_DEPTH` deep; this only guards the recursion).
const MAX_NESTING: usize = 2 * idb_sync_core::value::MAX_DEPTH;

/// JavaScript's exactly representable integers go up to `2^53`.
const SAFE: f64 = 9_007_199_254_740_992.0;

/// Reads and writes the fields of one JS object by index into [`NAMES`].
struct Obj<'a> {
    names: &'a [JsValue],
    v: JsValue,
}

impl Obj<'_> {
    fn new(names: &[JsValue]) -> Obj<'_> {
        Obj {
            names,
            v: Object::new().into(),
        }
    }

    /// `v` as an object to read (`field` names it in the error).
    fn read<'n>(names: &'n [JsValue], v: JsValue, field: &'static str) -> Result<Obj<'n>, Bad> {
        if v.is_object() && !Array::is_array(&v) {
            Ok(Obj { names, v })
        } else {
            Err(Bad(field))
        }
    }

    fn get(&self, i: usize) -> JsValue {
        get(&self.v, &self.names[i])
    }

    fn set(&self, i: usize, value: &JsValue) {
        set(&self.v, &self.names[i], value);
    }

    fn set_u64(&self, i: usize, n: u64) {
        self.set(i, &JsValue::from_f64(n as f64));
    }

    /// An integer field in `0..=max`.
    fn uint(&self, i: usize, max: f64) -> Result<u64, Bad> {
        match self.get(i).as_f64() {
            Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= max => Ok(x as u64),
            _ => Err(Bad(NAME_LIST[i])),
        }
    }

    /// A field added later (`#[serde(default)]`): 0 when absent.
    fn uint_or_zero(&self, i: usize) -> Result<u64, Bad> {
        if self.get(i).is_undefined() {
            Ok(0)
        } else {
            self.uint(i, SAFE)
        }
    }

    fn string(&self, i: usize) -> Result<String, Bad> {
        self.get(i).as_string().ok_or(Bad(NAME_LIST[i]))
    }

    /// An optional string: `undefined` and `null` are `None`.
    fn opt_string(&self, i: usize) -> Result<Option<String>, Bad> {
        let v = self.get(i);
        if v.is_undefined() || v.is_null() {
            Ok(None)
        } else {
            v.as_string().map(Some).ok_or(Bad(NAME_LIST[i]))
        }
    }

    fn object(&self, i: usize) -> Result<Obj<'_>, Bad> {
        Obj::read(self.names, self.get(i), NAME_LIST[i])
    }

    fn set_hlc(&self, i: usize, hlc: &Hlc) {
        let out = Obj::new(self.names);
        out.set_u64(MILLIS, hlc.millis);
        out.set_u64(COUNTER, u64::from(hlc.counter));
        out.set(NODE, &JsValue::from_str(&hlc.node));
        self.set(i, &out.v);
    }

    fn hlc(&self, i: usize) -> Result<Hlc, Bad> {
        let v = self.object(i)?;
        Ok(Hlc {
            millis: v.uint(MILLIS, SAFE)?,
            counter: v.uint(COUNTER, f64::from(u32::MAX))? as u32,
            node: v.string(NODE)?,
        })
    }

    /// A record or patch (a JSON object, stored in its wire form).
    fn record(&self, i: usize) -> Result<Map<String, Value>, Bad> {
        object_from_js(&self.object(i)?.v, 1).ok_or(Bad(NAME_LIST[i]))
    }
}

/// The client metadata as stored.
pub(crate) fn meta_to_js(meta: &ClientMeta) -> JsValue {
    NAMES.with(|names| {
        let out = Obj::new(names);
        out.set(CLIENT_ID, &JsValue::from_str(&meta.client_id));
        let cursor = meta.cursor.as_ref().map(|c| c.0.as_str());
        for (i, text) in [(CURSOR, cursor), (ACCOUNT, meta.account.as_deref())] {
            out.set(i, &text.map_or(JsValue::NULL, JsValue::from_str));
        }
        out.set(
            CLOCK_OFFSET_MS,
            &JsValue::from_f64(meta.clock_offset_ms as f64),
        );
        out.set_hlc(HLC, &meta.hlc);
        for (i, n) in [
            (NEXT_SEQ, meta.next_seq),
            (NEXT_QUEUE_ORDER, meta.next_queue_order),
            (NEXT_DEAD_LETTER_ID, meta.next_dead_letter_id),
            (EXACT_THROUGH, meta.exact_through),
            (ANSWERED_THROUGH, meta.answered_through),
        ] {
            out.set_u64(i, n);
        }
        out.v
    })
}

/// The client metadata read from its row (`undefined`: there is none, an error).
pub(crate) fn meta_from_js(v: &JsValue) -> Result<ClientMeta, SyncError> {
    NAMES
        .with(|names| meta_fields(Obj::read(names, v.clone(), "the row")?))
        .map_err(|e| SyncError::Storage(format!("client metadata unreadable: {}", e.message())))
}

fn meta_fields(v: Obj) -> Result<ClientMeta, Bad> {
    let clock_offset_ms = match v.get(CLOCK_OFFSET_MS).as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() <= SAFE => x as i64,
        _ => return Err(Bad(NAME_LIST[CLOCK_OFFSET_MS])),
    };
    Ok(ClientMeta {
        client_id: v.string(CLIENT_ID)?,
        next_seq: v.uint(NEXT_SEQ, SAFE)?,
        next_queue_order: v.uint(NEXT_QUEUE_ORDER, SAFE)?,
        cursor: v.opt_string(CURSOR)?.map(Cursor),
        clock_offset_ms,
        hlc: v.hlc(HLC)?,
        next_dead_letter_id: v.uint(NEXT_DEAD_LETTER_ID, SAFE)?,
        account: v.opt_string(ACCOUNT)?,
        exact_through: v.uint_or_zero(EXACT_THROUGH)?,
        answered_through: v.uint_or_zero(ANSWERED_THROUGH)?,
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

/// The inverse of [`json_to_js`]: only JSON values (numbers finite, integers read as
/// `idb_sync_core::value::number` makes them) are read.
fn json_from_js(v: &JsValue, depth: usize) -> Option<Value> {
    if depth > MAX_NESTING {
        None
    } else if v.is_null() {
        Some(Value::Null)
    } else if let Some(b) = v.as_bool() {
        Some(Value::Bool(b))
    } else if let Some(x) = v.as_f64() {
        idb_sync_core::value::number(x).ok().map(Value::Number)
    } else if let Some(s) = v.as_string() {
        Some(Value::String(s))
    } else if Array::is_array(v) {
        let items: &Array = v.unchecked_ref();
        items
            .iter()
            .map(|item| json_from_js(&item, depth + 1))
            .collect::<Option<_>>()
            .map(Value::Array)
    } else if v.is_object() {
        object_from_js(v, depth).map(Value::Object)
    } else {
        None
    }
}

fn object_from_js(v: &JsValue, depth: usize) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    for name in Object::keys(v.unchecked_ref::<Object>()).iter() {
        let value = js_sys::Reflect::get(v, &name).unwrap_or(JsValue::UNDEFINED);
        out.insert(name.as_string()?, json_from_js(&value, depth + 1)?);
    }
    Some(out)
}

/// A change as stored and exported: `{kind, record|patch}`, in its wire form.
fn change_to_js(names: &[JsValue], op: &Op) -> JsValue {
    let change = Obj::new(names);
    change.set(KIND, &JsValue::from_str(op.kind()));
    match op {
        Op::Create { record } | Op::Put { record } => change.set(RECORD, &object_to_js(record)),
        Op::Update { patch } => change.set(PATCH, &object_to_js(patch)),
        Op::Delete => {}
    }
    change.v
}

/// A change in its wire form (`exportPendingChanges()`), as an in-flight entry
/// stores it.
pub(crate) fn op_to_js(op: &Op) -> JsValue {
    NAMES.with(|names| change_to_js(names, op))
}

/// A key's in-flight entry as stored (field `f` of its state row).
pub(crate) fn in_flight_to_js(op: &InFlightOp) -> JsValue {
    NAMES.with(|names| {
        let out = Obj::new(names);
        let id = Obj::new(names);
        id.set(TABLE, &JsValue::from_str(&op.id.table));
        id.set(KEY, &from_record_key(&op.id.key));
        out.set(ID, &id.v);
        out.set(OP, &change_to_js(names, &op.op));
        out.set_u64(SEQ, op.seq);
        out.set_u64(BASE_VERSION, op.base_version);
        out.set_hlc(HLC, &op.hlc);
        let mode = match op.mode {
            MergeMode::FieldMerge => "fieldMerge",
            MergeMode::Strict => "strict",
        };
        out.set(MODE, &JsValue::from_str(mode));
        // Added later: written only when set, as serde skips them.
        if op.since_ms > 0 {
            out.set_u64(SINCE_MS, op.since_ms);
        }
        if op.attempts > 0 {
            out.set_u64(ATTEMPTS, op.attempts.into());
        }
        out.v
    })
}

/// A key's in-flight entry read from field `f` of its state row.
pub(crate) fn in_flight_from_js(v: &JsValue) -> Result<InFlightOp, String> {
    NAMES
        .with(|names| in_flight_fields(Obj::read(names, v.clone(), "the entry")?))
        .map_err(Bad::message)
}

fn in_flight_fields(v: Obj) -> Result<InFlightOp, Bad> {
    let id = v.object(ID)?;
    let id = RecordId {
        table: id.string(TABLE)?,
        key: to_record_key(&id.get(KEY)).ok_or(Bad("id.key"))?,
    };
    let change = v.object(OP)?;
    let op = match change.get(KIND).as_string().as_deref() {
        Some("create") => Op::Create {
            record: change.record(RECORD)?,
        },
        Some("put") => Op::Put {
            record: change.record(RECORD)?,
        },
        Some("update") => Op::Update {
            patch: change.record(PATCH)?,
        },
        Some("delete") => Op::Delete,
        _ => return Err(Bad("op.kind")),
    };
    let mode = match v.get(MODE).as_string().as_deref() {
        Some("fieldMerge") => MergeMode::FieldMerge,
        Some("strict") => MergeMode::Strict,
        _ => return Err(Bad(NAME_LIST[MODE])),
    };
    Ok(InFlightOp {
        id,
        op,
        seq: v.uint(SEQ, SAFE)?,
        base_version: v.uint(BASE_VERSION, SAFE)?,
        hlc: v.hlc(HLC)?,
        mode,
        since_ms: v.uint_or_zero(SINCE_MS)?,
        attempts: v.uint_or_zero(ATTEMPTS)?.min(u32::MAX.into()) as u32,
    })
}
