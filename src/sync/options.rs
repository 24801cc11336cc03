//! The options of `SyncManager.open`: read from JavaScript once
//! ([`crate::options::JsOptions`]), validated by core (`core/src/options/`, rules in
//! `docs/SYNC_MANAGER.md`), and the JS functions core found put back in place.

#[cfg(feature = "adapters")]
use idb_sync_core::options::ProtocolOption;
use idb_sync_core::options::{self as core_options, AuthOption as CoreAuth, ManagerOptions};
use js_sys::Function;
use wasm_bindgen::JsValue;

#[cfg(feature = "adapters")]
use super::custom::CustomFunctions;
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
    /// `protocol: { kind: 'custom', push, pull }`'s functions (`adapters` build).
    #[cfg(feature = "adapters")]
    pub(crate) custom: Option<CustomFunctions>,
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
    #[cfg(feature = "adapters")]
    let custom = match core.protocol {
        ProtocolOption::Custom { push, pull } => Some(CustomFunctions {
            push: js.function(push),
            pull: js.function(pull),
        }),
        _ => None,
    };
    Ok(Options {
        core,
        auth,
        resolver,
        #[cfg(feature = "adapters")]
        custom,
    })
}
