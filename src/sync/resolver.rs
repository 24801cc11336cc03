//! [`JsResolver`]: the app's conflict function `(local, remote, change) => merged`
//! as the core's `ConflictResolver`. `local`/`remote` are the records (`null` when
//! deleted), `change` the local change not yet on the server (`{ kind, record | patch }`);
//! returning `null` deletes the record. Records are given and taken as the app writes
//! them (Dates as Dates). A function that throws or returns something else than a
//! record that can be synced or `null` is logged here and reported to core as failed;
//! core decides what happens then (field merge: `idb_sync_core::conflict::resolve`).

use idb_sync_core::conflict::{ConflictResolver, NoResolver, ResolverContext, ResolverFailed};
use idb_sync_core::Record;
use js_sys::Function;
use wasm_bindgen::JsValue;

use crate::value;

/// The app's conflict function, if any.
pub(crate) struct JsResolver(pub(crate) Option<Function>);

impl ConflictResolver for JsResolver {
    fn resolve(&self, ctx: &ResolverContext<'_>) -> Result<Option<Record>, ResolverFailed> {
        let Some(f) = &self.0 else {
            return NoResolver.resolve(ctx);
        };
        // The records as the app wrote them (Dates as Dates).
        let local = value::optional_record_to_js(ctx.local);
        let remote = value::optional_record_to_js(ctx.remote);
        let change = ctx.local_change.map_or(JsValue::NULL, value::op_to_js);
        let failed = |why: String, thrown: Option<&JsValue>| {
            let message = format!("idb-sync: the conflict function {why}; using field merge");
            match thrown {
                Some(e) => web_sys::console::error_2(&message.as_str().into(), e),
                None => web_sys::console::error_1(&message.as_str().into()),
            }
            Err(ResolverFailed(why))
        };
        match f.call3(&JsValue::NULL, &local, &remote, &change) {
            Ok(v) if v.is_null() => Ok(None),
            Ok(v) if value::is_plain_object(&v) => match value::check_fields(&ctx.id.table, &v) {
                Ok(checked) => Ok(Some(checked.fields)),
                Err(e) => failed(format!("returned a bad record ({e})"), None),
            },
            Ok(_) => failed("must return an object or null".into(), None),
            Err(e) => failed("threw".into(), Some(&e)),
        }
    }
}
