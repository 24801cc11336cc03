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
  /** The sync server's base URL (protocol v1), e.g. `https://sync.example.com`. */
  endpoint: string;
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
  /** The server's API (docs/ADAPTERS.md): `'v1'` (default), or a server of seed 000's
   * shape, `POST {basePath}/sync/push` and `GET {basePath}/sync/pull?since=`, with its names. */
  protocol?:
    | 'v1'
    | {
        kind: 'pushPull';
        basePath?: string;
        idField?: string;
        tables?: Record<string, string>;
        userField?: string;
        userId?: string;
        deletedField?: string;
        overlapMs?: number;
      }
    | {
        /** Seed 003's `pushChanges`, `getChanges?since=`, `acknowledgeChanges` (docs/adapters/changeLog.md). */
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
    | {
        /** Seed 004's `POST /api/sync` with an API key in the body (docs/adapters/delta.md). */
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
      };
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
