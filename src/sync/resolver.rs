//! [`JsResolver`]: the app's conflict function `(local, remote, change) => merged`
//! as the core's `ConflictResolver`. `local`/`remote` are the records (`null` when
//! deleted), `change` the local change not yet on the server (`{ op, record | patch }`);
//! returning `null` deletes the record. A function that throws or returns something
//! else than an object or `null` is logged, and field merge decides instead.

use idb_sync_core::conflict::{ConflictResolver, NoResolver, ResolverContext};
use idb_sync_core::Record;
use js_sys::Function;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// The app's conflict function, if any.
pub(crate) struct JsResolver(pub(crate) Option<Function>);

fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

impl ConflictResolver for JsResolver {
    fn resolve(&self, ctx: &ResolverContext<'_>) -> Option<Record> {
        let Some(f) = &self.0 else {
            return NoResolver.resolve(ctx);
        };
        let (local, remote, change) = (
            to_js(&ctx.local),
            to_js(&ctx.remote),
            to_js(&ctx.local_change),
        );
        match f.call3(&JsValue::NULL, &local, &remote, &change) {
            Ok(v) if v.is_null() => None,
            Ok(v) if v.is_object() => match serde_wasm_bindgen::from_value::<Record>(v) {
                Ok(record) => Some(record),
                Err(e) => {
                    web_sys::console::error_1(&format!("idb-sync: the conflict function returned a bad record ({e}); using field merge").into());
                    NoResolver.resolve(ctx)
                }
            },
            Ok(_) => {
                web_sys::console::error_1(&"idb-sync: the conflict function must return an object or null; using field merge".into());
                NoResolver.resolve(ctx)
            }
            Err(e) => {
                web_sys::console::error_2(
                    &"idb-sync: the conflict function threw; using field merge".into(),
                    &e,
                );
                NoResolver.resolve(ctx)
            }
        }
    }
}
