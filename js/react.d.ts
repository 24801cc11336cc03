// Declarations of `idb-sync/react` (js/react.js).
import type { ReactNode, ReactElement, DependencyList } from 'react';
import type { SyncManager, SyncNowResult, SyncStatus, Tables } from './index.js';

/** Makes `sync` the manager of the hooks below it. */
export declare function SyncProvider(props: { sync: SyncManager<any>; children?: ReactNode }): ReactElement;

/** The manager given to the nearest `SyncProvider` (typed by the app's tables as
 * `useSyncManager<{ tasks: Task }>()`); throws a `TypeError` without a provider. */
export declare function useSyncManager<DB extends Tables = any>(): SyncManager<DB>;

/** The sync status, kept current, with `sync()` to run a round now. */
export declare function useSyncStatus(sync?: SyncManager<any>): SyncStatus & { sync: () => Promise<SyncNowResult> };

/** Whether the browser says it is online, kept current. */
export declare function useNetworkStatus(): boolean;

/** The result of `querier()`, re-run after every change and when `deps` change;
 * `undefined` until the first result. */
export declare function useLiveQuery<T>(querier: () => T | Promise<T>, deps?: DependencyList): T | undefined;
/** The result of `querier()`, re-run after every change and when `deps` change;
 * `initial` until the first result. */
export declare function useLiveQuery<T, I>(querier: () => T | Promise<T>, deps: DependencyList, initial: I): T | I;
