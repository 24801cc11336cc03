//! TypeScript declarations of the options, status, results and events of
//! `SyncManager`, added to the generated `.d.ts`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS: &'static str = r#"
/** A conflict policy name. */
export type ConflictPolicyName = 'fieldMerge' | 'serverWins' | 'clientWins' | 'lastWriteWins' | 'manual';

/**
 * The app's conflict function: returns the merged record, or `null` to delete it.
 * Records are given as the app wrote them (Dates as Dates).
 */
export type ConflictFunction = (
  local: Record<string, unknown> | null,
  remote: Record<string, unknown> | null,
  change: LocalChange | null,
) => Record<string, unknown> | null;

/** A local change not yet on the server. */
export type LocalChange =
  | { kind: 'create' | 'put'; record: Record<string, unknown> }
  | { kind: 'update'; patch: Record<string, unknown> }
  | { kind: 'delete' };

/** Options of `SyncManager.open`. */
export interface SyncManagerOptions {
  /** IndexedDB database name (one per user/device profile). */
  dbName: string;
  /** The app's schema version, as in Dexie. Default 1. */
  version?: number;
  /** Tables in Dexie schema syntax: `{ tasks: 'id, status, [userId+status], *tags' }`. */
  schema: Record<string, string>;
  /** The sync server's base URL, e.g. `https://sync.example.com`. Required (else
   * `invalid_endpoint`), except with `protocol: { kind: 'custom' }`. */
  endpoint?: string;
  /** Credentials: a token function (asked again once after a 401), or an API key. */
  auth?: { getToken: () => string | Promise<string> } | { apiKey: string };
  /** Periodic sync while visible, ms (default 30000); `0` or `false` turns it off. */
  interval?: number | false;
  /** Periodic sync (and least retry wait) while the page is hidden, ms (default 300000). */
  hiddenInterval?: number;
  /** A write is pushed this long after the last write of a burst, ms (default 250). */
  debounce?: number;
  /** Conflict policy for every table, or a default plus per-table overrides. */
  conflict?:
    | ConflictPolicyName
    | ConflictFunction
    | { default?: ConflictPolicyName | ConflictFunction; tables?: Record<string, ConflictPolicyName | ConflictFunction> };
  /** Push batch limits. Defaults: 500 mutations, 1 MiB. */
  batch?: { maxCount?: number; maxBytes?: number };
  /** Start the automatic loop at once (default true). */
  autoSync?: boolean;
  /**
   * Advanced: how often the tab that runs the sync loop tells the other tabs it is
   * alive, ms (default 2000, at least 100). A leader silent for 4 periods (a frozen
   * tab) is replaced by another tab.
   */
  leaderHeartbeat?: number;
  /** Rows of synced tables without sync state (written by Dexie or other code):
   * `'push'` queues them as creates at open (default), `'pull'` lets the server's
   * copy win and queues the rest after the first pull, `'none'` leaves them
   * local-only until written through idb-sync. */
  adopt?: 'push' | 'pull' | 'none';
  /** The server's API (docs/ADAPTERS.md): `'v1'` (default); `{ kind: 'custom', push,
   * pull }`, the app's functions carrying v1 batches and pages to any server; or, from
   * the `idb-sync/adapters` entry, a seed server's API with its names. */
  protocol?:
    | 'v1'
    | CustomProtocol
    | PushPullProtocol
    | RestProtocol
    | BatchedProtocol
    | ChangeLogProtocol
    | DeltaProtocol;
  /** Server push (protocol v1): the leader tab holds `GET /v1/events` and pulls when
   * the server says the user's changes moved (default true; a server without it, or
   * an adapter, polls). `status.live` says which. */
  live?: boolean;
  /** Ask the browser at open to keep this origin's storage (`navigator.storage.persist()`;
   * it may refuse: `status.storage.persisted`). Default false. The prevention of an
   * eviction, which otherwise loses what was not synced (docs/STORAGE.md). */
  persistStorage?: boolean;
}

/** `protocol: { kind: 'custom' }`: the app's functions instead of idb-sync's HTTP
 * (docs/ADAPTERS.md, "custom"). A function that throws or rejects with an error whose
 * `status` is 400–599 is treated as that HTTP answer (401/403: credentials; 5xx, 429:
 * retried with backoff); any other failure is a network error, retried with backoff. */
export interface CustomProtocol {
  kind: 'custom';
  /** Sends the batch; resolves to one result per mutation, in order (or
   * `{ results, serverTime?, account? }`). */
  push(batch: PushBatch): Promise<MutationResult[] | PushAnswer>;
  /** Fetches the changes after `cursor` (null: from the beginning); the page's
   * `cursor` is stored with its changes and given back next time. */
  pull(cursor: string | null, request: PullBatchRequest): Promise<PullAnswer>;
}

/** A v1 push request (docs/PROTOCOL.md, "Push"). */
export interface PushBatch {
  protocolVersion: 1;
  clientId: string;
  account?: string;
  mutations: Mutation[];
}

/** One queued change (docs/PROTOCOL.md, "Push"). */
export interface Mutation {
  seq: number;
  table: string;
  key: string | number;
  /** Records in their wire form (docs/PROTOCOL.md §1: a Date is a tagged object). */
  op: LocalChange;
  baseVersion: number;
  hlc: { millis: number; counter: number; node: string };
  mode?: 'fieldMerge' | 'strict';
}

/** The server's state of a record, with conflicts and rejections. */
export interface ServerSnapshot {
  version: number;
  deleted: boolean;
  data: Record<string, unknown> | null;
  hlc?: { millis: number; counter: number; node: string } | null;
}

/** The outcome of one mutation (docs/PROTOCOL.md, "Push"). */
export type MutationResult =
  | { status: 'applied'; seq: number; version: number; previousVersion: number }
  | { status: 'duplicate'; seq: number }
  | { status: 'conflict'; seq: number; reason: 'staleBase' | 'alreadyExists' | 'missing'; server: ServerSnapshot }
  | { status: 'rejected'; seq: number; code: string; reason: string; server: ServerSnapshot };

/** A push answer; `protocolVersion` and `serverTime` default to 1 and now. */
export interface PushAnswer {
  results: MutationResult[];
  serverTime?: number;
  account?: string;
}

/** A v1 pull request (docs/PROTOCOL.md, "Pull"). */
export interface PullBatchRequest {
  protocolVersion: 1;
  clientId: string;
  account?: string;
  cursor: string | null;
  limit?: number;
}

/** The latest state of one changed record; `version` grows with every change. */
export interface PulledChange {
  table: string;
  key: string | number;
  version: number;
  previousVersion: number;
  deleted: boolean;
  data: Record<string, unknown> | null;
  hlc?: { millis: number; counter: number; node: string } | null;
}

/** A page of changes; `status`, `protocolVersion` and `serverTime` default to
 * `'ok'`, 1 and now. `hasMore: true` pulls again at once with `cursor`. */
export interface PullAnswer {
  changes: PulledChange[];
  cursor: string;
  hasMore: boolean;
  serverTime?: number;
  account?: string;
}

/** `protocol: { kind: 'pushPull' }` (`idb-sync/adapters`): a server of seed 000's
 * shape, `POST {basePath}/sync/push` and `GET {basePath}/sync/pull?since=`. */
export interface PushPullProtocol {
  kind: 'pushPull';
  basePath?: string;
  idField?: string;
  tables?: Record<string, string>;
  userField?: string;
  userId?: string;
  deletedField?: string;
  overlapMs?: number;
}

/** `protocol: { kind: 'batched' }` (`idb-sync/adapters`): seed 002's one
 * `POST {basePath}/sync` (docs/adapters/batched.md). */
export interface BatchedProtocol {
  kind: 'batched';
  basePath?: string;
  idField?: string;
  serverIdField?: string;
  deletedField?: string;
  tables?: Record<string, string>;
  entityTypes?: Record<string, string>;
  userId?: string;
  overlapMs?: number;
}

/** `protocol: { kind: 'rest' }` (`idb-sync/adapters`): seed 001's REST endpoints, one
 * request per item (docs/adapters/rest.md). */
export interface RestProtocol {
  kind: 'rest';
  basePath?: string;
  idField?: string;
  tables?: Record<string, string>;
  updatedField?: string;
  deletedField?: string;
  sinceParam?: string;
  overlapMs?: number;
  concurrency?: number;
}

/** `protocol: { kind: 'changeLog' }` (`idb-sync/adapters`): seed 003's `pushChanges`,
 * `getChanges?since=`, `acknowledgeChanges` (docs/adapters/changeLog.md). */
export interface ChangeLogProtocol {
  kind: 'changeLog';
  basePath?: string;
  pushPath?: string;
  pullPath?: string;
  acknowledgePath?: string;
  idField?: string;
  metaField?: string;
  tables?: Record<string, string>;
  userId?: string;
  overlapMs?: number;
}

/** `protocol: { kind: 'delta' }` (`idb-sync/adapters`): seed 004's `POST /api/sync`
 * with an API key in the body (docs/adapters/delta.md). */
export interface DeltaProtocol {
  kind: 'delta';
  apiKey: string;
  basePath?: string;
  path?: string;
  table?: string;
  idField?: string;
  updatedField?: string;
  deletedField?: string;
  userId?: string;
  overlapMs?: number;
}

/** What the loop is doing. */
export type SyncPhase = 'idle' | 'pushing' | 'pulling' | 'offline' | 'error';

/** How the loop reacts to an error. */
export type SyncErrorClass = 'transient' | 'auth' | 'fatal' | 'rejected';

/** The sync status (`getSyncStatus()`, `subscribe`). Times are ms since the epoch. */
export interface SyncStatus {
  phase: SyncPhase;
  syncing: boolean;
  /** Local changes never sent. */
  pending: number;
  /** Local changes sent and not yet answered. */
  inFlight: number;
  lastSyncAt: number | null;
  /** `serverCode`: the code of the server's error body, when the server answered. */
  lastError: { code: SyncErrorCode; message: string; class: SyncErrorClass; serverCode?: string } | null;
  online: boolean;
  progress: { pushed: number; total: number; pulled: number };
  nextRetryAt: number | null;
  /** Open manual conflicts. */
  conflicts: number;
  deadLetters: number;
  /** `'push'`: the live channel is open; `'polling'`: interval and triggers only;
   * `'off'`: no automatic sync (offline, stopped, closed). */
  live: 'push' | 'polling' | 'off';
  /** The browser storage's health (docs/STORAGE.md, "Storage health"). */
  storage: StorageHealth;
}

/** `status.storage`. The numbers are `navigator.storage`'s (`null`: unknown), read at
 * open and after each round. */
export interface StorageHealth {
  persisted: boolean | null;
  usage: number | null;
  quota: number | null;
  /** This tab's last local write failed for its storage (`quota_exceeded`,
   * `storage_error`); cleared when a local write succeeds. */
  writeError: { code: SyncErrorCode; message: string; class: SyncErrorClass } | null;
  /** `storage_evicted`: the database was deleted behind the engine's back, recreated
   * and refilled from the server; stays until `close()`. */
  evicted: { code: SyncErrorCode; message: string; class: SyncErrorClass } | null;
  /** Unsynced changes lost with it (`lostChanges()` lists them). */
  lost: number;
}

/** An unsynced change lost with an evicted database (`lostChanges()`). */
export interface LostChange {
  table: string;
  key: string | number;
  op: 'create' | 'put' | 'update' | 'delete';
}

/** What `syncNow()` resolves with. */
export interface SyncNowResult {
  pushed: number;
  pulled: number;
  conflicts: number;
  rejected: number;
}

/** A change event of `onChange`. */
export interface ChangeEvent {
  table: string;
  keys: Array<string | number>;
  source: 'local' | 'remote';
}

/** An open manual conflict. */
export interface Conflict {
  table: string;
  key: string | number;
  local: Record<string, unknown> | null;
  remote: Record<string, unknown> | null;
  remoteVersion: number;
  at: number;
}

/** How to resolve a manual conflict. */
export type ConflictResolution = 'local' | 'server' | { merged: Record<string, unknown> | null };

/** An automatic conflict resolution. */
export interface ConflictLogEntry {
  table: string;
  key: string | number;
  policy: ConflictPolicyName | 'custom';
  local: Record<string, unknown> | null;
  remote: Record<string, unknown> | null;
  resolved: Record<string, unknown> | null;
  outcome: string;
  at: number;
}

/** A change the server rejected. */
export interface DeadLetter {
  id: number;
  table: string;
  key: string | number;
  /** The change that was rejected, as the app made it. */
  op: LocalChange;
  /** `poison`, `invalid_value`, `corrupt_state`, `account_changed`, or the server's rejection code. */
  code: SyncErrorCode | (string & {});
  reason: string;
  at: number;
}

/** A local change not on the server yet (`pendingChanges()`). A key with a change in
 * flight and a later one pending has two entries, so there are as many entries as
 * `getPendingCount()`. */
export interface OutboxEntry {
  table: string;
  key: string | number;
  op: 'create' | 'put' | 'update' | 'delete';
  /** `pending`: never sent (later writes merge into it); `inFlight`: sent, not answered. */
  state: 'pending' | 'inFlight';
  /** When its first write was made (ms since the epoch). */
  since: number;
  /** How many batches took it to send (0 while pending). */
  attempts: number;
  /** What the rounds fail with while they fail (the status's `lastError`), else `null`. */
  lastError: { code: SyncErrorCode | (string & {}); message: string } | null;
}

/** Every error idb-sync throws: a JS `Error` with `name === 'SyncError'`. */
export interface SyncError extends Error {
  name: 'SyncError';
  /** The stable code; the union `SyncErrorCode` is generated from the core's list. */
  code: SyncErrorCode;
  /** For `invalid_*` option errors: the option's name. */
  option?: string;
  /** For `server_error`: the HTTP status. */
  status?: number;
  /** For `server_error`, `auth_failed` and `request_rejected`: the code of the server's
   * error body (`rate_limited`, `token_expired`, ...; a server may send its own). */
  serverCode?: SyncErrorCode | (string & {});
  /** For `invalid_value`: the field path of the value that cannot be synced (`meta.size`, `tags[2]`). */
  path?: string;
  /** For `storage_error`, `unique_violation`: the browser's `DOMException`. */
  cause?: unknown;
}
"#;
