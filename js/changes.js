// The change events of every database opened in this page, in one place: each
// `SyncManager`/`LocalDatabase` opened through the package is watched (all tables,
// `onChange('*')`) until it is closed, and `subscribeChanges` listeners hear every
// event. `liveQuery` re-runs on them.

const listeners = new Set();

/** Forwards `db`'s change events (every table) to the listeners until `db.close()`. */
export function watchChanges(db) {
  const stop = db.onChange('*', (event) => {
    for (const listener of [...listeners]) listener(event);
  });
  const close = db.close;
  db.close = function closeAndStopWatching() {
    stop();
    return close.call(db);
  };
}

/** Calls `listener(event)` after each change of any watched database; returns the
 * function that removes it. */
export function subscribeChanges(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
