//! `SyncErrorCode`: the TypeScript union of every error code, generated from the
//! core's one list (`idb_sync_core::for_each_error_code!`) as a `#[wasm_bindgen]`
//! string enum, so the `.d.ts` can never drift from [`idb_sync_core::ErrorCode`].

use wasm_bindgen::prelude::*;

macro_rules! js_error_code {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, )*) => {
        /// Every stable error code of idb-sync (`SyncError.code`,
        /// `status.lastError.code`, `DeadLetter.code`, `SyncError.serverCode`); see
        /// docs/ERRORS.md. Generated from `idb_sync_core::ErrorCode`.
        #[wasm_bindgen]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum SyncErrorCode {
            $( $(#[$doc])* $variant = $code, )*
        }

        /// Every code, in the order of the core's list.
        const ALL: &[SyncErrorCode] = &[$(SyncErrorCode::$variant,)*];
    };
}

idb_sync_core::for_each_error_code!(js_error_code);

/// `errorCodes()`: every error code idb-sync can show, in the order of
/// docs/ERRORS.md. (Exporting it is also what makes wasm-bindgen emit the
/// `SyncErrorCode` union into the `.d.ts`.)
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<SyncErrorCode> {
    ALL.to_vec()
}

#[cfg(test)]
mod tests {
    use wasm_bindgen::JsValue;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    // The browser tier runs browser tests only: without this the test is skipped.
    wasm_bindgen_test_configure!(run_in_browser);

    /// The list JavaScript gets is the core's list, code for code, in order.
    #[wasm_bindgen_test]
    fn the_js_list_is_the_core_list() {
        let js: Vec<String> = super::error_codes()
            .into_iter()
            .map(|c| JsValue::from(c).as_string().expect("a string enum"))
            .collect();
        let core: Vec<&str> = idb_sync_core::ErrorCode::ALL
            .iter()
            .map(|c| c.as_str())
            .collect();
        assert_eq!(js, core);
    }
}
