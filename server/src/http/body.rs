//! Request bodies: JSON parsed from the raw bytes so that every failure is our own
//! JSON error with a code — 413 `payload_too_large` over the body limit, 400
//! `malformed_json` for bytes that are not JSON, 400 `invalid_request` for JSON of the
//! wrong shape (missing fields, wrong types, unknown enum values), and 426
//! `upgrade_required` for a `protocolVersion` this server does not speak.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::ApiError;

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::payload_too_large(
                        "the request body is larger than this server accepts",
                    )
                } else {
                    ApiError::bad_request("invalid_request", rejection.body_text())
                }
            })?;
        parse(&bytes).map(JsonBody)
    }
}

/// Just the protocol version of a message, read when the rest does not parse.
#[derive(Deserialize)]
struct VersionProbe {
    #[serde(rename = "protocolVersion")]
    protocol_version: Option<serde_json::Value>,
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|error| {
        if error.is_syntax() || error.is_eof() {
            return ApiError::bad_request(
                "malformed_json",
                format!("the body is not JSON: {error}"),
            );
        }
        if let Ok(VersionProbe {
            protocol_version: Some(version),
        }) = serde_json::from_slice::<VersionProbe>(bytes)
        {
            if version != idb_sync_core::PROTOCOL_VERSION {
                return idb_sync_core::server::ServerError::UpgradeRequired(
                    version.as_u64().unwrap_or(0) as u32,
                )
                .into();
            }
        }
        ApiError::bad_request(
            "invalid_request",
            format!("the body does not match the message: {error}"),
        )
    })
}
