// The declarations of the package's entry point (`import … from 'idb-sync'`).
//
// The options, status, results, events and error codes are generated with the
// WebAssembly module (pkg/idb_sync.d.ts: wasm-bindgen, the `SyncErrorCode` union from
// the core's list of codes, and src/sync/typescript.rs). The classes are declared
// here, generic over the app's records, because wasm-bindgen cannot say that: a
// `Table<Task, string>` is the same runtime object as a `Table`. tests/types/ compiles
// a strict app against these declarations, and tests/e2e/types_runtime.test.mjs checks
// in the browser that the values the library returns have the declared shapes.
import type {
  ChangeEvent,
  Conflict,
  ConflictLogEntry,
  ConflictResolution,
  DeadLetter,
  LostChange,
  OutboxEntry,
  SyncError as GeneratedSyncError,
  SyncManagerOptions as AnySyncManagerOptions,
  SyncNowResult,
  SyncStatus,
} from '../pkg/idb_sync.js';

export type {
  BatchedProtocol,
  ChangeEvent,
  ChangeLogProtocol,
  CustomProtocol,
  DeltaProtocol,
  Mutation,
  MutationResult,
  PullAnswer,
  PullBatchRequest,
  PulledChange,
  PushAnswer,
  PushBatch,
  PushPullProtocol,
  RestProtocol,
  ServerSnapshot,
  ConflictFunction,
  ConflictLogEntry,
  ConflictPolicyName,
  ConflictResolution,
  Conflict,
  DeadLetter,
  LocalChange,
  LostChange,
  OutboxEntry,
  StorageHealth,
  SyncErrorClass,
  SyncErrorCode,
  SyncNowResult,
  SyncPhase,
  SyncStatus,
  InitInput,
  InitOutput,
  SyncInitInput,
} from '../pkg/idb_sync.js';
export { checkServer, errorCodes, protocolVersion, version, initSync } from '../pkg/idb_sync.js';
export { default } from '../pkg/idb_sync.js';

/** A value IndexedDB accepts as a key (synced tables use strings or numbers). */
export type IndexableKey = string | number | Date | ArrayBuffer | ArrayBufferView | IndexableKey[];

/** The app's records per table, e.g. `{ tasks: Task; projects: Project }` (a type or an
 * interface). */
export type Tables = object;

/** What a database is typed by when the app gives no record types. */
export type AnyTables = { [table: string]: Record<string, any> };

/** The key type of a record type: the type of its `id` field when it has one. */
export type KeyOf<T> = T extends { id: infer K } ? K : IndexableKey;

/** A record as it may be added: its `id` may be left out (idb-sync generates a UUID v7). */
export type Insertable<T> = T extends { id: infer K } ? Omit<T, 'id'> & { id?: K } : T;

/** Options of `LocalDatabase.open`. */
export interface LocalDatabaseOptions<DB extends Tables = AnyTables> {
  /** IndexedDB database name. */
  dbName: string;
  /** The app's schema version, as in Dexie. Default 1. */
  version?: number;
  /** Tables in Dexie schema syntax: `{ tasks: 'id, status, [userId+status], *tags' }`. */
  schema: { [K in keyof DB]: string };
}

/** Options of `SyncManager.open` (see the generated `SyncManagerOptions` for each field). */
export type SyncManagerOptions<DB extends Tables = AnyTables> = Omit<AnySyncManagerOptions, 'schema'> & {
  /** Tables in Dexie schema syntax: `{ tasks: 'id, status, [userId+status], *tags' }`. */
  schema: { [K in keyof DB]: string };
};

/**
 * The class of every error idb-sync throws or rejects with: an `Error` named
 * 'SyncError' with a stable `code` (docs/ERRORS.md). `err instanceof SyncError` works.
 * Its fields are the generated `SyncError` interface's (merged in below).
 */
export declare class SyncError extends Error {
  name: 'SyncError';
  private constructor();
}
export interface SyncError extends GeneratedSyncError {}

/** An ordered, filtered selection of a table's records. */
export declare class Collection<T = Record<string, any>, TKey = KeyOf<T>> {
  private constructor();
  /** Releases the WebAssembly object at once (it is also released when collected). */
  free(): void;
  /** The matching records. */
  toArray(): Promise<T[]>;
  /** The first matching record, or `undefined`. */
  first(): Promise<T | undefined>;
  /** The primary keys of the matching records. */
  keys(): Promise<TKey[]>;
  /** The number of matching records. */
  count(): Promise<number>;
  /** The same selection in reverse order. */
  reverse(): Collection<T, TKey>;
  /** Skips the first `n` matches. */
  offset(n: number): Collection<T, TKey>;
  /** Keeps at most `n` matches. */
  limit(n: number): Collection<T, TKey>;
  /** Keeps the records for which `predicate(record)` is truthy (synchronous). */
  filter(predicate: (record: T) => unknown): Collection<T, TKey>;
}

/** A `where(index)` clause. */
export declare class WhereClause<T = Record<string, any>, TKey = KeyOf<T>> {
  private constructor();
  free(): void;
  equals(value: IndexableKey): Collection<T, TKey>;
  anyOf(values: IndexableKey[]): Collection<T, TKey>;
  /** `lower <= value < upper` by default, as in Dexie. */
  between(lower: IndexableKey, upper: IndexableKey, includeLower?: boolean, includeUpper?: boolean): Collection<T, TKey>;
  above(value: IndexableKey): Collection<T, TKey>;
  aboveOrEqual(value: IndexableKey): Collection<T, TKey>;
  below(value: IndexableKey): Collection<T, TKey>;
  belowOrEqual(value: IndexableKey): Collection<T, TKey>;
  startsWith(prefix: string): Collection<T, TKey>;
}

/** A table (Dexie's API): every write is committed together with its outbox entry. */
export declare class Table<T = Record<string, any>, TKey = KeyOf<T>> {
  private constructor();
  free(): void;
  /** The table's name. */
  readonly name: string;
  /** The record with `key`, or `undefined`. */
  get(key: TKey): Promise<T | undefined>;
  /** The records with `keys`, in order (`undefined` where none). */
  bulkGet(keys: TKey[]): Promise<(T | undefined)[]>;
  /** Adds a new record and resolves to its key (a UUID v7 when the record has none).
   * Rejects with `key_exists` if the key is taken. `key` is for out-of-line keys only. */
  add(record: Insertable<T>, key?: TKey): Promise<TKey>;
  /** Adds records, all or nothing; resolves to their keys. */
  bulkAdd(records: Insertable<T>[], keys?: TKey[]): Promise<TKey[]>;
  /** Writes a whole record (creating or replacing it); resolves to its key. */
  put(record: Insertable<T>, key?: TKey): Promise<TKey>;
  /** Writes records, all or nothing; resolves to their keys. */
  bulkPut(records: Insertable<T>[], keys?: TKey[]): Promise<TKey[]>;
  /** Sets the fields of `changes`; resolves to 1, or 0 if there is no such record. */
  update(key: TKey, changes: Partial<T>): Promise<number>;
  /** Deletes the record with `key` (nothing happens if there is none). */
  delete(key: TKey): Promise<void>;
  /** Deletes the records with `keys`, all or nothing. */
  bulkDelete(keys: TKey[]): Promise<void>;
  /** Deletes every record (each deletion is queued for the server). */
  clear(): Promise<void>;
  /** The number of records. */
  count(): Promise<number>;
  /** Every record, in primary-key order. */
  toArray(): Promise<T[]>;
  /** The primary keys of every record. */
  keys(): Promise<TKey[]>;
  /** The first record in primary-key order, or `undefined`. */
  first(): Promise<T | undefined>;
  /** A query on a declared index (`[a+b]` for a compound one) or the primary key. */
  where(index: string): WhereClause<T, TKey>;
  /** Every record ordered by `index`. */
  orderBy(index: string): Collection<T, TKey>;
  /** Every record, as a collection. */
  toCollection(): Collection<T, TKey>;
  reverse(): Collection<T, TKey>;
  offset(n: number): Collection<T, TKey>;
  limit(n: number): Collection<T, TKey>;
  filter(predicate: (record: T) => unknown): Collection<T, TKey>;
}

/** An IndexedDB database with idb-sync's outbox (no server), opened from a Dexie schema. */
export declare class LocalDatabase<DB extends Tables = AnyTables> {
  private constructor();
  free(): void;
  /** Opens (creating, upgrading or adopting) a database; loads the module if needed. */
  static open<DB extends Tables = AnyTables>(options: LocalDatabaseOptions<DB>): Promise<LocalDatabase<DB>>;
  /** Deletes the database `name` with everything in it (close it first). */
  static delete(name: string): Promise<void>;
  readonly name: string;
  /** The tables declared in the schema. */
  readonly tableNames: string[];
  table<K extends keyof DB & string>(name: K): Table<DB[K], KeyOf<DB[K]>>;
  /** Calls `listener` after each change of `table` (`'*'`: every table); returns the
   * function that removes it. */
  onChange(table: (keyof DB & string) | '*', listener: (change: ChangeEvent) => void): () => void;
  close(): void;
}

/**
 * The sync engine of one database: its tables, the outbox, the background sync loop
 * and its status. `SyncManager.open<{ tasks: Task }>(options)` types its tables.
 */
export declare class SyncManager<DB extends Tables = AnyTables> {
  private constructor();
  free(): void;
  /** Opens the database and starts syncing (unless `autoSync: false`); loads the
   * module if needed. Rejects with a `SyncError` naming a bad option. */
  static open<DB extends Tables = AnyTables>(options: SyncManagerOptions<DB>): Promise<SyncManager<DB>>;
  /** The database name. */
  readonly name: string;
  /** This device's client id (stable per database). */
  readonly clientId: string;
  /** Whether this tab runs the sync loop. */
  readonly isLeader: boolean;
  table<K extends keyof DB & string>(name: K): Table<DB[K], KeyOf<DB[K]>>;
  /** Adds a record to `table` and resolves to it (with its generated key). */
  create<K extends keyof DB & string>(table: K, data: Insertable<DB[K]>): Promise<DB[K]>;
  /** Sets `changes` on the record `key`; resolves to the updated record, or `undefined`. */
  update<K extends keyof DB & string>(table: K, key: KeyOf<DB[K]>, changes: Partial<DB[K]>): Promise<DB[K] | undefined>;
  /** Deletes the record `key` of `table` (nothing happens if there is none). */
  delete<K extends keyof DB & string>(table: K, key: KeyOf<DB[K]>): Promise<void>;
  /** Calls `listener` after each change of `table` (`'*'`: every table). */
  onChange(table: (keyof DB & string) | '*', listener: (change: ChangeEvent) => void): () => void;
  /** Runs a sync round now (push, then pull) in the leader tab, wherever it is
   * called. Ends an auth block and cuts a backoff short. Rejects with `offline`. */
  syncNow(): Promise<SyncNowResult>;
  /** The seeds' name for `syncNow()`. */
  processQueue(): Promise<SyncNowResult>;
  /** The seeds' name for `syncNow()` (a round covers every table). */
  performFullSync(): Promise<SyncNowResult>;
  /** The seeds' name for `syncNow()`; `table` is checked (a round covers every table). */
  fullSync(table: keyof DB & string): Promise<SyncNowResult>;
  /** Starts the automatic loop (interval, events, writes); runs a round at once. */
  startAutoSync(): void;
  /** Stops the automatic loop; `syncNow()` still works. */
  stopAutoSync(): void;
  /** The number of local changes not yet acknowledged by the server. */
  getPendingCount(): Promise<number>;
  /** The changes not on the server yet, in the order they will reach it. */
  pendingChanges(): Promise<OutboxEntry[]>;
  /** `pendingChanges()` with each change's data, as a JSON string (for support). */
  exportPendingChanges(): Promise<string>;
  /** Calls `listener(pendingChanges())` at once and whenever it changes; returns the
   * function that removes it. */
  onOutboxChange(listener: (entries: OutboxEntry[]) => void): () => void;
  /** The unsynced changes lost when the database was deleted behind the engine's back
   * (`status.storage.evicted`), as this tab knew them; empty otherwise. */
  lostChanges(): LostChange[];
  getSyncStatus(): SyncStatus;
  /** Calls `listener(status)` after every status change (in every tab); returns the
   * function that removes it. */
  subscribe(listener: (status: SyncStatus) => void): () => void;
  /** The app has new credentials: the cached token is forgotten (`getToken()` is asked
   * again) and an auth block ends. */
  refreshAuth(): void;
  /** Open manual conflicts. */
  conflicts(): Promise<Conflict[]>;
  resolveConflict<K extends keyof DB & string>(table: K, key: KeyOf<DB[K]>, resolution: ConflictResolution): Promise<void>;
  /** The automatic conflict resolutions, newest last. */
  conflictLog(): Promise<ConflictLogEntry[]>;
  /** Changes the server rejected. */
  deadLetters(): Promise<DeadLetter[]>;
  retryDeadLetter(id: number): Promise<void>;
  discardDeadLetter(id: number): Promise<void>;
  /** After `account_changed`: clear the local data, or keep it for the new account. */
  resolveAccountChange(decision: { localData: 'clear' | 'keep' }): Promise<void>;
  /** Stops syncing and closes the database; pending `syncNow()` calls reject with
   * `manager_closed`. Another tab takes over the loop. */
  close(): void;
}

/** The Background Sync tag `requestBackgroundSync` registers by default: `'idb-sync'`. */
export declare const BACKGROUND_SYNC_TAG: string;

/** In a page: registers the Background Sync tag whenever `manager`'s outbox holds
 * changes, so that a service worker drains it after the last tab closed. Resolves to
 * the function that stops it (a no-op without Background Sync or a service worker). */
export declare function requestBackgroundSync(manager: SyncManager<any>, settings?: { tag?: string }): Promise<() => void>;

/** In a service worker: opens the database of `options`, lets the loop push until the
 * outbox is empty (retrying with backoff), closes it. Rejects with the last round's
 * error when changes are still pending after `deadlineMs` (default 120000). */
export declare function drainOutbox<DB extends Tables = AnyTables>(
  options: SyncManagerOptions<DB>,
  settings?: { deadlineMs?: number },
): Promise<{ pushed: number }>;

/** Loads the WebAssembly module once (`open` does it; call it to load early). */
export declare function ready(): Promise<unknown>;

/** A subscription to a live query. */
export interface LiveQuerySubscription {
  readonly closed: boolean;
  unsubscribe(): void;
}

/** An observable query result (Dexie's `liveQuery` shape). */
export interface LiveQuery<T> {
  subscribe(
    observer: ((value: T) => void) | { next?: (value: T) => void; error?: (error: unknown) => void },
    error?: (error: unknown) => void,
  ): LiveQuerySubscription;
}

/** Runs `querier` now and again after every change of a database opened in this page
 * (local writes, pulled changes, other tabs). */
export declare function liveQuery<T>(querier: () => T | Promise<T>): LiveQuery<T>;
