//! `endpoint`: the sync server's http(s) base URL, without trailing slashes.

use super::{OptionError, OptionValue};
use crate::ErrorCode;

/// The base URL the requests go to (`<endpoint>/v1/...`).
pub(crate) fn endpoint(v: &OptionValue) -> Result<String, OptionError> {
    let base = v.as_str().unwrap_or_default().trim_end_matches('/');
    let host = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"))
        .unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(OptionError::new(
            ErrorCode::InvalidEndpoint,
            "endpoint",
            "expected the sync server's http(s) base URL",
        ));
    }
    Ok(base.to_owned())
}
