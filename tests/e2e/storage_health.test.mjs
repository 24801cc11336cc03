// End-to-end: storage health (issue 14) against the reference server in Chromium —
// `persistStorage` and `status.storage`'s numbers; a database deleted behind the
// engine's back (another script's `indexedDB.deleteDatabase`, and the browser clearing
// the site's IndexedDB through CDP `Storage.clearDataForOrigin`) detected, recreated
// and refilled from the server, with the unsynced changes it took reported; and a
// write the browser refuses for its quota (CDP `Storage.overrideQuotaForOrigin`)
// shown in the status until a write succeeds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniqueName, openManager, serverRecords } from './harness.mjs';
import { openPage } from './pages/server.mjs';

let stack;

before(async () => {
  stack = await startStack('storage-health');
});

after(async () => {
  await stack?.stop();
});

/** Waits until `f()` is truthy (polling; no timing is asserted). */
async function until(what, f) {
  for (let i = 0; i < 400; i += 1) {
    const value = await f();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`never: ${what}`);
}

/** `n` characters of incompressible text (run in the page). */
function randomText(n) {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i += 65_536) crypto.getRandomValues(bytes.subarray(i, i + 65_536));
  return Array.from(bytes, (b) => String.fromCharCode(33 + (b % 90))).join('');
}

const status = (page) => page.evaluate(() => window.sync.getSyncStatus());

test('persistStorage asks for persistent storage; status.storage shows the persisted flag, usage and quota', async () => {
  const token = await stack.signUp();
  const context = await stack.browser.newContext();
  const page = await openPage(context, stack.pages.url);
  const endpoint = stack.server.url;
  try {
    const refused = await page.evaluate(async (endpoint) => {
      try {
        await window.SyncManager.open({ dbName: 'x', schema: { tasks: 'id' }, endpoint, persistStorage: 'yes' });
        return 'opened';
      } catch (e) {
        return `${e.code} ${e.option}`;
      }
    }, endpoint);
    assert.equal(refused, 'invalid_persist_storage persistStorage');

    await page.evaluate(
      async ({ dbName, token, endpoint }) => {
        window.sync = await window.SyncManager.open({
          dbName,
          schema: { tasks: 'id, status' },
          endpoint,
          auth: { getToken: async () => token },
          autoSync: false,
          persistStorage: true,
        });
      },
      { dbName: uniqueName('persist'), token, endpoint },
    );
    const storage = await until('the leader read navigator.storage', async () => {
      const s = (await status(page)).storage;
      return s.quota !== null && s;
    });
    const browserSays = await page.evaluate(async () => ({
      persisted: await navigator.storage.persisted(),
      quota: (await navigator.storage.estimate()).quota,
    }));
    assert.equal(storage.persisted, browserSays.persisted, 'the flag the browser reports');
    assert.equal(typeof storage.usage, 'number');
    assert.ok(storage.quota > 0 && storage.usage >= 0 && storage.usage <= storage.quota, JSON.stringify(storage));
    assert.equal(storage.quota, browserSays.quota);
    assert.deepEqual([storage.writeError, storage.evicted, storage.lost], [null, null, 0]);
    await page.evaluate(() => window.sync.create('tasks', { id: 't1', blob: 'x'.repeat(200_000), status: 'todo' }));
    await page.evaluate(() => window.sync.syncNow());
    const after = (await status(page)).storage;
    assert.ok(after.usage >= storage.usage, 'read again after the round');
  } finally {
    await context.close();
  }
});

/** Two tabs of one database; `wipe(page, dbName)` deletes it behind their backs. */
async function evictionCase(label, wipe) {
  const token = await stack.signUp();
  const dbName = uniqueName(label);
  const context = await stack.browser.newContext();
  const a = await openPage(context, stack.pages.url);
  const b = await openPage(context, stack.pages.url);
  const endpoint = stack.server.url;
  try {
    await openManager(a, { dbName, token, endpoint });
    await openManager(b, { dbName, token, endpoint });
    const oldClient = await a.evaluate(() => window.sync.clientId);
    await a.evaluate(async () => {
      await window.sync.create('tasks', { id: 't1', title: 'synced', status: 'todo' });
      await window.sync.create('tasks', { id: 't2', title: 'synced too', status: 'todo' });
      await window.sync.syncNow();
    });
    // Unsynced when the database goes: t3 written in A, t4 in B (A learns of it by
    // reading the outbox again), t2 updated in A.
    await a.evaluate(() => window.sync.create('tasks', { id: 't3', title: 'never synced', status: 'todo' }));
    await b.evaluate(() => window.sync.create('tasks', { id: 't4', title: 'from B', status: 'todo' }));
    await a.evaluate(() => window.sync.update('tasks', 't2', { status: 'done' }));
    await until('A counts the three', async () => (await status(a)).pending === 3);
    await new Promise((r) => setTimeout(r, 200)); // A's reread of the outbox (not timed: any later is fine)

    await wipe(a, dbName);

    for (const page of [a, b]) {
      const evicted = await until('the eviction shows', async () => (await status(page)).storage.evicted);
      assert.equal(evicted.code, 'storage_evicted');
    }
    const lost = await a.evaluate(() => window.sync.lostChanges());
    assert.deepEqual(
      lost.map((c) => `${c.table} ${c.key} ${c.op}`).sort(),
      ['tasks t2 update', 'tasks t3 create', 'tasks t4 create'],
      'the unsynced changes it took, with their keys',
    );
    assert.equal((await status(a)).storage.lost, 3);

    // Refilled from the server by a full pull (every tab reads it).
    for (const page of [a, b]) {
      const t1 = await until('t1 is pulled back', () =>
        page.evaluate(() => window.sync.table('tasks').get('t1').catch(() => undefined)),
      );
      assert.equal(t1.title, 'synced');
      const t2 = await page.evaluate(() => window.sync.table('tasks').get('t2'));
      assert.equal(t2.status, 'todo', "the server's copy: the update was lost");
      assert.equal(await page.evaluate(() => window.sync.table('tasks').get('t3')), undefined);
    }
    const newClient = await a.evaluate(() => window.sync.clientId);
    assert.notEqual(newClient, oldClient, 'a recreated database is a new client (I11)');

    // New writes, in either tab, sync.
    await b.evaluate(() => window.sync.create('tasks', { id: 't5', title: 'after', status: 'todo' }));
    await a.evaluate(() => window.sync.create('tasks', { id: 't6', title: 'after too', status: 'todo' }));
    await until('both new writes reach the server', async () => {
      await a.evaluate(() => window.sync.syncNow().catch(() => null));
      const records = await serverRecords(stack.server, token);
      return records.t5 && records.t6;
    });
    const records = await serverRecords(stack.server, token);
    assert.deepEqual(Object.keys(records).sort(), ['t1', 't2', 't5', 't6']);
    assert.equal((await status(a)).lastError, null);
  } finally {
    await context.close();
  }
}

test('another script deleting the database: detected, refilled from the server, the lost changes reported', async () => {
  await evictionCase('deleted', (page, dbName) =>
    page.evaluate(
      (name) =>
        new Promise((resolve, reject) => {
          const request = indexedDB.deleteDatabase(name);
          request.onsuccess = () => resolve();
          request.onerror = () => reject(request.error);
        }),
      dbName,
    ),
  );
});

test('the browser clearing the site data: detected, refilled from the server, the lost changes reported', async () => {
  await evictionCase('cleared', async (page) => {
    const cdp = await page.context().newCDPSession(page);
    const origin = new URL(page.url()).origin;
    await cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: 'indexeddb' });
  });
});

test('a write refused for the quota shows in the status until a write succeeds; the queue goes on', async () => {
  const token = await stack.signUp();
  const context = await stack.browser.newContext();
  const page = await openPage(context, stack.pages.url);
  const endpoint = stack.server.url;
  try {
    // The quota applies to connections opened after it is set.
    const cdp = await context.newCDPSession(page);
    const origin = new URL(page.url()).origin;
    const { usage } = await page.evaluate(() => navigator.storage.estimate());
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 300_000 });
    await openManager(page, { dbName: uniqueName('quota'), token, endpoint });
    await page.evaluate(() => window.sync.create('tasks', { id: 't1', status: 'todo' }));
    await page.evaluate(`window.randomText = ${randomText}`);
    const code = await page.evaluate(() =>
      // Random text: IndexedDB compresses large values, so `'x'.repeat(n)` would fit.
      window.sync.create('tasks', { id: 'big', status: 'todo', blob: window.randomText(1_000_000) }).then(
        () => 'written',
        (e) => e.code,
      ),
    );
    assert.equal(code, 'quota_exceeded', 'the write is rejected');
    const shown = (await status(page)).storage.writeError;
    assert.equal(shown?.code, 'quota_exceeded', 'and the status says so');
    assert.equal(await page.evaluate(() => window.sync.table('tasks').get('big')), undefined, 'nothing half-written');

    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    await page.evaluate(() => window.sync.create('tasks', { id: 't2', status: 'todo' }));
    assert.equal((await status(page)).storage.writeError, null, 'a write succeeded: cleared');
    await page.evaluate(() => window.sync.syncNow());
    const records = await serverRecords(stack.server, token);
    assert.deepEqual(Object.keys(records).sort(), ['t1', 't2'], 'the queue was never stuck');
  } finally {
    await context.close();
  }
});
