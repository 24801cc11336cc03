//! The JSON body of every non-2xx answer.

use serde::{Deserialize, Serialize};

/// `{"error": {...}}`: the body of every HTTP error answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The content of an [`ErrorBody`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `upgrade_required`, `payload_too_large`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// For `upgrade_required`: the protocol versions the server speaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_versions: Option<Vec<u32>>,
}

impl ErrorBody {
    /// Builds an error body.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
                supported_versions: None,
            },
        }
    }
}
