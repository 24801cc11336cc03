//! Validating the table API's local writes before any transaction starts (I8): each
//! [`Write`] the app asked for becomes a [`Checked`] one — a plain-object record whose
//! values come back the same on another device, a valid key (or one to generate, or
//! IndexedDB's key generator to ask), an update that does not change the key.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use idb_sync_core::outbox::OpKind;

use crate::error::{OrStorage, SyncError};
use crate::storage::keys::{self, KeyMode};
use crate::storage::TableInfo;
use crate::value::is_plain_object;

/// One local write asked for by the app.
pub(crate) enum Write {
    /// `add(record, key?)`: fails if the key exists.
    Add { record: JsValue, key: JsValue },
    /// `put(record, key?)`.
    Put { record: JsValue, key: JsValue },
    /// `update(key, changes)`.
    Update { key: JsValue, changes: JsValue },
    /// `delete(key)`.
    Delete { key: JsValue },
}

impl Write {
    fn kind(&self) -> OpKind {
        match self {
            Write::Add { .. } => OpKind::Create,
            Write::Put { .. } => OpKind::Put,
            Write::Update { .. } => OpKind::Update,
            Write::Delete { .. } => OpKind::Delete,
        }
    }
}

/// A write after validation: its key is known, or IndexedDB generates it (`None`).
pub(super) struct Checked {
    pub(super) kind: OpKind,
    pub(super) key: Option<JsValue>,
    /// The key was generated just now (no state can exist for it).
    pub(super) fresh: bool,
    /// The record (add/put) or the changes (update).
    pub(super) data: JsValue,
    /// Already written (its key came from IndexedDB's key generator).
    pub(super) prewritten: bool,
}

/// Validates every write before any transaction starts (I8) and fills generated keys.
pub(super) fn check(table: &TableInfo, writes: Vec<Write>) -> Result<Vec<Checked>, SyncError> {
    let name = &table.schema.name;
    let mode = &table.key_mode;
    writes
        .into_iter()
        .map(|w| {
            let kind = w.kind();
            match w {
                Write::Add { record, key } | Write::Put { record, key } => {
                    if !is_plain_object(&record) {
                        return Err(SyncError::InvalidRecord {
                            table: name.clone(),
                            reason: "a record must be a plain object".into(),
                        });
                    }
                    // Every value must come back the same on another device (I8, I9).
                    let record = crate::value::check_fields(name, &record)?.js;
                    let (key, fresh) = match mode {
                        KeyMode::Inline { .. } | KeyMode::InlineAuto { .. } => {
                            if !key.is_undefined() {
                                return Err(SyncError::InvalidArgument {
                                    argument: "key",
                                    reason: format!(
                                        "table `{name}` reads keys from its records; pass none"
                                    ),
                                });
                            }
                            let inline = mode.read(&record);
                            if !inline.is_undefined() {
                                keys::validate(name, &inline)?;
                                (Some(inline), false)
                            } else if mode.auto_increment() {
                                (None, false)
                            } else if let Some(field) = mode.inline_field() {
                                let generated = keys::generate();
                                Reflect::set(&record, field, &generated).or_storage("set key")?;
                                (Some(generated), true)
                            } else {
                                return Err(SyncError::MissingKey(name.clone()));
                            }
                        }
                        KeyMode::OutOfLine | KeyMode::OutOfLineAuto => {
                            if !key.is_undefined() {
                                keys::validate(name, &key)?;
                                (Some(key), false)
                            } else if mode.auto_increment() {
                                (None, false)
                            } else {
                                return Err(SyncError::MissingKey(name.clone()));
                            }
                        }
                    };
                    Ok(Checked {
                        kind,
                        key,
                        fresh,
                        data: record,
                        prewritten: false,
                    })
                }
                Write::Update { key, changes } => {
                    keys::validate(name, &key)?;
                    if !is_plain_object(&changes) {
                        return Err(SyncError::InvalidArgument {
                            argument: "changes",
                            reason: "expected an object of fields".into(),
                        });
                    }
                    let changes = crate::value::check_fields(name, &changes)?.js;
                    if let Some(field) = mode.inline_field() {
                        let changed = Reflect::get(&changes, field).unwrap_or(JsValue::UNDEFINED);
                        if !changed.is_undefined() && !js_sys::Object::is(&changed, &key) {
                            return Err(SyncError::InvalidArgument {
                                argument: "changes",
                                reason: "update cannot change a record's key".into(),
                            });
                        }
                    }
                    Ok(Checked {
                        kind,
                        key: Some(key),
                        fresh: false,
                        data: changes,
                        prewritten: false,
                    })
                }
                Write::Delete { key } => {
                    keys::validate(name, &key)?;
                    Ok(Checked {
                        kind,
                        key: Some(key),
                        fresh: false,
                        data: JsValue::UNDEFINED,
                        prewritten: false,
                    })
                }
            }
        })
        .collect()
}
