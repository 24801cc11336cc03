// End-to-end (I11 "a client identity is never reused"): when the server answers
// client_id_reused (here: a restored backup, the database's seq counter set back),
// the database takes a new client id and resends; `sync.clientId` must show the id
// the database has now, in the tab that ran the round and in another tab of the same
// database. Real server, headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniqueName, serverRecords } from './harness.mjs';

let stack;

before(async () => {
  stack = await startStack('identity');
});

after(async () => {
  await stack?.stop();
});

function openSync(page, dbName, token) {
  return page.evaluate(
    async ({ dbName, token, endpoint }) => {
      window.sync = await window.SyncManager.open({
        dbName,
        schema: { tasks: 'id, status' },
        endpoint,
        auth: { getToken: async () => token },
        autoSync: false,
      });
    },
    { dbName, token, endpoint: stack.server.url },
  );
}

/** The database's stored metadata, read with plain IndexedDB; `change` edits it first. */
function storedMeta(page, dbName, change = null) {
  return page.evaluate(
    async ({ dbName, change }) => {
      const db = await new Promise((resolve, reject) => {
        const open = indexedDB.open(dbName);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const meta = await new Promise((resolve, reject) => {
        const tx = db.transaction('_idbsync_meta', 'readwrite');
        const store = tx.objectStore('_idbsync_meta');
        let meta;
        const get = store.get('client');
        get.onsuccess = () => {
          meta = change ? { ...get.result, ...change } : get.result;
          if (change) store.put(meta, 'client');
        };
        tx.oncomplete = () => resolve(meta);
        tx.onerror = () => reject(tx.error);
      });
      db.close();
      return meta;
    },
    { dbName, change },
  );
}

test('clientId shows the new id after client_id_reused, in the leader tab and in a follower tab', async () => {
  const token = await stack.signUp();
  const dbName = uniqueName('renewed-id');
  const page = await stack.newPage();
  const follower = await page.context().newPage();
  try {
    await openSync(page, dbName, token);
    await follower.goto(page.url());
    await follower.locator('#state[data-state="ready"]').waitFor({ timeout: 30_000 });
    await openSync(follower, dbName, token);
    assert.equal(await page.evaluate(() => window.sync.isLeader), true);
    assert.equal(await follower.evaluate(() => window.sync.isLeader), false);

    const before = await page.evaluate(async () => {
      await window.sync.create('tasks', { id: 'one', title: 'first', status: 'todo' });
      await window.sync.syncNow();
      return window.sync.clientId;
    });
    assert.equal(await follower.evaluate(() => window.sync.clientId), before);
    // A restored backup: the seq counter goes back while the id stays.
    await storedMeta(page, dbName, { next_seq: 1 });
    await page.evaluate(async () => {
      await window.sync.create('tasks', { id: 'two', title: 'second', status: 'todo' });
      await window.sync.syncNow();
    });

    const stored = (await storedMeta(page, dbName)).client_id;
    assert.notEqual(stored, before, 'the database took a new client id');
    assert.equal(await page.evaluate(() => window.sync.clientId), stored, 'the leader shows it');
    await follower.waitForFunction((id) => window.sync.clientId === id, stored, { timeout: 10_000, polling: 50 });
    assert.deepEqual(Object.keys(await serverRecords(stack.server, token)).sort(), ['one', 'two']);
  } finally {
    await page.context().close();
  }
});
