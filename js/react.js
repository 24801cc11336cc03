// `idb-sync/react`: hooks over a `SyncManager` for React 18+. The shapes follow the
// hooks apps already have over Dexie (`useSyncStatus()` returning `{ ...status, sync }`,
// `useNetworkStatus()` returning a boolean, `useLiveQuery(querier, deps, initial)` as in
// dexie-react-hooks), so replacing them is a small diff. The manager comes from the
// argument or from the nearest `<SyncProvider sync={…}>`.
import { createContext, createElement, useContext, useEffect, useState, useCallback } from 'react';
import { liveQuery } from './live_query.js';

const SyncContext = createContext(null);

/** Makes `sync` the manager of the hooks below it. */
export function SyncProvider({ sync, children }) {
  return createElement(SyncContext.Provider, { value: sync }, children);
}

/** The manager given to the nearest `SyncProvider`; throws without one. */
export function useSyncManager() {
  return useManager(undefined, 'useSyncManager');
}

function useManager(sync, hook) {
  const provided = useContext(SyncContext);
  const manager = sync ?? provided;
  if (!manager) {
    throw new TypeError(`${hook}: pass a SyncManager or render inside <SyncProvider sync={…}>`);
  }
  return manager;
}

/** The sync status, kept current, spread into an object with `sync()` (= `syncNow()`). */
export function useSyncStatus(sync) {
  const manager = useManager(sync, 'useSyncStatus');
  const [status, setStatus] = useState(() => manager.getSyncStatus());
  useEffect(() => {
    setStatus(manager.getSyncStatus());
    return manager.subscribe(setStatus);
  }, [manager]);
  const syncNow = useCallback(() => manager.syncNow(), [manager]);
  return { ...status, sync: syncNow };
}

/** Whether the browser says it is online (`navigator.onLine`, kept current). */
export function useNetworkStatus() {
  const [online, setOnline] = useState(() => (typeof navigator === 'undefined' ? true : navigator.onLine));
  useEffect(() => {
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    globalThis.addEventListener('online', up);
    globalThis.addEventListener('offline', down);
    return () => {
      globalThis.removeEventListener('online', up);
      globalThis.removeEventListener('offline', down);
    };
  }, []);
  return online;
}

/**
 * The result of `querier()`, re-run after every change of a database opened in this
 * page (local writes, pulled changes, other tabs) and when `deps` change; `initial`
 * until the first result. A query that fails throws its error at render, for an error
 * boundary to catch.
 */
export function useLiveQuery(querier, deps = [], initial) {
  const [state, setState] = useState({ value: initial, error: undefined });
  useEffect(() => {
    const subscription = liveQuery(querier).subscribe({
      next: (value) => setState({ value, error: undefined }),
      error: (error) => setState((s) => ({ value: s.value, error })),
    });
    return () => subscription.unsubscribe();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  if (state.error !== undefined) throw state.error;
  return state.value;
}
