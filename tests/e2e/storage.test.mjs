// End-to-end: the built package next to the real `dexie` npm package in headless
// Chromium — adopting a database Dexie created (seed 001's schema), Dexie still
// reading it afterwards, Dexie's liveQuery hearing our writes, and change events
// crossing tabs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './browser.mjs';
import { startPages, openPage } from './pages/server.mjs';

let pages, browser;

before(async () => {
  pages = await startPages();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await pages?.close();
});

// Seed 001's Dexie schema.
const SEED_001 = {
  tasks: 'id, status, priority, dueDate, _synced, _localUpdatedAt, _deleted',
  projects: 'id, name, _synced, _localUpdatedAt',
  syncQueue: '++id, table, recordId, createdAt, retryCount',
  syncMeta: 'key',
};

test('a database created by Dexie is adopted: its stores, indexes and data survive, and Dexie still reads it', async () => {
  const context = await browser.newContext();
  const page = await openPage(context, pages.url);
  try {
    const result = await page.evaluate(async (schema) => {
      const name = `adopt-${Date.now()}-${Math.random()}`;
      const dx = new Dexie(name);
      dx.version(1).stores(schema);
      await dx.tasks.bulkPut([
        { id: 't1', title: 'Write report', status: 'todo', priority: 'high', tags: ['work'] },
        { id: 't2', title: 'Buy milk', status: 'done', priority: 'low', tags: [] },
      ]);
      await dx.projects.put({ id: 'p1', name: 'Home' });
      await dx.syncQueue.add({ operation: 'create', table: 'tasks', recordId: 't1', createdAt: 1, retryCount: 0 });
      await dx.syncMeta.put({ key: 'lastSyncTime', value: 42 });
      dx.close();

      // idb-sync takes over the app tables (the old queue tables are left alone).
      const db = await LocalDatabase.open({
        dbName: name,
        version: 1,
        schema: { tasks: schema.tasks, projects: schema.projects },
      });
      const tasks = db.table('tasks');
      const ours = {
        count: await tasks.count(),
        todo: (await tasks.where('status').equals('todo').toArray()).map((t) => t.id),
        high: await tasks.where('priority').equals('high').count(),
      };
      await tasks.put({ id: 't3', title: 'New via idb-sync', status: 'todo', priority: 'high', tags: [] });
      await tasks.update('t1', { status: 'done' });
      db.close();

      // Dexie, with the app's unchanged code, opens and reads it.
      const again = new Dexie(name);
      again.version(1).stores(schema);
      await again.open();
      const idb = again.backendDB();
      const dexieView = {
        stores: [...idb.objectStoreNames].sort(),
        taskIndexes: [...idb.transaction('tasks').objectStore('tasks').indexNames].sort(),
        tasks: (await again.tasks.orderBy('id').toArray()).map((t) => `${t.id}:${t.status}`),
        high: await again.tasks.where('priority').equals('high').count(),
        queue: await again.syncQueue.count(),
        meta: (await again.syncMeta.get('lastSyncTime'))?.value,
        projects: (await again.projects.toArray()).map((p) => p.name),
      };
      again.close();
      await LocalDatabase.delete(name);
      return { ours, dexieView };
    }, SEED_001);

    assert.deepEqual(result.ours, { count: 2, todo: ['t1'], high: 1 });
    assert.deepEqual(result.dexieView.stores, [
      '_idbsync_conflicts', '_idbsync_dead_letters', '_idbsync_deferred', '_idbsync_meta', '_idbsync_state',
      'projects', 'syncMeta', 'syncQueue', 'tasks',
    ]);
    assert.deepEqual(result.dexieView.taskIndexes, ['_deleted', '_localUpdatedAt', '_synced', 'dueDate', 'priority', 'status']);
    assert.deepEqual(result.dexieView.tasks, ['t1:done', 't2:done', 't3:todo']);
    assert.equal(result.dexieView.high, 2);
    assert.equal(result.dexieView.queue, 1);
    assert.equal(result.dexieView.meta, 42);
    assert.deepEqual(result.dexieView.projects, ['Home']);
  } finally {
    await context.close();
  }
});

test("Dexie's liveQuery on the same database hears idb-sync's writes", async () => {
  const context = await browser.newContext();
  const page = await openPage(context, pages.url);
  try {
    const counts = await page.evaluate(async (schema) => {
      const name = `live-${Date.now()}-${Math.random()}`;
      const db = await LocalDatabase.open({ dbName: name, version: 1, schema: { tasks: schema.tasks } });
      const dx = new Dexie(name);
      dx.version(1).stores({ tasks: schema.tasks });
      await dx.open();
      const seen = [];
      const sub = liveQuery(() => dx.tasks.count()).subscribe((n) => seen.push(n));
      const waitFor = async (pred) => {
        for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 30));
      };
      await waitFor(() => seen.length > 0);
      await db.table('tasks').put({ id: 'x', status: 'todo' });
      await waitFor(() => seen.includes(1));
      sub.unsubscribe();
      dx.close();
      db.close();
      await LocalDatabase.delete(name);
      return seen;
    }, SEED_001);
    assert.deepEqual(counts, [0, 1]);
  } finally {
    await context.close();
  }
});

test('two tabs see each other\'s change events', async () => {
  const context = await browser.newContext();
  const [a, b] = [await openPage(context, pages.url), await openPage(context, pages.url)];
  const name = `tabs-${Date.now()}`;
  const schema = { tasks: 'id, status' };
  try {
    const open = (page) =>
      page.evaluate(async ({ name, schema }) => {
        window.db = await LocalDatabase.open({ dbName: name, version: 1, schema });
        window.events = [];
        window.db.onChange('tasks', (e) => window.events.push({ table: e.table, keys: e.keys, source: e.source }));
      }, { name, schema });
    await open(a);
    await open(b);
    await b.evaluate(() => window.db.table('tasks').bulkPut([{ id: 'k1' }, { id: 'k2' }]));
    await a.waitForFunction(() => window.events.length > 0, null, { timeout: 5000 });
    assert.deepEqual(await a.evaluate(() => window.events), [{ table: 'tasks', keys: ['k1', 'k2'], source: 'local' }]);
    await a.evaluate(() => window.db.table('tasks').delete('k1'));
    await b.waitForFunction(() => window.events.length > 1, null, { timeout: 5000 });
    assert.deepEqual((await b.evaluate(() => window.events))[1], { table: 'tasks', keys: ['k1'], source: 'local' });
    // And the data is shared, of course.
    assert.deepEqual(await a.evaluate(() => window.db.table('tasks').keys()), ['k2']);
  } finally {
    await a.evaluate(() => window.db.close());
    await b.evaluate(async (name) => { window.db.close(); await LocalDatabase.delete(name); }, name);
    await context.close();
  }
});
