//! The periods, in whole milliseconds: `interval`, `hiddenInterval` and `debounce`
//! (the scheduler's settings, defaults filled in) and `leaderHeartbeat`.

use super::{OptionError, OptionValue};
use crate::sync_loop::tabs::Heartbeat;
use crate::sync_loop::SchedulerConfig;
use crate::ErrorCode;

/// The longest period accepted: one day.
const MAX_MS: f64 = 24.0 * 3_600_000.0;
/// The shortest `interval`, `hiddenInterval` and `leaderHeartbeat`.
const MIN_PERIOD_MS: f64 = 100.0;

/// `interval`, `hiddenInterval` and `debounce` of `options` as the scheduler's
/// settings. `interval: 0` or `false` turns periodic sync off; a `debounce` longer
/// than the default cap raises the cap to it.
pub(crate) fn scheduler(options: &OptionValue) -> Result<SchedulerConfig, OptionError> {
    let defaults = SchedulerConfig::default();
    let interval = options.get("interval");
    let interval_ms = if interval.as_bool() == Some(false) || interval.as_f64() == Some(0.0) {
        None
    } else {
        millis(
            interval,
            "interval",
            ErrorCode::InvalidInterval,
            MIN_PERIOD_MS,
        )?
        .or(defaults.interval_ms)
    };
    let hidden_interval_ms = millis(
        options.get("hiddenInterval"),
        "hiddenInterval",
        ErrorCode::InvalidHiddenInterval,
        MIN_PERIOD_MS,
    )?;
    let debounce_ms = millis(
        options.get("debounce"),
        "debounce",
        ErrorCode::InvalidDebounce,
        0.0,
    )?;
    Ok(SchedulerConfig {
        interval_ms,
        hidden_interval_ms: hidden_interval_ms.unwrap_or(defaults.hidden_interval_ms),
        debounce_ms: debounce_ms.unwrap_or(defaults.debounce_ms),
        max_debounce_ms: defaults.max_debounce_ms.max(debounce_ms.unwrap_or(0)),
        retry: defaults.retry,
    })
}

/// `leaderHeartbeat`, or the tab coordination's default period when absent.
pub(crate) fn leader_heartbeat(v: &OptionValue) -> Result<Heartbeat, OptionError> {
    let period_ms = millis(
        v,
        "leaderHeartbeat",
        ErrorCode::InvalidLeaderHeartbeat,
        MIN_PERIOD_MS,
    )?;
    Ok(period_ms.map_or_else(Heartbeat::default, |period_ms| Heartbeat { period_ms }))
}

/// A whole number of milliseconds from `min` to one day, or `None` when absent.
fn millis(
    v: &OptionValue,
    option: &str,
    code: ErrorCode,
    min: f64,
) -> Result<Option<u64>, OptionError> {
    if v.is_absent() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(ms) if ms.is_finite() && ms.fract() == 0.0 && ms >= min && ms <= MAX_MS => {
            Ok(Some(ms as u64))
        }
        _ => Err(OptionError::new(
            code,
            option,
            format!("expected whole milliseconds from {min} to {MAX_MS}"),
        )),
    }
}
