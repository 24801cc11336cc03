// Run-time checkers of the declared shapes, for tests/e2e/types_runtime.test.mjs.
//
// Each checker is typed `Check<T>` for the declared type `T` it checks, and an object
// checker must name every field of `T` and no other (`Fields<T>`), so the compiler
// proves the checkers say what the declarations say; the e2e test then runs them, in
// the browser, on the values the library really returns. A field the library adds,
// drops or types differently fails one side or the other.
import type {
  ChangeEvent,
  Conflict,
  ConflictLogEntry,
  DeadLetter,
  LocalChange,
  SyncError,
  SyncErrorClass,
  SyncErrorCode,
  SyncNowResult,
  SyncPhase,
  StorageHealth,
  SyncStatus,
} from 'idb-sync';

/** Checks `value` (at `path`); returns what does not match, empty if it does. */
export interface Check<T> {
  (value: unknown, path: string): string[];
  /** Never set: ties the checker to its declared type. */
  readonly type?: (t: T) => T;
}

const check = <T>(ok: (v: unknown) => boolean, what: string): Check<T> =>
  (v, path) => (ok(v) ? [] : [`${path}: expected ${what}, got ${describe(v)}`]);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an object with keys ${Object.keys(v as object).join(', ')}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

export const string: Check<string> = check((v) => typeof v === 'string', 'a string');
export const number: Check<number> = check((v) => typeof v === 'number' && Number.isFinite(v), 'a finite number');
export const boolean: Check<boolean> = check((v) => typeof v === 'boolean', 'a boolean');

/** One of the given literals. */
export function literal<const L extends readonly (string | number)[]>(...values: L): Check<L[number]> {
  return check((v) => values.includes(v as string | number), `one of ${values.join(', ')}`);
}

/** `inner` or `null`. */
export function nullable<T>(inner: Check<T>): Check<T | null> {
  return (v, path) => (v === null ? [] : inner(v, path));
}

/** `inner`, or no such field (`undefined`). */
export function optional<T>(inner: Check<T>): Check<T | undefined> {
  return (v, path) => (v === undefined ? [] : inner(v, path));
}

/** Either checker. */
export function either<A, B>(a: Check<A>, b: Check<B>): Check<A | B> {
  return (v, path) => {
    const first = a(v, path);
    return first.length === 0 || b(v, path).length === 0 ? [] : first;
  };
}

export function array<T>(item: Check<T>): Check<T[]> {
  return (v, path) =>
    Array.isArray(v) ? v.flatMap((x, i) => item(x, `${path}[${i}]`)) : [`${path}: expected an array, got ${describe(v)}`];
}

/** A plain record of the app's (any fields). */
export const record: Check<Record<string, unknown>> = check(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  'a record object',
);

/** A checker for every field of `T`, required or not: nothing left out. */
type Fields<T> = { [K in keyof T]-?: Check<T[K]> };

/** An object with exactly these fields (a field the value has beyond them fails). */
export function object<T>(fields: Fields<T>, { extra = false }: { extra?: boolean } = {}): Check<T> {
  return (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return [`${path}: expected an object, got ${describe(v)}`];
    const value = v as Record<string, unknown>;
    const problems = Object.entries(fields as Record<string, Check<unknown>>).flatMap(([k, c]) => c(value[k], `${path}.${k}`));
    if (!extra) {
      for (const k of Object.keys(value)) if (!(k in fields)) problems.push(`${path}.${k}: not declared`);
    }
    return problems;
  };
}

/** The error codes the package knows (the generated union, at run time). */
export function errorCode(codes: readonly string[]): Check<SyncErrorCode> {
  return check((v) => typeof v === 'string' && codes.includes(v), 'a SyncErrorCode');
}

const key: Check<string | number> = either(string, number);

/** A local change: `{ kind: 'create' | 'put', record }`, `{ kind: 'update', patch }` or
 * `{ kind: 'delete' }`, nothing more. */
const localChange: Check<LocalChange> = (v, path) => {
  const kind = (v as { kind?: unknown } | null)?.kind;
  if (kind === 'create' || kind === 'put') {
    return object<Extract<LocalChange, { kind: 'create' | 'put' }>>({ kind: literal('create', 'put'), record })(v, path);
  }
  if (kind === 'update') return object<Extract<LocalChange, { kind: 'update' }>>({ kind: literal('update'), patch: record })(v, path);
  if (kind === 'delete') return object<Extract<LocalChange, { kind: 'delete' }>>({ kind: literal('delete') })(v, path);
  return [`${path}: expected a local change, got ${describe(v)}`];
};
const phase: Check<SyncPhase> = literal('idle', 'pushing', 'pulling', 'offline', 'error');
const errorClass: Check<SyncErrorClass> = literal('transient', 'auth', 'fatal', 'rejected');

/** The checkers of every declared shape the library returns. */
export function shapes(codes: readonly string[]) {
  const code = errorCode(codes);
  const serverCode: Check<SyncErrorCode | (string & {}) | undefined> = optional(string);
  const status: Check<SyncStatus> = object<SyncStatus>({
    phase,
    syncing: boolean,
    pending: number,
    inFlight: number,
    lastSyncAt: nullable(number),
    lastError: nullable(
      object<NonNullable<SyncStatus['lastError']>>({ code, message: string, class: errorClass, serverCode }),
    ),
    online: boolean,
    progress: object<SyncStatus['progress']>({ pushed: number, total: number, pulled: number }),
    nextRetryAt: nullable(number),
    conflicts: number,
    deadLetters: number,
    live: literal('push', 'polling', 'off'),
    storage: object<SyncStatus['storage']>({
      persisted: nullable(boolean),
      usage: nullable(number),
      quota: nullable(number),
      writeError: nullable(object<NonNullable<StorageHealth['writeError']>>({ code, message: string, class: errorClass })),
      evicted: nullable(object<NonNullable<StorageHealth['evicted']>>({ code, message: string, class: errorClass })),
      lost: number,
    }),
  });
  const syncNowResult: Check<SyncNowResult> = object<SyncNowResult>({
    pushed: number,
    pulled: number,
    conflicts: number,
    rejected: number,
  });
  const changeEvent: Check<ChangeEvent> = object<ChangeEvent>({
    table: string,
    keys: array(key),
    source: literal('local', 'remote'),
  });
  const conflict: Check<Conflict> = object<Conflict>({
    table: string,
    key,
    local: nullable(record),
    remote: nullable(record),
    remoteVersion: number,
    at: number,
  });
  const conflictLogEntry: Check<ConflictLogEntry> = object<ConflictLogEntry>({
    table: string,
    key,
    policy: literal('fieldMerge', 'serverWins', 'clientWins', 'lastWriteWins', 'manual', 'custom'),
    local: nullable(record),
    remote: nullable(record),
    resolved: nullable(record),
    outcome: string,
    at: number,
  });
  const deadLetter: Check<DeadLetter> = object<DeadLetter>({
    id: number,
    table: string,
    key,
    op: localChange,
    code: string,
    reason: string,
    at: number,
  });
  // An Error has more (stack, and its own message): only the declared fields are checked.
  type DeclaredError = Pick<SyncError, 'name' | 'code' | 'message' | 'option' | 'status' | 'serverCode' | 'path'>;
  const error: Check<DeclaredError> = object<DeclaredError>(
    {
      name: literal('SyncError'),
      code,
      message: string,
      option: optional(string),
      status: optional(number),
      serverCode,
      path: optional(string),
    },
    { extra: true },
  );
  return { status, syncNowResult, changeEvent, conflict, conflictLogEntry, deadLetter, error };
}
