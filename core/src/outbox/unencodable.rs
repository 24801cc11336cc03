//! A pending change whose stored data cannot be encoded for the wire (I9 "no mutation
//! blocks another"). The table API refuses such values at write time (I8), but other
//! code (Dexie, a migration) can write straight into a synced table — a `Map`, a
//! `BigInt` — and adoption or a later change then queues that row. Encoding the push
//! batch would fail on it every round and stop the whole queue. Instead the batch
//! builder sets it aside with [`set_aside_unencodable`]: one dead letter (code
//! `invalid_value`, the reason naming the field path), rolled back by the one
//! dead-letter rule (docs/SYNC_MANAGER.md), and the rest of the queue flows.
//!
//! The dead letter keeps what can be kept: [`encodable_part`] drops each top-level
//! field holding a value that cannot be encoded and names it in the reason.

use std::collections::BTreeSet;

use crate::conflict::DeadLetter;
use crate::key::RecordId;
use crate::outbox::{ClientMeta, KeyState, OpKind};
use crate::record::{Op, Record};
use crate::value::{encode_fields, ArrayItems, Shape, Step, Text, ValueError, ValueSource};

/// The dead-letter code of a change set aside this way.
pub const INVALID_VALUE: &str = crate::ErrorCode::InvalidValue.as_str();

/// A value source that hides some top-level fields of the object it wraps.
#[derive(Clone)]
struct Without<'a, S> {
    inner: S,
    /// Top-level field names to hide (`None` below the top level).
    hidden: Option<&'a BTreeSet<String>>,
}

impl<S: ValueSource + Clone> ValueSource for Without<'_, S> {
    fn shape(&self) -> Shape {
        self.inner.shape()
    }

    fn items(&self) -> Result<ArrayItems<Self>, String> {
        let items = self.inner.items()?;
        Ok(ArrayItems {
            items: items
                .items
                .into_iter()
                .map(|item| {
                    item.map(|inner| Without {
                        inner,
                        hidden: None,
                    })
                })
                .collect(),
            extra_property: items.extra_property,
        })
    }

    fn entries(&self) -> Result<Vec<(Text, Self)>, String> {
        Ok(self
            .inner
            .entries()?
            .into_iter()
            .filter(|(name, _)| self.hidden.is_none_or(|h| !h.contains(&name.text)))
            .map(|(name, inner)| {
                (
                    name,
                    Without {
                        inner,
                        hidden: None,
                    },
                )
            })
            .collect())
    }

    fn same(&self, other: &Self) -> bool {
        self.inner.same(&other.inner)
    }
}

/// What can be kept of an object that does not encode: its fields, without each
/// top-level field whose value cannot be encoded, and the errors that removed them
/// (in the order found; empty when the whole object encodes).
pub fn encodable_part<S: ValueSource + Clone>(object: &S) -> (Record, Vec<ValueError>) {
    let mut hidden = BTreeSet::new();
    let mut errors = Vec::new();
    loop {
        let source = Without {
            inner: object.clone(),
            hidden: Some(&hidden),
        };
        match encode_fields(&source) {
            Ok(encoded) => return (encoded.fields, errors),
            Err(error) => {
                let field = match error.path.0.first() {
                    Some(Step::Field(name)) if !hidden.contains(name) => name.clone(),
                    // Not attributable to one field: nothing can be kept.
                    _ => {
                        errors.push(error);
                        return (Record::new(), errors);
                    }
                };
                hidden.insert(field);
                errors.push(error);
            }
        }
    }
}

/// Sets aside the pending change of `id` (of kind `kind`) that cannot be encoded:
/// clears it from `state`, rolls the record back (a record the server never had is
/// removed locally; one it has is removed until the next pull, which must fetch the
/// server's copy again: the cursor is dropped) and returns the dead letter to store,
/// its id taken from `meta`. `kept` is what can be kept of the change (see
/// [`encodable_part`]); `errors` why the rest could not (at least one).
///
/// `state` must have no in-flight entry (the batch builder only queues new work when
/// nothing is in flight). After the call `state.value` is `None`: the adapter deletes
/// the local row.
pub fn set_aside_unencodable(
    id: &RecordId,
    state: &mut KeyState,
    kind: OpKind,
    kept: Record,
    errors: &[ValueError],
    meta: &mut ClientMeta,
    now_ms: u64,
) -> DeadLetter {
    state.pending = None;
    let server_had_it = state.roll_back_to_server_copy(meta);
    let op = match kind {
        OpKind::Create => Op::Create { record: kept },
        OpKind::Put => Op::Put { record: kept },
        OpKind::Update => Op::Update { patch: kept },
        OpKind::Delete => Op::Delete,
    };
    let problems: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let left_out: Vec<String> = errors
        .iter()
        .filter_map(|e| match e.path.0.first() {
            Some(Step::Field(name)) => Some(format!("`{name}`")),
            _ => None,
        })
        .collect();
    let rollback = if server_had_it {
        "the local change was rolled back to the server's copy"
    } else {
        "the local record was rolled back (removed: the server never had it)"
    };
    let reason = format!(
        "the stored record cannot be synced, it was written outside idb-sync: {}; {rollback}; this dead letter keeps the rest{}",
        problems.join("; "),
        if left_out.is_empty() {
            String::new()
        } else {
            format!(" (without {})", left_out.join(", "))
        },
    );
    DeadLetter {
        id: meta.take_dead_letter_id(),
        record: id.clone(),
        op,
        seq: 0,
        code: INVALID_VALUE.into(),
        reason,
        at_ms: now_ms,
    }
}
