// End-to-end (docs/STORAGE.md, "Adopting a database another library wrote"): a Dexie app's database opened with
// SyncManager — its existing rows reach the server and a second device, an update of
// an old row syncs as an update (the record survives on both), rows Dexie writes
// later are picked up at the next open; `adopt: 'pull'` and `'none'`; out-of-line
// keys syncing between two devices; auto-increment keys refused. Real `dexie` npm
// package, real server, headless Chromium; each device is its own browser context.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, eventually } from './harness.mjs';
import { openPage } from './pages/server.mjs';
import { installIdbCounter, takeIdbCounts } from './idb_counter.mjs';

const TASKS = 'id, status, createdAt';

let stack, server, pages, browser;

before(async () => {
  stack = await startStack('adopt', { pagesDir: 'adopt_pages' });
  ({ server, pages, browser } = stack);
});

after(async () => {
  await stack?.stop();
});

const signUp = () => stack.signUp();

/** A device: a fresh browser context (its own IndexedDB) with the page loaded. */
async function device() {
  const context = await browser.newContext();
  const page = await openPage(context, pages.url);
  const pushed = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/v1/push')) pushed.push(...JSON.parse(request.postData()).mutations);
  });
  return { context, page, pushed };
}

/** Opens `window.sync` on `dbName` (no automatic rounds: the test calls syncNow). */
function openSync(page, { dbName, token, schema = { tasks: TASKS }, options = {} }) {
  return page.evaluate(
    async ({ dbName, token, schema, endpoint, options }) => {
      window.sync = await window.SyncManager.open({
        dbName, version: 1, schema, endpoint, auth: { getToken: async () => token }, autoSync: false, ...options,
      });
    },
    { dbName, token, schema, endpoint: server.url, options },
  );
}

/** Creates `MyAppDatabase`-style data with Dexie, as the app did before idb-sync. */
function dexieWrites(page, dbName, rows) {
  return page.evaluate(
    async ({ dbName, rows, schema }) => {
      const db = new window.Dexie(dbName);
      db.version(1).stores({ tasks: schema });
      await db.tasks.bulkPut(rows);
      db.close();
    },
    { dbName, rows, schema: TASKS },
  );
}

function tasks(page) {
  return page.evaluate(async () => (await window.sync.table('tasks').toArray()).map(({ id, title, status }) => ({ id, title, status })));
}

function uniqueName(label) {
  return `adopt-e2e-${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}

const fifty = Array.from({ length: 50 }, (_, i) => ({
  id: `task-${String(i).padStart(2, '0')}`,
  title: `task ${i}`,
  status: 'todo',
  createdAt: 1_700_000_000_000 + i,
}));

test("a Dexie app's 50 tasks reach a second device; an old row's update syncs as an update; later Dexie rows sync after a reopen", async () => {
  const token = await signUp();
  const dbName = uniqueName('myapp');
  const a = await device();
  const b = await device();
  try {
    await dexieWrites(a.page, dbName, fifty);
    await openSync(a.page, { dbName, token });
    assert.equal(await a.page.evaluate(() => window.sync.getPendingCount()), 50, 'the existing rows are queued at open');
    const first = await a.page.evaluate(() => window.sync.syncNow());
    assert.equal(first.pushed, 50);
    assert.deepEqual(a.pushed.map((m) => m.op.kind), Array(50).fill('create'));

    await openSync(b.page, { dbName, token });
    await b.page.evaluate(() => window.sync.syncNow());
    const expected = fifty.map(({ id, title, status }) => ({ id, title, status }));
    assert.deepEqual(await tasks(b.page), expected, 'the second device sees all 50');

    // An old row: its update goes as an update, and the record survives on both.
    a.pushed.length = 0;
    const updated = await a.page.evaluate(() => window.sync.update('tasks', 'task-07', { status: 'done' }));
    assert.equal(updated?.status, 'done');
    await a.page.evaluate(() => window.sync.syncNow());
    assert.deepEqual(a.pushed.map((m) => [m.key, m.op.kind]), [['task-07', 'update']]);
    await b.page.evaluate(() => window.sync.syncNow());
    const afterUpdate = expected.map((t) => (t.id === 'task-07' ? { ...t, status: 'done' } : t));
    assert.deepEqual(await tasks(a.page), afterUpdate, 'the record is still on device a');
    assert.deepEqual(await tasks(b.page), afterUpdate, 'and updated on device b');
    assert.deepEqual(await a.page.evaluate(() => window.sync.conflictLog()), [], 'nothing was resolved away');

    // Dexie writes beside idb-sync; the row is picked up at the next open.
    await a.page.evaluate(() => window.sync.close());
    await dexieWrites(a.page, dbName, [{ id: 'late', title: 'written by Dexie later', status: 'todo', createdAt: 1 }]);
    await openSync(a.page, { dbName, token });
    assert.equal(await a.page.evaluate(() => window.sync.getPendingCount()), 1);
    assert.equal((await a.page.evaluate(() => window.sync.syncNow())).pushed, 1);
    await b.page.evaluate(() => window.sync.syncNow());
    const late = await b.page.evaluate(() => window.sync.table('tasks').get('late'));
    assert.equal(late?.title, 'written by Dexie later');
    // Dexie still reads the adopted database.
    const dexieCount = await a.page.evaluate(async (dbName) => {
      const db = new window.Dexie(dbName);
      await db.open();
      const n = await db.table('tasks').count();
      db.close();
      return n;
    }, dbName);
    assert.equal(dexieCount, 51);
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('12,000 Dexie rows are adopted across scan and write chunks exactly once; a reopen with every row known writes nothing', async () => {
  const token = await signUp();
  const dbName = uniqueName('many');
  const a = await device();
  try {
    // Rows whose keys straddle both chunk sizes (500 written, 5,000 scanned), with a
    // known row in the middle of the range: sorted as IndexedDB sorts strings.
    const rows = Array.from({ length: 12_000 }, (_, i) => ({ id: `r${String(i).padStart(5, '0')}`, title: `row ${i}`, status: 'todo', createdAt: i }));
    await dexieWrites(a.page, dbName, rows.slice(0, 6_000));
    await openSync(a.page, { dbName, token });
    assert.equal(await a.page.evaluate(() => window.sync.getPendingCount()), 6_000);
    await a.page.evaluate(() => window.sync.close());
    await dexieWrites(a.page, dbName, rows.slice(6_000));
    await openSync(a.page, { dbName, token });
    assert.equal(await a.page.evaluate(() => window.sync.getPendingCount()), 12_000, 'the later rows are queued once, the earlier ones not again');
    await a.page.evaluate(() => window.sync.close());

    await installIdbCounter(a.page);
    await takeIdbCounts(a.page);
    await openSync(a.page, { dbName, token });
    // The scan runs in the background after open(); getPendingCount() waits for it.
    assert.equal(await a.page.evaluate(() => window.sync.getPendingCount()), 12_000);
    const counts = await takeIdbCounts(a.page);
    assert.equal(counts.stores._idbsync_state?.write ?? 0, 0, 'no state row written');
    assert.equal(counts.readwrite, 0, `read-write transactions at open (adopting chunks would be 24, creating the metadata 1)`);
    assert.equal(counts.requests.getAllKeys, 2 * 3, 'the scan: app keys and state keys per 5,000-key chunk');
  } finally {
    await a.context.close();
  }
});

test("adopt: 'pull' lets the server's copy win and pushes the local-only rows; 'none' leaves them local until written", async () => {
  const token = await signUp();
  const a = await device();
  const b = await device();
  try {
    await openSync(b.page, { dbName: uniqueName('server'), token });
    await b.page.evaluate(async () => {
      await window.sync.create('tasks', { id: 'shared', title: 'server copy', status: 'done', createdAt: 1 });
      await window.sync.syncNow();
    });
    const pullDb = uniqueName('pull');
    await dexieWrites(a.page, pullDb, [
      { id: 'shared', title: 'stale local copy', status: 'todo', createdAt: 1 },
      { id: 'mine', title: 'only on this device', status: 'todo', createdAt: 2 },
    ]);
    await openSync(a.page, { dbName: pullDb, token, options: { adopt: 'pull' } });
    assert.equal(await a.page.evaluate(() => window.sync.getPendingCount()), 0, 'nothing is queued before the first pull');
    await a.page.evaluate(() => window.sync.syncNow());
    await eventually(() => a.page.evaluate(() => window.sync.getPendingCount()), (n) => n === 1, 'the local-only record queued after the first pull', 10_000);
    await a.page.evaluate(() => window.sync.syncNow());
    assert.deepEqual(await tasks(a.page), [
      { id: 'mine', title: 'only on this device', status: 'todo' },
      { id: 'shared', title: 'server copy', status: 'done' },
    ]);
    await b.page.evaluate(() => window.sync.syncNow());
    assert.equal((await b.page.evaluate(() => window.sync.table('tasks').get('mine')))?.title, 'only on this device');
    await a.page.evaluate(() => window.sync.close());

    const noneDb = uniqueName('none');
    await dexieWrites(a.page, noneDb, [{ id: 'local-1', title: 'kept local', status: 'todo', createdAt: 3 }, { id: 'local-2', title: 'edited', status: 'todo', createdAt: 4 }]);
    await openSync(a.page, { dbName: noneDb, token, options: { adopt: 'none' } });
    assert.equal(await a.page.evaluate(() => window.sync.getPendingCount()), 0);
    await a.page.evaluate(() => window.sync.update('tasks', 'local-2', { status: 'done' }));
    assert.equal((await a.page.evaluate(() => window.sync.syncNow())).pushed, 1);
    assert.deepEqual(a.pushed.filter((m) => m.key === 'local-2').map((m) => m.op.kind), ['create'], 'never seen by the server: a create');
    await b.page.evaluate(() => window.sync.syncNow());
    assert.equal((await b.page.evaluate(() => window.sync.table('tasks').get('local-2')))?.status, 'done');
    assert.equal(await b.page.evaluate(() => window.sync.table('tasks').get('local-1')), undefined, "'none' keeps it local");
    assert.equal((await a.page.evaluate(() => window.sync.table('tasks').get('local-1')))?.title, 'kept local');
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('out-of-line keys sync between two devices: creates, pulled updates and deletes', async () => {
  const token = await signUp();
  const a = await device();
  const b = await device();
  const schema = { notes: '', tasks: TASKS };
  try {
    await openSync(a.page, { dbName: uniqueName('notes-a'), token, schema });
    await openSync(b.page, { dbName: uniqueName('notes-b'), token, schema });
    await a.page.evaluate(async () => {
      await window.sync.table('notes').put({ text: 'first' }, 'n1');
      await window.sync.table('notes').put({ text: 'second' }, 2);
      await window.sync.table('tasks').put({ id: 't', title: 'x', status: 'todo', createdAt: 1 });
      await window.sync.syncNow();
    });
    await b.page.evaluate(() => window.sync.syncNow());
    const onB = await b.page.evaluate(async () => ({
      n1: await window.sync.table('notes').get('n1'),
      two: await window.sync.table('notes').get(2),
      task: (await window.sync.table('tasks').get('t'))?.title,
      status: window.sync.getSyncStatus().lastError,
    }));
    assert.deepEqual(onB, { n1: { text: 'first' }, two: { text: 'second' }, task: 'x', status: null });
    await b.page.evaluate(async () => {
      await window.sync.table('notes').update('n1', { text: 'first, edited on b' });
      await window.sync.table('notes').delete(2);
      await window.sync.syncNow();
    });
    await a.page.evaluate(() => window.sync.syncNow());
    const onA = await a.page.evaluate(async () => ({
      notes: await window.sync.table('notes').toArray(),
      keys: await window.sync.table('notes').keys(),
      lastError: window.sync.getSyncStatus().lastError,
    }));
    assert.deepEqual(onA, { notes: [{ text: 'first, edited on b' }], keys: ['n1'], lastError: null });
  } finally {
    await a.context.close();
    await b.context.close();
  }
});

test('auto-increment keys are refused for synced tables with invalid_schema, and nothing is opened', async () => {
  const a = await device();
  try {
    const dbName = uniqueName('autoinc');
    const refused = await a.page.evaluate(async ({ dbName, endpoint }) => {
      const out = [];
      for (const schema of [{ log: '++id, at' }, { blobs: '++' }]) {
        try {
          await window.SyncManager.open({ dbName, schema, endpoint, autoSync: false });
          out.push('opened');
        } catch (e) {
          out.push({ code: e.code, message: e.message });
        }
      }
      try {
        await window.SyncManager.open({ dbName, schema: { tasks: 'id' }, endpoint, adopt: 'yes' });
      } catch (e) {
        out.push({ code: e.code });
      }
      const dbs = (await indexedDB.databases()).map((d) => d.name);
      return { out, created: dbs.includes(dbName) };
    }, { dbName, endpoint: server.url });
    assert.equal(refused.out[0].code, 'invalid_schema');
    assert.match(refused.out[0].message, /`\+\+id`.*cannot be synced.*plain `id` key.*UUID v7/);
    assert.equal(refused.out[1].code, 'invalid_schema');
    assert.match(refused.out[1].message, /explicit keys/);
    assert.deepEqual(refused.out[2], { code: 'invalid_adopt' });
    assert.equal(refused.created, false, 'a refused open creates no database');
  } finally {
    await a.context.close();
  }
});
