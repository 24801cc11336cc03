// Sync after the tab closes, the JavaScript side (docs/SYNC_MANAGER.md, "After the
// tab closes"): `requestBackgroundSync(manager)` in a page registers a Background
// Sync tag while the outbox holds changes, and `drainOutbox(options)` in the app's
// service worker empties the outbox within the `sync` event. Glue only, in JS (no
// WebAssembly bytes): the rounds, their retries and backoff are the engine's own loop
// (core's scheduler); the keepalive push on `pagehide` is in the engine
// (src/sync/after_close.rs).
import { SyncManager } from './index.js';

/** The tag registered by default (the service worker's `sync` handler checks it). */
export const BACKGROUND_SYNC_TAG = 'idb-sync';

/** A `SyncError` made in JavaScript (same shape as the module's). */
function syncError(code, message) {
  return Object.assign(new Error(message), { name: 'SyncError', code });
}

/**
 * Registers the Background Sync tag `tag` whenever `manager`'s outbox holds changes
 * (a write, a failed round), so that a service worker drains it after the last tab
 * closed. Resolves to a function that stops it; does nothing where the browser lacks
 * Background Sync (`ServiceWorkerRegistration.sync`: Chromium only) or no service
 * worker controls the page.
 */
export async function requestBackgroundSync(manager, { tag = BACKGROUND_SYNC_TAG } = {}) {
  if (typeof tag !== 'string' || tag === '') throw syncError('invalid_argument', 'tag must be a non-empty string');
  const registration = await globalThis.navigator?.serviceWorker?.getRegistration?.();
  if (!registration?.sync) return () => {};
  let registered = false;
  return manager.onOutboxChange((entries) => {
    if (entries.length === 0) {
      registered = false;
    } else if (!registered) {
      registered = true;
      registration.sync.register(tag).catch((e) => {
        registered = false;
        console.warn('idb-sync: Background Sync registration failed', e);
      });
    }
  });
}

/**
 * In a service worker (or any worker): opens the database of `options` (those the
 * pages open it with, with credentials the worker can get: see the docs), lets the
 * engine's loop push until the outbox is empty — retrying with its backoff while the
 * server is unreachable — and closes it. Resolves to `{ pushed }` (changes that left)
 * once nothing is pending; rejects with the last round's error (a `SyncError`) when
 * changes are still pending after `deadlineMs` (default 120000: under Chromium's
 * three minutes for a `sync` event, so the browser retries the event later).
 */
export async function drainOutbox(options, { deadlineMs = 120_000 } = {}) {
  if (!(deadlineMs > 0)) throw syncError('invalid_argument', 'deadlineMs must be a positive number');
  const deadline = Date.now() + deadlineMs;
  const manager = await SyncManager.open({ ...options, live: false, autoSync: true });
  try {
    const before = await manager.getPendingCount();
    for (let left = before; left > 0; left = await manager.getPendingCount()) {
      const wait = deadline - Date.now();
      if (wait <= 0) {
        const error = manager.getSyncStatus().lastError;
        throw syncError(
          error?.code ?? 'leader_unavailable',
          `idb-sync: ${left} change(s) still pending after ${deadlineMs} ms${error ? `: ${error.message}` : ''}`,
        );
      }
      await nextStatus(manager, wait);
    }
    return { pushed: before };
  } finally {
    manager.close();
  }
}

/** Resolves at the next status without a round running (a round ended, counts
 * moved), or after `ms`. */
function nextStatus(manager, ms) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stop();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = manager.subscribe((status) => {
      if (!status.syncing) done();
    });
  });
}
