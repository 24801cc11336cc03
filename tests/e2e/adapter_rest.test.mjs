// End to end, the rest adapter (docs/adapters/rest.md) against a fixture of seed 001's
// server (fixtures/seed001_server.mjs) in headless Chromium, through
// `options.protocol: { kind: 'rest' }`: two devices sync creates, updates and deletes;
// offline writes sync on reconnect; a conflict resolves per the policy; a server
// error is retried and a validation error does not block the queue; a database the
// seed's own Dexie client wrote (`MyAppDatabase`, with its bookkeeping fields) is
// adopted and its rows reach the server; the fixture persists to its file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPages, openPage } from './pages/server.mjs';
import { launchBrowser } from './browser.mjs';
import { startSeed001 } from './fixtures/seed001_server.mjs';
import { uniqueName } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// The seed's schema (AppDatabase, version 1) less its own queue tables.
const SCHEMA = {
  tasks: 'id, status, priority, dueDate, _synced, _localUpdatedAt, _deleted',
  projects: 'id, name, _synced, _localUpdatedAt',
};
let seed, pages, browser, dir;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'seed001-'));
  seed = await startSeed001({ file: path.join(dir, 'db.json') });
  pages = await startPages({ root: path.join(here, 'adapter_pages') });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await pages?.close();
  await seed?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A device: a page in its own browser context with `window.sync` open on `dbName`. */
async function device(dbName, options = {}) {
  const context = await browser.newContext();
  const page = await openPage(context, pages.url);
  await openSync(page, dbName, options);
  return { context, page };
}

function openSync(page, dbName, options = {}) {
  return page.evaluate(
    async ({ dbName, endpoint, schema, options }) => {
      window.sync = await window.SyncManager.open({
        dbName, version: 1, schema, endpoint, protocol: { kind: 'rest' }, autoSync: false, ...options,
      });
    },
    { dbName, endpoint: seed.url, schema: SCHEMA, options },
  );
}

const run = (page, fn, arg) => page.evaluate(fn, arg);
const syncNow = (page) => run(page, () => window.sync.syncNow());
const task = (page, id) => run(page, (id) => window.sync.table('tasks').get(id), id);
const stored = (id) => seed.record('tasks', id);
const newTask = (id, title, more = {}) => ({ id, title, status: 'todo', priority: 'low', tags: [], ...more });

test('two devices sync creates, updates and deletes through a seed 001 server', async () => {
  const { page: a } = await device(uniqueName('rest-a'));
  const { page: b } = await device(uniqueName('rest-b'));
  await run(a, (t) => window.sync.create('tasks', t), newTask('r1', 'write'));
  await run(a, () => window.sync.create('projects', { id: 'p1', name: 'home', color: 'red' }));
  await syncNow(a);
  assert.equal(stored('r1')?.title, 'write');
  assert.equal(typeof stored('r1')?.updatedAt, 'number', "stamped by the server's clock");
  assert.equal(seed.record('projects', 'p1')?.name, 'home');
  await syncNow(b);
  assert.equal((await task(b, 'r1'))?.title, 'write');
  assert.equal((await run(b, () => window.sync.table('projects').get('p1')))?.color, 'red');

  await run(b, () => window.sync.update('tasks', 'r1', { status: 'done' }));
  await syncNow(b);
  assert.equal(stored('r1')?.status, 'done');
  assert.equal(stored('r1')?.title, 'write', 'an update sends its fields; the server merges');
  await syncNow(a);
  assert.equal((await task(a, 'r1'))?.status, 'done');

  await run(a, () => window.sync.delete('tasks', 'r1'));
  await syncNow(a);
  assert.equal(stored('r1')?._deleted, true);
  await syncNow(b);
  assert.equal(await task(b, 'r1'), undefined);
  const writes = seed.log.filter((l) => l.includes('/r1') || l === 'POST /api/tasks');
  assert.deepEqual(writes, ['POST /api/tasks', 'PUT /api/tasks/r1', 'DELETE /api/tasks/r1'], 'one request per item');
});

test('offline writes sync on reconnect', async () => {
  const { context, page: a } = await device(uniqueName('rest-off'));
  await context.setOffline(true);
  await run(a, (t) => window.sync.create('tasks', t), newTask('off1', 'on the train'));
  await assert.rejects(syncNow(a));
  assert.equal(stored('off1'), undefined);
  await context.setOffline(false);
  await syncNow(a);
  assert.equal(stored('off1')?.title, 'on the train');
  assert.equal(await run(a, () => window.sync.getPendingCount()), 0);
});

test('a conflict resolves per the policy (serverWins)', async () => {
  const options = { conflict: 'serverWins' };
  const { page: a } = await device(uniqueName('rest-ca'), options);
  const { page: b } = await device(uniqueName('rest-cb'), options);
  await run(a, (t) => window.sync.create('tasks', t), newTask('c1', 'base'));
  await syncNow(a);
  await syncNow(b);
  await run(a, () => window.sync.update('tasks', 'c1', { title: 'from a' }));
  await run(b, () => window.sync.update('tasks', 'c1', { title: 'from b' }));
  await syncNow(a);
  await syncNow(b);
  assert.equal((await task(b, 'c1'))?.title, 'from a', "the server's record won");
  assert.equal(stored('c1')?.title, 'from a');
  const log = await run(b, async () => (await window.sync.conflictLog()).map((c) => c.outcome));
  assert.deepEqual(log, ['took server']);
});

test('a server error is retried and a validation error does not block the queue', async () => {
  const { page: a } = await device(uniqueName('rest-err'));
  await run(a, async (tasks) => {
    for (const t of tasks) await window.sync.create('tasks', t);
  }, [newTask('v1', 'fine'), newTask('v2', 'bad', { status: 'someday' }), newTask('v3', 'fine too')]);
  seed.failNext(1);
  await assert.rejects(syncNow(a));
  assert.equal(stored('v1'), undefined);
  await syncNow(a);
  assert.equal(stored('v1')?.title, 'fine');
  assert.equal(stored('v3')?.title, 'fine too');
  assert.equal(stored('v2'), undefined);
  const parked = await run(a, async () => (await window.sync.deadLetters()).map((d) => [d.key, d.code]));
  assert.deepEqual(parked, [['v2', 'http_400']]);
  assert.equal(await run(a, () => window.sync.getPendingCount()), 0);
  assert.equal(seed.rows('tasks').filter((r) => r.id === 'v1').length, 1, 'resent safely: one v1');
});

test("the seed's own Dexie database is adopted and its rows reach the server", async () => {
  const dbName = uniqueName('MyAppDatabase');
  const context = await browser.newContext();
  const page = await openPage(context, pages.url);
  // What the seed's AppDatabase and SyncManager left: rows with their bookkeeping
  // fields, its queue and meta tables.
  await run(page, async (dbName) => {
    const db = new window.Dexie(dbName);
    db.version(1).stores({
      tasks: 'id, status, priority, dueDate, _synced, _localUpdatedAt, _deleted',
      projects: 'id, name, _synced, _localUpdatedAt',
      syncQueue: '++id, table, recordId, createdAt, retryCount',
      syncMeta: 'key',
    });
    const now = Date.now();
    await db.tasks.bulkAdd([
      { id: 'd1', title: 'from dexie', status: 'todo', priority: 'high', tags: ['x'], createdAt: now, updatedAt: now, _synced: false, _localUpdatedAt: now, _version: 1 },
      { id: 'd2', title: 'also dexie', status: 'in_progress', priority: 'low', tags: [], createdAt: now, updatedAt: now, _synced: false, _localUpdatedAt: now, _version: 2 },
    ]);
    await db.projects.add({ id: 'dp1', name: 'dexie project', color: 'blue', createdAt: now, _synced: false, _localUpdatedAt: now, _version: 1 });
    await db.syncQueue.add({ operation: 'create', table: 'tasks', recordId: 'd1', data: {}, createdAt: now, retryCount: 0 });
    await db.syncMeta.put({ key: 'lastSync_tasks', value: 0 });
    db.close();
  }, dbName);
  await openSync(page, dbName);
  await syncNow(page);
  assert.equal(stored('d1')?.title, 'from dexie');
  assert.equal(stored('d2')?.status, 'in_progress');
  assert.equal(seed.record('projects', 'dp1')?.name, 'dexie project');
  assert.equal(await run(page, () => window.sync.getPendingCount()), 0);
  // The seed's own tables are left alone, with their data.
  const kept = await run(page, async (dbName) => {
    window.sync.close();
    const db = new window.Dexie(dbName);
    await db.open();
    const count = await db.table('syncQueue').count();
    db.close();
    return count;
  }, dbName);
  assert.equal(kept, 1);
  // A second device gets them without the seed's bookkeeping.
  const { page: other } = await device(uniqueName('rest-adopt-b'));
  await syncNow(other);
  const d1 = await task(other, 'd1');
  assert.equal(d1?.title, 'from dexie');
  assert.equal(d1?._synced, undefined);
});

test('the fixture persists to its file', async () => {
  const file = path.join(dir, 'restart.json');
  const first = await startSeed001({ file });
  await fetch(`${first.url}/api/projects`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id: 'keep', name: 'kept' }),
  });
  await first.close();
  const second = await startSeed001({ file });
  const rows = await (await fetch(`${second.url}/api/projects?since=0`)).json();
  await second.close();
  assert.deepEqual(rows.map((r) => r.name), ['kept']);
});
