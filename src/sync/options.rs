//! The options of `SyncManager.open`: read from JavaScript once
//! ([`crate::options::JsOptions`]), validated by core (`core/src/options/`, rules in
//! `docs/SYNC_MANAGER.md`), and the JS functions core found put back in place.

use idb_sync_core::options::{self as core_options, AuthOption as CoreAuth, ManagerOptions};
use js_sys::Function;
use wasm_bindgen::JsValue;

use super::error::ManagerError;
use crate::options::JsOptions;

/// How requests are authenticated.
pub(crate) enum AuthOption {
    /// No `Authorization` header.
    None,
    /// `getToken()` (sync or async) returns the bearer token.
    GetToken(Function),
    /// A fixed API key sent as the bearer token.
    ApiKey(String),
}

/// Validated options, with the app's functions.
pub(crate) struct Options {
    /// Everything core validated (`auth` and the resolver by [`FunctionId`]; read
    /// them from [`Options::auth`] and [`Options::resolver`]).
    ///
    /// [`FunctionId`]: idb_sync_core::options::FunctionId
    pub(crate) core: ManagerOptions,
    /// `auth`, with its `getToken` function.
    pub(crate) auth: AuthOption,
    /// The conflict function, if a policy is one.
    pub(crate) resolver: Option<Function>,
}

/// Validates the options object of `SyncManager.open`; a bad option rejects with its
/// own code and its path in `error.option`.
pub(crate) fn parse(options: &JsValue) -> Result<Options, ManagerError> {
    let js = JsOptions::read(options);
    let core = core_options::manager_options(&js.value)?;
    let auth = match &core.auth {
        CoreAuth::None => AuthOption::None,
        CoreAuth::GetToken(f) => AuthOption::GetToken(js.function(*f)),
        CoreAuth::ApiKey(key) => AuthOption::ApiKey(key.clone()),
    };
    let resolver = core.conflict.resolver.map(|f| js.function(f));
    Ok(Options {
        core,
        auth,
        resolver,
    })
}
