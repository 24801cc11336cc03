// Type-checked by `tsc --noEmit` (tests/e2e/typescript.test.mjs): the SyncManager
// declarations an app relies on, imported by the package's name as an app does.
// `@ts-expect-error` lines prove the types are precise.
import init, {
  SyncManager,
  type SyncManagerOptions,
  type SyncStatus,
  type SyncNowResult,
  type SyncPhase,
  SyncError,
  type SyncErrorCode,
  type Conflict,
  type DeadLetter,
  type ChangeEvent,
} from 'idb-sync';

export async function example(token: string): Promise<void> {
  await init();
  const options: SyncManagerOptions = {
    dbName: 'MyAppDatabase',
    version: 2,
    schema: { tasks: 'id, status, [userId+status], *tags', projects: 'id, name' },
    endpoint: 'http://127.0.0.1:8787',
    auth: { getToken: async () => token },
    interval: 30_000,
    hiddenInterval: 300_000,
    debounce: 250,
    conflict: { default: 'fieldMerge', tables: { projects: (local, remote) => ({ ...remote, ...local }) } },
    batch: { maxCount: 100, maxBytes: 256 * 1024 },
    autoSync: true,
    leaderHeartbeat: 2_000,
    adopt: 'push',
  };
  const sync: SyncManager = await SyncManager.open(options);
  await SyncManager.open({ dbName: 'k', schema: { t: 'id' }, endpoint: 'https://x', auth: { apiKey: 'key' }, interval: false });

  // @ts-expect-error: not a policy name
  const bad: SyncManagerOptions = { ...options, conflict: 'newestWins' };
  void bad;

  const off: () => void = sync.subscribe((status: SyncStatus) => {
    const phase: SyncPhase = status.phase;
    const pending: number = status.pending + status.inFlight;
    const when: number | null = status.lastSyncAt ?? status.nextRetryAt;
    const code: string | undefined = status.lastError?.code;
    const progress: number = status.progress.pushed / Math.max(1, status.progress.total) + status.progress.pulled;
    void [phase, pending, when, code, progress, status.online, status.syncing, status.conflicts, status.deadLetters];
    // @ts-expect-error: not a phase
    if (status.phase === 'sleeping') return;
  });
  off();

  const result: SyncNowResult = await sync.syncNow();
  const { pushed, pulled, conflicts, rejected } = result;
  void [pushed, pulled, conflicts, rejected];
  await sync.processQueue();
  await sync.performFullSync();
  await sync.fullSync('tasks');
  const count: number = await sync.getPendingCount();
  void count;
  sync.startAutoSync();
  sync.stopAutoSync();
  const status: SyncStatus = sync.getSyncStatus();
  void status;

  const created = await sync.create('tasks', { title: 'Buy milk', status: 'todo' });
  await sync.update('tasks', created.id, { status: 'done' });
  await sync.delete('tasks', created.id);
  const done = await sync.table('tasks').where('status').equals('done').toArray();
  void done;
  const stop: () => void = sync.onChange('tasks', (change: ChangeEvent) => void change.keys);
  stop();

  const open: Conflict[] = await sync.conflicts();
  for (const c of open) await sync.resolveConflict(c.table, c.key, 'local');
  await sync.resolveConflict('tasks', 't1', { merged: { id: 't1', title: 'merged' } });
  // @ts-expect-error: not a resolution
  await sync.resolveConflict('tasks', 't1', 'mine');
  const letters: DeadLetter[] = await sync.deadLetters();
  for (const l of letters) await (l.code === 'too_large' ? sync.discardDeadLetter(l.id) : sync.retryDeadLetter(l.id));
  await sync.conflictLog();
  sync.refreshAuth();
  await sync.resolveAccountChange({ localData: 'clear' });
  await sync.resolveAccountChange({ localData: 'keep' });
  // @ts-expect-error: only 'clear' or 'keep'
  await sync.resolveAccountChange({ localData: 'drop' });
  const leader: boolean = sync.isLeader;
  const id: string = sync.clientId;
  void [leader, id, sync.name];

  try {
    await sync.syncNow();
  } catch (e) {
    if (!(e instanceof SyncError)) throw e;
    const error = e;
    const code: SyncErrorCode = error.code;
    if (code === 'offline' || code === 'auth_failed' || error.name === 'SyncError') void error.message;
    // The union is generated from the core's list: server codes are in it, and the
    // old second name of the network failure is not.
    const limited: SyncErrorCode[] = ['rate_limited', 'payload_too_large', 'token_expired', 'network_error'];
    // @ts-expect-error: `network` is not a code (one name per failure: `network_error`)
    const old: SyncErrorCode = 'network';
    // @ts-expect-error: `callback_failed` was never produced
    const never: SyncErrorCode = 'callback_failed';
    const server: string | undefined = error.serverCode;
    void [limited, old, never, server];
  }
  sync.close();
}
