//! Records, field patches and the operations ([`Op`]) that change them.
//!
//! Records are JSON objects in core and on the wire; the browser half converts at the
//! port boundary. [`apply_op`] is the one definition of what an operation does to a
//! record, used by the client (to compute the local view) and by the server.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A record: a JSON object.
pub type Record = Map<String, Value>;

/// A field-level patch: each field present is set to the given value (other fields are
/// untouched). A field cannot be removed by a patch; use a put of the whole record.
pub type Patch = Map<String, Value>;

/// One change to one record, as stored in the outbox and sent on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
// Decoded through a flat struct (`crate::protocol::flat`), not serde's buffering
// internally tagged decoding; encoded with `kind` as the tag.
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    try_from = "crate::protocol::flat::RawOp"
)]
pub enum Op {
    /// Create a record that the client believes does not exist on the server.
    Create {
        /// The whole new record.
        record: Record,
    },
    /// Replace the whole record (fields absent from `record` are removed).
    Put {
        /// The whole new record.
        record: Record,
    },
    /// Set the listed fields.
    Update {
        /// The changed fields only.
        patch: Patch,
    },
    /// Delete the record.
    Delete,
}

impl Op {
    /// The op's kind as used in logs: `create`, `put`, `update`, `delete`.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Create { .. } => "create",
            Op::Put { .. } => "put",
            Op::Update { .. } => "update",
            Op::Delete => "delete",
        }
    }

    /// The fields this op writes (all fields of the record for create/put).
    pub fn fields(&self) -> Option<&Map<String, Value>> {
        match self {
            Op::Create { record } | Op::Put { record } => Some(record),
            Op::Update { patch } => Some(patch),
            Op::Delete => None,
        }
    }
}

/// Sets every field of `patch` in `record` (later value wins).
pub fn apply_patch(record: &mut Record, patch: &Patch) {
    for (field, value) in patch {
        record.insert(field.clone(), value.clone());
    }
}

/// What `op` makes of a record that was `base` (`None` = absent or deleted).
///
/// An update of an absent record leaves it absent: there is nothing to patch.
pub fn apply_op(base: Option<&Record>, op: &Op) -> Option<Record> {
    match op {
        Op::Create { record } | Op::Put { record } => Some(record.clone()),
        Op::Update { patch } => base.map(|b| {
            let mut out = b.clone();
            apply_patch(&mut out, patch);
            out
        }),
        Op::Delete => None,
    }
}
