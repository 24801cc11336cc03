// `idb-sync/vue`: composables over a `SyncManager` for Vue 3.3+, returning refs. The
// shapes follow the composables apps already have over Dexie (`useSyncStatus()`
// returning `{ status, sync }`, `useNetworkStatus()` returning `{ isOnline }`, a list
// returning `{ … , loading }`). The manager comes from the argument or from
// `provideSync(sync)` / `app.use(syncPlugin(sync))`.
import { inject, onScopeDispose, provide, ref, shallowRef, watch, isRef } from 'vue';
import { liveQuery } from './live_query.js';

const SYNC = Symbol('idb-sync manager');

/** Provides `sync` to the composables of this component's descendants. */
export function provideSync(sync) {
  provide(SYNC, sync);
}

/** A Vue plugin providing `sync` to the whole app: `app.use(syncPlugin(sync))`. */
export function syncPlugin(sync) {
  return { install: (app) => app.provide(SYNC, sync) };
}

/** The provided manager; throws without one. */
export function useSyncManager() {
  return manager(undefined, 'useSyncManager');
}

function manager(sync, composable) {
  const found = sync ?? inject(SYNC, null);
  if (!found) {
    throw new TypeError(`${composable}: pass a SyncManager or provide one (provideSync / syncPlugin)`);
  }
  return found;
}

/** `{ status, sync }`: the status as a ref kept current, and `sync()` (= `syncNow()`). */
export function useSyncStatus(sync) {
  const m = manager(sync, 'useSyncStatus');
  const status = shallowRef(m.getSyncStatus());
  const stop = m.subscribe((next) => {
    status.value = next;
  });
  onScopeDispose(stop);
  return { status, sync: () => m.syncNow() };
}

/** `{ isOnline }`: whether the browser says it is online, as a ref kept current. */
export function useNetworkStatus() {
  const isOnline = ref(typeof navigator === 'undefined' ? true : navigator.onLine);
  const up = () => (isOnline.value = true);
  const down = () => (isOnline.value = false);
  globalThis.addEventListener('online', up);
  globalThis.addEventListener('offline', down);
  onScopeDispose(() => {
    globalThis.removeEventListener('online', up);
    globalThis.removeEventListener('offline', down);
  });
  return { isOnline };
}

/**
 * `{ result, loading, error }`: refs of `querier()`'s result, re-run after every change
 * of a database opened in this page (local writes, pulled changes, other tabs) and when
 * a source in `deps` (refs or getters, as for `watch`) changes; `initial` until the
 * first result.
 */
export function useLiveQuery(querier, deps = [], initial) {
  const result = shallowRef(initial);
  const loading = ref(true);
  const error = shallowRef(undefined);
  let subscription = null;
  const start = () => {
    subscription?.unsubscribe();
    subscription = liveQuery(querier).subscribe({
      next: (value) => {
        result.value = value;
        error.value = undefined;
        loading.value = false;
      },
      error: (e) => {
        error.value = e;
        loading.value = false;
      },
    });
  };
  start();
  const sources = deps.filter((d) => isRef(d) || typeof d === 'function');
  const stopWatching = sources.length ? watch(sources, start) : () => {};
  onScopeDispose(() => {
    stopWatching();
    subscription?.unsubscribe();
  });
  return { result, loading, error };
}
