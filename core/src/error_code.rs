//! [`ErrorCode`]: the one vocabulary of error codes of idb-sync — every code the
//! package shows to an app (`SyncError.code`, `status.lastError.code`,
//! `DeadLetter.code`, `SyncError.serverCode`), in one list.
//!
//! The list is written once, in [`for_each_error_code!`], which hands it to a
//! callback macro. This crate expands it into [`ErrorCode`]; the wasm crate expands
//! the same list under `#[wasm_bindgen]` into the string enum `SyncErrorCode`, so the
//! TypeScript union of codes is generated from it and can never drift. The table of
//! codes in `docs/ERRORS.md` is checked against it by a test
//! (`core/tests/error_codes_doc.rs`, which prints the table to paste when they differ).

/// Calls `$callback! { $( #[doc] Variant = "code", )* }` with every error code.
///
/// The order is the order of the documentation table: the package's own codes,
/// grouped by where they come from, then the codes of a sync server's answers that
/// reach the app (as `DeadLetter.code` or `SyncError.serverCode`).
#[macro_export]
macro_rules! for_each_error_code {
    ($callback:ident) => {
        $callback! {
            // Options of `SyncManager.open` / `LocalDatabase.open` (`error.option` names the key).
            /// The options are not an object.
            InvalidOptions = "invalid_options",
            /// The options hold a key idb-sync does not know.
            UnknownOption = "unknown_option",
            /// `dbName` is not a non-empty string.
            InvalidDbName = "invalid_db_name",
            /// `version` is not a positive integer.
            InvalidVersion = "invalid_version",
            /// The schema is malformed, or a synced table cannot be synced.
            InvalidSchema = "invalid_schema",
            /// An existing table has another key or index than the schema declares.
            SchemaConflict = "schema_conflict",
            /// `endpoint` is not an http(s) URL.
            InvalidEndpoint = "invalid_endpoint",
            /// `auth` is neither `{ getToken }` nor `{ apiKey }`.
            InvalidAuth = "invalid_auth",
            /// `interval` is not a non-negative number or `false`.
            InvalidInterval = "invalid_interval",
            /// `hiddenInterval` is not a non-negative number.
            InvalidHiddenInterval = "invalid_hidden_interval",
            /// `debounce` is not a non-negative number.
            InvalidDebounce = "invalid_debounce",
            /// `leaderHeartbeat` is not a number of at least 100.
            InvalidLeaderHeartbeat = "invalid_leader_heartbeat",
            /// `conflict` is not a policy name, a function or `{ default, tables }`.
            InvalidConflict = "invalid_conflict",
            /// `batch` is not an object.
            InvalidBatch = "invalid_batch",
            /// `batch.maxCount` is not a positive integer.
            InvalidBatchCount = "invalid_batch_count",
            /// `batch.maxBytes` is not a positive integer.
            InvalidBatchBytes = "invalid_batch_bytes",
            /// `clientId` is not a non-empty string.
            InvalidClientId = "invalid_client_id",
            /// `autoSync` is not a boolean.
            InvalidAutoSync = "invalid_auto_sync",
            /// `adopt` is not `'push'`, `'pull'` or `'none'`.
            InvalidAdopt = "invalid_adopt",
            /// `protocol` is not `'v1'` or a known adapter with valid names (`error.option` says which).
            InvalidProtocol = "invalid_protocol",
            /// `live` is not a boolean.
            InvalidLive = "invalid_live",
            /// `persistStorage` is not a boolean.
            InvalidPersistStorage = "invalid_persist_storage",

            // Arguments and data of a call.
            /// An argument of a method is not what it accepts.
            InvalidArgument = "invalid_argument",
            /// The table is not declared in the schema.
            UnknownTable = "unknown_table",
            /// The index is not declared for the table.
            UnknownIndex = "unknown_index",
            /// A record is not a plain object.
            InvalidRecord = "invalid_record",
            /// A value cannot be synced (it would not come back the same); `error.path` says where.
            InvalidValue = "invalid_value",
            /// A record has no key and the table does not generate keys.
            MissingKey = "missing_key",
            /// A key is not a string or a finite number.
            InvalidKey = "invalid_key",
            /// `add` of a key that exists.
            KeyExists = "key_exists",
            /// A unique index would hold the same value twice.
            UniqueViolation = "unique_violation",
            /// The record, conflict or dead letter asked for does not exist.
            NotFound = "not_found",
            /// The call asks for something impossible in the current state.
            InvalidOperation = "invalid_operation",

            // Local storage.
            /// IndexedDB failed; `error.cause` is the browser's `DOMException` when there is one.
            StorageError = "storage_error",
            /// The browser refused a write for its storage quota (`QuotaExceededError`): nothing of it was written.
            QuotaExceeded = "quota_exceeded",
            /// The database was closed.
            DatabaseClosed = "database_closed",
            /// The database was deleted behind the engine's back (site data cleared, eviction, `deleteDatabase`); it was recreated and refilled from the server (`status.storage.evicted`).
            StorageEvicted = "storage_evicted",
            /// A dead letter: the record's sync state could not be read; the reason shows the stored row.
            CorruptState = "corrupt_state",

            // The sync manager.
            /// `close()` was called on the sync manager.
            ManagerClosed = "manager_closed",
            /// The browser is offline: no request is attempted.
            Offline = "offline",
            /// The tab that ran the sync loop did not answer, or lost the lead: try again.
            LeaderUnavailable = "leader_unavailable",
            /// A panic happened inside the package; reload the page.
            Panicked = "panicked",

            // Talking to the server.
            /// The server could not be reached (offline, refused, DNS, CORS).
            NetworkError = "network_error",
            /// The server answered with an HTTP error; `error.status` and `error.serverCode` say which.
            ServerError = "server_error",
            /// The server refused the credentials, or `getToken()` failed.
            AuthFailed = "auth_failed",
            /// The server no longer speaks this protocol version.
            UpgradeRequired = "upgrade_required",
            /// The server's answer broke the protocol; nothing of it was applied.
            MalformedResponse = "malformed_response",
            /// The server rejected a request as a whole and it cannot be split further.
            RequestRejected = "request_rejected",
            /// The local data belongs to another account than the one signed in.
            AccountChanged = "account_changed",
            /// A dead letter: the change failed alone, again and again, while the server answered others.
            Poison = "poison",

            // Codes of a sync server's answers that reach the app.
            /// Server: the request is malformed.
            BadRequest = "bad_request",
            /// Server: the body is not JSON.
            MalformedJson = "malformed_json",
            /// Server: JSON of the wrong shape (a missing field, a wrong type, ...).
            InvalidRequest = "invalid_request",
            /// Server: the pull cursor is not one it issued (the client starts over).
            BadCursor = "bad_cursor",
            /// Server: the body or the number of mutations is over its limit.
            PayloadTooLarge = "payload_too_large",
            /// Server: one record is larger than it accepts.
            RecordTooLarge = "record_too_large",
            /// Server: the table name is not one it accepts.
            InvalidTable = "invalid_table",
            /// Server: a client id was used by another database (the client takes a new one).
            ClientIdReused = "client_id_reused",
            /// Server: too many requests; retried after `Retry-After`.
            RateLimited = "rate_limited",
            /// Server: no credentials were sent.
            MissingToken = "missing_token",
            /// Server: the token is not valid.
            InvalidToken = "invalid_token",
            /// Server: the token has expired (the client asks `getToken()` once more).
            TokenExpired = "token_expired",
            /// Server: it failed inside; the request changed nothing.
            Internal = "internal",
            /// Server: its database does not answer.
            DatabaseUnavailable = "database_unavailable",
        }
    };
}

macro_rules! define_error_code {
    ($( $(#[doc = $doc:literal])* $variant:ident = $code:literal, )*) => {
        /// Every error code of idb-sync. [`ErrorCode::as_str`] is the stable
        /// `snake_case` code JavaScript sees; the list is [`for_each_error_code!`].
        #[non_exhaustive]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in the order of the list.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable code, e.g. `"network_error"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// What the code means: its documentation in the list (the text of
            /// the table in `docs/ERRORS.md`).
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => concat!($($doc),*).trim(),)*
                }
            }
        }
    };
}

for_each_error_code!(define_error_code);

impl ErrorCode {
    /// The code named `code`, if it is one of the list.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        ErrorCode::parse(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code {code:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;
    use std::collections::BTreeSet;

    #[test]
    fn every_code_is_listed_once_in_snake_case() {
        let mut seen = BTreeSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} is listed twice");
            assert!(
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s} is not snake_case"
            );
            assert_eq!(ErrorCode::parse(s), Some(*code));
        }
        assert_eq!(seen.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn one_name_per_failure() {
        // The network failure has one code (`network` was a second name for it).
        assert_eq!(ErrorCode::parse("network"), None);
        assert_eq!(ErrorCode::parse("callback_failed"), None);
        assert_eq!(ErrorCode::NetworkError, "network_error");
    }

    #[test]
    fn serializes_as_its_code() {
        let json = serde_json::to_string(&ErrorCode::RateLimited).unwrap();
        assert_eq!(json, "\"rate_limited\"");
        let back: ErrorCode = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ErrorCode::RateLimited);
        assert!(serde_json::from_str::<ErrorCode>("\"no_such_code\"").is_err());
    }
}
