//! `batch`: `{ maxCount, maxBytes }`, the limits of one push request.

use super::{path, OptionError, OptionValue};
use crate::outbox::BatchLimits;
use crate::ErrorCode;

/// The most mutations one request may carry.
const MAX_COUNT: f64 = 10_000.0;
/// The most bytes of JSON mutations one request may carry (64 MiB).
const MAX_BYTES: f64 = 64.0 * 1024.0 * 1024.0;

/// Reads `batch`; an absent limit keeps its default ([`BatchLimits::default`]).
pub(crate) fn batch(v: &OptionValue) -> Result<BatchLimits, OptionError> {
    let mut limits = BatchLimits::default();
    if v.is_absent() {
        return Ok(limits);
    }
    if !v.is_object() {
        return Err(OptionError::new(
            ErrorCode::InvalidBatch,
            "batch",
            "expected { maxCount, maxBytes }",
        ));
    }
    if let Some(n) = whole(v, "maxCount", ErrorCode::InvalidBatchCount, MAX_COUNT)? {
        limits.max_count = n;
    }
    if let Some(n) = whole(v, "maxBytes", ErrorCode::InvalidBatchBytes, MAX_BYTES)? {
        limits.max_bytes = n;
    }
    Ok(limits)
}

/// `batch.<name>`: a whole number from 1 to `max`, or `None` when absent.
fn whole(
    batch: &OptionValue,
    name: &str,
    code: ErrorCode,
    max: f64,
) -> Result<Option<usize>, OptionError> {
    let v = batch.get(name);
    if v.is_absent() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= 1.0 && n <= max => Ok(Some(n as usize)),
        _ => Err(OptionError::new(
            code,
            path("batch", name),
            format!("`batch.{name}` must be a whole number from 1 to {max}"),
        )),
    }
}
