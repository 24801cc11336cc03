//! `auth`: how requests are authenticated — `{ getToken }` (a function, kept by the
//! wasm side) or `{ apiKey }`, exactly one of the two.

use super::{path, FunctionId, OptionError, OptionValue};
use crate::ErrorCode;

/// How requests are authenticated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AuthOption {
    /// No `Authorization` header.
    #[default]
    None,
    /// `getToken()` (sync or async) returns the bearer token.
    GetToken(FunctionId),
    /// A fixed API key sent as the bearer token.
    ApiKey(String),
}

const EXPECTED: &str = "expected { getToken: async () => token } or { apiKey: string }";

/// Reads `auth`; the error names `auth.getToken` or `auth.apiKey` when that one is
/// of the wrong type, `auth` when the object is wrong as a whole.
pub(crate) fn auth(v: &OptionValue) -> Result<AuthOption, OptionError> {
    if v.is_absent() {
        return Ok(AuthOption::None);
    }
    let bad = |option: String| OptionError::new(ErrorCode::InvalidAuth, option, EXPECTED);
    if !v.is_object() {
        return Err(bad("auth".into()));
    }
    let (get_token, api_key) = (v.get("getToken"), v.get("apiKey"));
    match (get_token.is_absent(), api_key.is_absent()) {
        (false, true) => match get_token {
            OptionValue::Function(f) => Ok(AuthOption::GetToken(*f)),
            _ => Err(bad(path("auth", "getToken"))),
        },
        (true, false) => match api_key.as_str() {
            Some(key) if !key.is_empty() => Ok(AuthOption::ApiKey(key.to_owned())),
            _ => Err(bad(path("auth", "apiKey"))),
        },
        _ => Err(bad("auth".into())),
    }
}
