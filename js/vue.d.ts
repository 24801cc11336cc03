// Declarations of `idb-sync/vue` (js/vue.js).
import type { Plugin, Ref, ShallowRef, WatchSource } from 'vue';
import type { SyncManager, SyncNowResult, SyncStatus, Tables } from './index.js';

/** Provides `sync` to the composables of this component's descendants. */
export declare function provideSync(sync: SyncManager<any>): void;

/** A Vue plugin providing `sync` to the whole app: `app.use(syncPlugin(sync))`. */
export declare function syncPlugin(sync: SyncManager<any>): Plugin;

/** The provided manager (typed by the app's tables as `useSyncManager<{ tasks: Task }>()`);
 * throws a `TypeError` when none is provided. */
export declare function useSyncManager<DB extends Tables = any>(): SyncManager<DB>;

/** The status as a ref kept current, and `sync()` to run a round now. */
export declare function useSyncStatus(sync?: SyncManager<any>): {
  status: Readonly<ShallowRef<SyncStatus>>;
  sync: () => Promise<SyncNowResult>;
};

/** Whether the browser says it is online, as a ref kept current. */
export declare function useNetworkStatus(): { isOnline: Readonly<Ref<boolean>> };

/** What `useLiveQuery` returns. */
export interface LiveQueryRefs<T> {
  /** The latest result (`initial` until the first). */
  result: Readonly<ShallowRef<T>>;
  /** True until the first result or error. */
  loading: Readonly<Ref<boolean>>;
  /** The error of the latest run, if it failed. */
  error: Readonly<ShallowRef<unknown>>;
}

/** Refs of `querier()`'s result, re-run after every change and when a source in `deps`
 * changes. */
export declare function useLiveQuery<T>(querier: () => T | Promise<T>, deps?: WatchSource[]): LiveQueryRefs<T | undefined>;
export declare function useLiveQuery<T, I>(querier: () => T | Promise<T>, deps: WatchSource[], initial: I): LiveQueryRefs<T | I>;
