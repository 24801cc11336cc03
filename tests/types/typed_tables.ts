// Type-checked by `tsc --noEmit` (tests/e2e/typescript.test.mjs): an app's own record
// types flowing through `SyncManager.open<…>`, tables, queries and results; the README
// quickstart as written; `@ts-expect-error` lines prove the types are precise.
import { SyncManager, LocalDatabase, SyncError, liveQuery, type Table, type SyncNowResult } from 'idb-sync';

interface Task {
  id: string;
  title: string;
  status: 'todo' | 'done';
  projectId?: string;
  tags?: string[];
  due?: Date;
}
interface Project {
  id: string;
  name: string;
}
type Db = { tasks: Task; projects: Project };
/** Dexie users often write the schema as an interface: that works too. */
interface DbInterface {
  tasks: Task;
}

export async function quickstart(myToken: string): Promise<void> {
  // The README's quickstart, verbatim (no `init()`, no key argument, no casts).
  const sync = await SyncManager.open({
    dbName: 'MyAppDatabase',
    schema: { tasks: 'id, status, [userId+status], *tags' },
    endpoint: 'https://sync.example.com',
    auth: { getToken: async () => myToken },
  });
  const tasks = sync.table('tasks');
  await tasks.add({ title: 'Buy milk', status: 'todo' });
  sync.subscribe((status) => console.log(status.phase, status.pending));
  const { pushed, pulled } = await sync.syncNow();
  void [pushed, pulled];
}

export async function typed(): Promise<void> {
  const sync = await SyncManager.open<Db>({
    dbName: 'typed',
    schema: { tasks: 'id, status, projectId, *tags', projects: 'id, name' },
    endpoint: 'https://sync.example.com',
  });
  // @ts-expect-error: every table of the record types needs a schema
  await SyncManager.open<Db>({ dbName: 'x', schema: { tasks: 'id' }, endpoint: 'https://x' });

  const tasks: Table<Task, string> = sync.table('tasks');
  const viaInterface = await SyncManager.open<DbInterface>({ dbName: 'i', schema: { tasks: 'id' }, endpoint: 'https://x' });
  const fromInterface: Table<Task, string> = viaInterface.table('tasks');
  void fromInterface;
  const letters = await sync.deadLetters();
  for (const letter of letters) {
    if (letter.op.kind === 'update') void letter.op.patch;
    else if (letter.op.kind !== 'delete') void letter.op.record;
  }
  // @ts-expect-error: not a table of the schema
  sync.table('users');

  const id: string = await tasks.add({ title: 'Buy milk', status: 'todo' });
  await tasks.put({ id, title: 'Buy oat milk', status: 'todo', due: new Date() });
  // @ts-expect-error: `status` is 'todo' | 'done'
  await tasks.add({ title: 'x', status: 'later' });
  // @ts-expect-error: a task has no `owner`
  await tasks.update(id, { owner: 'me' });
  const changed: number = await tasks.update(id, { status: 'done' });
  const one: Task | undefined = await tasks.get(id);
  const many: (Task | undefined)[] = await tasks.bulkGet([id]);
  const keys: string[] = await tasks.bulkAdd([{ title: 'a', status: 'todo' }]);
  const done: Task[] = await tasks.where('status').equals('done').limit(10).toArray();
  const titles = (await tasks.orderBy('title').reverse().toArray()).map((t) => t.title.toUpperCase());
  const tagged: number = await tasks.where('tags').anyOf(['home', 'work']).filter((t) => t.status === 'todo').count();
  const firstKey: string[] = await tasks.toCollection().keys();
  void [changed, one, many, keys, done, titles, tagged, firstKey];

  // The seeds' method names resolve to records, not to promises of promises.
  const created = await sync.create('tasks', { title: 'From create', status: 'todo' });
  const createdId: string = created.id;
  const updatedTitle = await sync.update('tasks', createdId, { title: 'Renamed' }).then((t) => t?.title);
  await sync.delete('projects', 'p1');
  void updatedTitle;

  const result: SyncNowResult = await sync.processQueue();
  void result.conflicts;

  const off = sync.onChange('*', (change) => void change.source);
  off();
  const subscription = liveQuery(() => tasks.where('status').equals('todo').toArray()).subscribe((list) => {
    const first: Task | undefined = list[0];
    void first;
  });
  subscription.unsubscribe();

  try {
    await tasks.add({ id, title: 'dup', status: 'todo' });
  } catch (e) {
    if (e instanceof SyncError && e.code === 'key_exists') void e.message;
  }

  const local = await LocalDatabase.open<{ notes: { id: string; text: string } }>({
    dbName: 'notes',
    schema: { notes: 'id' },
  });
  const text: string | undefined = (await local.table('notes').get('n1'))?.text;
  void text;
  local.close();
  sync.close();
}

// `idb-sync/adapters`: the same API, and a custom protocol typed end to end.
import { SyncManager as AdaptedManager } from 'idb-sync/adapters';
import type { CustomProtocol, MutationResult, PullAnswer } from 'idb-sync';

const custom: CustomProtocol = {
  kind: 'custom',
  async push(batch): Promise<MutationResult[]> {
    return batch.mutations.map((m) => ({ status: 'applied', seq: m.seq, version: m.baseVersion + 1, previousVersion: m.baseVersion }));
  },
  async pull(cursor): Promise<PullAnswer> {
    return { changes: [], cursor: cursor ?? 'start', hasMore: false };
  },
};
export async function openAdapted(): Promise<number> {
  const adapted = await AdaptedManager.open<{ tasks: { id: string; title: string } }>({ dbName: 'a', schema: { tasks: 'id' }, protocol: custom });
  const id: string = await adapted.table('tasks').add({ title: 'typed' });
  return id.length;
}
