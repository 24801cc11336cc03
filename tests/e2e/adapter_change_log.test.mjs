// End to end, the changeLog adapter (docs/adapters/changeLog.md) against a fixture of
// seed 003's server (fixtures/seed003_server.mjs, persisted to a file) in headless
// Chromium, through `options.protocol: { kind: 'changeLog' }`: two devices sync
// creates, updates and deletes (and the pages they pulled are acknowledged); offline
// writes sync on reconnect; a conflict the server reports resolves per the policy; a
// server error is retried and a rejected change does not block the queue; a Dexie
// database of the seed's schema, as the seed's client wrote it, is adopted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPages, openPage } from './pages/server.mjs';
import { launchBrowser } from './browser.mjs';
import { startSeed003 } from './fixtures/seed003_server.mjs';
import { uniqueName } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'seed003-')), 'db.json');
let seed, pages, browser;

before(async () => {
  seed = await startSeed003({ tokens: { t1: 'u1' }, file });
  pages = await startPages({ root: path.join(here, 'adapter_pages') });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await pages?.close();
  await seed?.close();
});

/** A device: a page in its own browser context with `window.sync` open on `dbName`. */
async function device(dbName, options = {}) {
  const context = await browser.newContext();
  const page = await openPage(context, pages.url);
  await open(page, dbName, options);
  return page;
}

function open(page, dbName, options = {}) {
  return page.evaluate(
    async ({ dbName, endpoint, options }) => {
      window.sync = await window.SyncManager.open({
        dbName,
        schema: { lists: 'id, name', items: 'id, listId, packed', notes: 'id' },
        endpoint,
        protocol: { kind: 'changeLog', userId: 'u1' },
        auth: { getToken: async () => 't1' },
        autoSync: false,
        ...options,
      });
    },
    { dbName, endpoint: seed.url, options },
  );
}

const run = (page, fn, arg) => page.evaluate(fn, arg);
const syncNow = (page) => run(page, () => window.sync.syncNow());
const item = (page, id) => run(page, (id) => window.sync.table('items').get(id), id);
const stored = (id, type = 'items') => seed.entity('u1', type, id);

test('two devices sync creates, updates and deletes through a seed 003 server', async () => {
  const a = await device(uniqueName('cl-a'));
  const b = await device(uniqueName('cl-b'));
  await run(a, () => window.sync.table('items').add({ id: 'i1', listId: 'l1', name: 'tent', packed: false }));
  await syncNow(a);
  assert.deepEqual(stored('i1'), {
    userId: 'u1', entityType: 'items', entityId: 'i1', version: 1,
    row: { id: 'i1', listId: 'l1', name: 'tent', packed: false },
  });
  await syncNow(b);
  assert.equal((await item(b, 'i1'))?.name, 'tent');

  await run(b, () => window.sync.table('items').update('i1', { packed: true }));
  await syncNow(b);
  assert.equal(stored('i1').version, 2);
  assert.deepEqual(stored('i1').row, { id: 'i1', listId: 'l1', name: 'tent', packed: true });
  await syncNow(a);
  assert.equal((await item(a, 'i1'))?.packed, true);

  await run(a, () => window.sync.table('items').delete('i1'));
  await syncNow(a);
  assert.equal(stored('i1').row, null);
  assert.equal(stored('i1').version, 3);
  await syncNow(b);
  assert.equal(await item(b, 'i1'), undefined);
  // B pulled the create, the update and the delete: each page is acknowledged by the
  // pull after it was stored.
  const ids = seed.log().filter((c) => c.entityId === 'i1').map((c) => String(c.id));
  await syncNow(b);
  const acked = seed.acknowledged('u1');
  for (const id of ids) assert.ok(acked.includes(id), `change ${id} acknowledged`);
  const persisted = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(persisted.entities.find((e) => e.entityId === 'i1').version, 3, 'the server persisted');
});

test('offline writes sync on reconnect', async () => {
  const context = await browser.newContext();
  const page = await openPage(context, pages.url);
  await open(page, uniqueName('cl-offline'), { autoSync: true });
  await syncNow(page);
  await context.setOffline(true);
  await page.waitForFunction(() => window.sync.getSyncStatus().phase === 'offline', null, { polling: 50 });
  await run(page, async () => {
    for (let i = 0; i < 3; i++) await window.sync.table('items').add({ id: `o${i}`, name: `offline ${i}` });
  });
  const refused = await run(page, () => window.sync.syncNow().then(() => 'resolved', (e) => e.code));
  assert.equal(refused, 'offline');
  assert.equal(stored('o0'), undefined);
  await context.setOffline(false);
  await page.waitForFunction(
    () => {
      const s = window.sync.getSyncStatus();
      return s.online && s.pending === 0 && s.inFlight === 0;
    },
    null,
    { polling: 50, timeout: 15_000 },
  );
  for (let i = 0; i < 3; i++) assert.equal(stored(`o${i}`)?.row.name, `offline ${i}`);
  await run(page, () => window.sync.close());
  await context.close();
});

test('a conflict the server reports resolves per the policy', async () => {
  const a = await device(uniqueName('cl-ca'));
  const b = await device(uniqueName('cl-cb'), { conflict: 'serverWins' });
  await run(a, () => window.sync.table('items').add({ id: 'c1', name: 'stove', qty: 1 }));
  await syncNow(a);
  await syncNow(b);
  await run(a, () => window.sync.table('items').update('c1', { qty: 2 }));
  await run(b, () => window.sync.table('items').update('c1', { qty: 3, note: 'b' }));
  await syncNow(a);
  await syncNow(b); // B's change is based on version 1: the server answers a conflict.
  assert.deepEqual(stored('c1'), {
    userId: 'u1', entityType: 'items', entityId: 'c1', version: 2,
    row: { id: 'c1', name: 'stove', qty: 2 },
  }, "serverWins: B's change was not written");
  const b1 = await item(b, 'c1');
  assert.deepEqual({ qty: b1.qty, note: b1.note }, { qty: 2, note: undefined });
  const log = await run(b, async () => (await window.sync.conflictLog()).map((c) => c.outcome));
  assert.deepEqual(log, ['took server']);

  // fieldMerge (the default): both devices' fields survive.
  const c = await device(uniqueName('cl-cc'));
  await syncNow(c);
  await run(c, () => window.sync.table('items').update('c1', { qty: 7 }));
  await run(a, () => window.sync.table('items').update('c1', { name: 'huge stove' }));
  await syncNow(a);
  await syncNow(c);
  assert.deepEqual(stored('c1').row, { id: 'c1', name: 'huge stove', qty: 7 });
  await syncNow(a);
  assert.deepEqual(await item(a, 'c1'), { id: 'c1', name: 'huge stove', qty: 7 });
});

test('a server error is retried and a rejected change does not block the queue', async () => {
  const a = await device(uniqueName('cl-err'));
  await run(a, async () => {
    await window.sync.table('items').add({ id: 'e1', name: 'mine' });
    await window.sync.table('notes').add({ id: 'n1', text: 'the server has no notes' });
    await window.sync.table('items').add({ id: 'e2', name: 'also mine' });
  });
  seed.failNext(1);
  await assert.rejects(syncNow(a));
  assert.equal(stored('e1'), undefined);
  await syncNow(a);
  assert.equal(stored('e1')?.row.name, 'mine');
  assert.equal(stored('e2')?.row.name, 'also mine');
  assert.equal(stored('e1').version, 1, 'accepted once, though resent after the batch split');
  const parked = await run(a, async () => (await window.sync.deadLetters()).map((d) => [d.table, d.code]));
  assert.deepEqual(parked, [['notes', 'rejected']]);
  assert.equal(await run(a, () => window.sync.getPendingCount()), 0);
});

test("a Dexie database of the seed's schema, written by the seed's client, is adopted", async () => {
  const dbName = uniqueName('cl-adopt');
  const context = await browser.newContext();
  const page = await openPage(context, pages.url);
  const meta = (version) => ({ syncId: 's', version, lastModified: 1, lastSyncedAt: 1, deviceId: 'old', userId: 'u1' });
  // The seed's client had pushed the list before; the item is new (in its queue).
  const list = { id: 'L1', name: 'camping', sync: meta(1) };
  const pushed = await fetch(`${seed.url}/pushChanges`, {
    method: 'POST',
    headers: { Authorization: 'Bearer t1', 'Content-Type': 'application/json' },
    body: JSON.stringify({ changes: [{ id: 'old-1', entityType: 'lists', entityId: 'L1', operation: 'create', timestamp: 1, data: { id: 'L1', name: 'camping' }, version: 0, deviceId: 'old' }] }),
  }).then((r) => r.json());
  assert.deepEqual(pushed.accepted, ['old-1']);
  const newItem = { id: 'A1', listId: 'L1', name: 'lamp', packed: false, sync: meta(0) };
  await run(page, async ({ dbName, list, newItem }) => {
    const db = new window.Dexie(dbName);
    db.version(3).stores({ lists: 'id, name', items: 'id, listId, packed', syncQueue: 'id, entity, timestamp' });
    await db.lists.put(list);
    await db.items.put(newItem);
    await db.syncQueue.put({ id: 'q1', type: 'create', entity: 'items', data: newItem, timestamp: 2 });
    db.close();
  }, { dbName, list, newItem });
  await open(page, dbName, { version: 3, schema: { lists: 'id, name', items: 'id, listId, packed' } });
  await syncNow(page);
  assert.deepEqual(stored('A1').row, { id: 'A1', listId: 'L1', name: 'lamp', packed: false }, "the seed's `sync` bookkeeping stays out");
  // The list the server had comes back as a conflict: fieldMerge keeps both, the
  // server now holds it at version 2.
  assert.deepEqual(stored('L1', 'lists'), {
    userId: 'u1', entityType: 'lists', entityId: 'L1', version: 2, row: { id: 'L1', name: 'camping' },
  });
  assert.equal(await run(page, () => window.sync.getPendingCount()), 0);
  await run(page, () => window.sync.close());
  await context.close();
});
