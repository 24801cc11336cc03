// End to end, the pushPull adapter (docs/ADAPTERS.md) against a fixture of seed 000's
// server (fixtures/seed000_server.mjs) in headless Chromium: two devices sync creates,
// updates and deletes through `options.protocol: { kind: 'pushPull' }`; a server
// error is retried; a record the server skips is parked without blocking the queue.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPages, openPage } from './pages/server.mjs';
import { launchBrowser } from './browser.mjs';
import { startSeed000 } from './fixtures/seed000_server.mjs';
import { uniqueName } from './harness.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
let seed, pages, browser;

before(async () => {
  seed = await startSeed000({ tokens: { t1: 'u1', t2: 'u2' } });
  pages = await startPages({ root: path.join(here, 'adapter_pages') });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await pages?.close();
  await seed?.close();
});

/** A device: a page in its own browser context with `window.sync` open on `dbName`
 * (`extra`: more options, e.g. a conflict policy); `page.context()` is its context. */
async function device(dbName, token = 't1', extra = {}) {
  const page = await openPage(await browser.newContext(), pages.url);
  await page.evaluate(
    async ({ dbName, token, endpoint, extra }) => {
      window.sync = await window.SyncManager.open({
        dbName,
        schema: { goals: 'id, userId', notes: 'id' },
        endpoint,
        protocol: { kind: 'pushPull', basePath: '/.netlify/functions', userId: 'u1' },
        auth: { getToken: async () => token },
        autoSync: false,
        ...extra,
      });
    },
    { dbName, token, endpoint: seed.url, extra },
  );
  return page;
}

const run = (page, fn, arg) => page.evaluate(fn, arg);
const syncNow = (page) => run(page, () => window.sync.syncNow());
const goal = (page, id) => run(page, (id) => window.sync.table('goals').get(id), id);
const stored = (id) => seed.docs('goals').find((d) => d._id === id);

test('two devices sync creates, updates and deletes through a seed 000 server', async () => {
  const a = await device(uniqueName('pp-a'));
  const b = await device(uniqueName('pp-b'));
  await run(a, () => window.sync.table('goals').add({ id: 'g1', userId: 'u1', title: 'run' }));
  await syncNow(a);
  assert.equal(stored('g1')?._rev, 1);
  assert.equal(stored('g1')?.title, 'run');
  await syncNow(b);
  assert.equal((await goal(b, 'g1'))?.title, 'run');

  await run(b, () => window.sync.table('goals').update('g1', { title: 'run 5k' }));
  await syncNow(b);
  assert.equal(stored('g1')?._rev, 2);
  assert.equal(stored('g1')?.userId, 'u1');
  await syncNow(a);
  assert.equal((await goal(a, 'g1'))?.title, 'run 5k');

  await run(a, () => window.sync.table('goals').delete('g1'));
  await syncNow(a);
  assert.equal(stored('g1')?._deleted, true);
  await syncNow(b);
  assert.equal(await goal(b, 'g1'), undefined);
});

test('offline writes sync on reconnect', async () => {
  const a = await device(uniqueName('pp-off'));
  await a.context().setOffline(true);
  await run(a, () => window.sync.table('goals').add({ id: 'off1', userId: 'u1', title: 'on the train' }));
  await assert.rejects(syncNow(a));
  assert.equal(stored('off1'), undefined);
  await a.context().setOffline(false);
  await syncNow(a);
  assert.equal(stored('off1')?.title, 'on the train');
  assert.equal(await run(a, () => window.sync.getPendingCount()), 0);
});

test('a conflict resolves per the policy (serverWins), and both devices end with the server’s copy', async () => {
  const options = { conflict: 'serverWins' };
  const a = await device(uniqueName('pp-ca'), 't1', options);
  const b = await device(uniqueName('pp-cb'), 't1', options);
  await run(a, () => window.sync.table('goals').add({ id: 'c1', userId: 'u1', title: 'base' }));
  await syncNow(a);
  await syncNow(b);
  await run(a, () => window.sync.table('goals').update('c1', { title: 'from a' }));
  await run(b, () => window.sync.table('goals').update('c1', { title: 'from b' }));
  await syncNow(a);
  // B's round pulls A's change before pushing: serverWins drops B's edit, logged.
  await syncNow(b);
  assert.equal((await goal(b, 'c1'))?.title, 'from a', "the server's record won");
  assert.equal(stored('c1')?.title, 'from a');
  assert.equal(stored('c1')?._rev, 2, 'nothing more was pushed');
  const log = await run(b, async () => (await window.sync.conflictLog()).map((c) => [c.key, c.outcome]));
  assert.deepEqual(log, [['c1', 'took server']]);
});

test('a server error is retried and a skipped record does not block the queue', async () => {
  const a = await device(uniqueName('pp-err'));
  await run(a, async () => {
    await window.sync.table('goals').add({ id: 'e1', userId: 'u1', title: 'mine' });
    await window.sync.table('notes').add({ id: 'n1', text: 'the seed does not sync notes' });
    await window.sync.table('goals').add({ id: 'e2', userId: 'u1', title: 'also mine' });
  });
  seed.failNext(1);
  await assert.rejects(syncNow(a));
  assert.equal(stored('e1'), undefined);
  await syncNow(a);
  assert.equal(stored('e1')?.title, 'mine');
  assert.equal(stored('e2')?.title, 'also mine');
  const parked = await run(a, async () => (await window.sync.deadLetters()).map((d) => [d.table, d.code]));
  assert.deepEqual(parked, [['notes', 'not_accepted']]);
});

test("a database the seed's client wrote with Dexie (++id keys) is adopted and its rows reach the server", async () => {
  const dbName = uniqueName('pp-adopt');
  const page = await openPage(await browser.newContext(), pages.url);
  const opened = await page.evaluate(
    async ({ dbName, endpoint }) => {
      // The seed's schema.js, version 6, and rows as its Goal class writes them.
      const db = new window.Dexie(dbName);
      db.version(6).stores({
        users: '++id, &email, password, name',
        goals: '++id, userId, status, [userId+status], _synced',
        activities: '++id, userId, goalId, date, [userId+goalId+date], [userId+status], _synced',
      });
      await db.users.add({ email: 'a@example.com', password: 'x', name: 'Ada' });
      for (const title of ['run 5k', 'read 12 books']) {
        const id = await db.goals.add({ userId: 'u1', status: 'active', title, _synced: false, _syncedAt: null, _rev: 1 });
        await db.goals.update(id, { _id: id });
      }
      await db.activities.add({ userId: 'u1', goalId: 1, date: '2025-01-02', minutes: 30, _synced: false, _rev: 1 });
      db.close();
      try {
        window.sync = await window.SyncManager.open({
          dbName,
          version: 6,
          // The same indexes; the keys become plain `id` (idb-sync refuses to sync
          // auto-increment keys: docs/MIGRATING.md, seed 000). `users` stays local.
          schema: {
            goals: 'id, userId, status, [userId+status], _synced',
            activities: 'id, userId, goalId, date, [userId+goalId+date], [userId+status], _synced',
          },
          endpoint,
          protocol: { kind: 'pushPull', basePath: '/.netlify/functions', userId: 'u1' },
          auth: { getToken: async () => 't1' },
          autoSync: false,
        });
        return null;
      } catch (e) {
        return { code: e.code, message: e.message };
      }
    },
    { dbName, endpoint: seed.url },
  );
  assert.equal(opened, null, JSON.stringify(opened));
  await syncNow(page);
  // The seed's own keys (numbers), as its server already knows them (`_id`).
  const goals = seed.docs('goals').filter((d) => typeof d._id === 'number');
  assert.deepEqual(goals.map((d) => [d._id, d.title, d._rev]), [[1, 'run 5k', 1], [2, 'read 12 books', 1]]);
  assert.ok(seed.docs('activities').some((d) => d.minutes === 30 && d.goalId === 1));
  // The rows stay where the seed's app reads them, and new goals get generated keys.
  const after = await page.evaluate(async () => {
    const goals = window.sync.table('goals');
    const id = await goals.add({ userId: 'u1', status: 'active', title: 'new' });
    return { kept: (await goals.bulkGet([1, 2])).map((g) => g?.title), newKeyType: typeof id };
  });
  assert.deepEqual(after, { kept: ['run 5k', 'read 12 books'], newKeyType: 'string' });
});
