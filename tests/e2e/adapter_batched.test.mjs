// End to end, the batched adapter (docs/adapters/batched.md) against a fixture of seed
// 002's server (fixtures/seed002_server.mjs, persisted to a file) in headless Chromium:
// two devices sync creates, updates and deletes under one key with the server's id
// mapped back; offline writes sync on reconnect; the seed's conflict resolves per the
// policy; a server error is retried and a validation error does not block the queue;
// a database the seed's own client wrote with Dexie is adopted and reaches the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPages, openPage } from './pages/server.mjs';
import { launchBrowser } from './browser.mjs';
import { startSeed002 } from './fixtures/seed002_server.mjs';
import { uniqueName } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'seed002-'));
const file = path.join(dir, 'db.json');
let seed, pages, browser;

/** The seed client's Dexie schema (docs/migrating/seed-002.md): idb-sync opens the same tables. */
const SCHEMA = {
  spaces: 'localId, serverId, updatedAt',
  categories: 'localId, serverId, spaceLocalId, updatedAt',
  items: 'localId, serverId, spaceLocalId, categoryLocalId, updatedAt',
};

before(async () => {
  seed = await startSeed002({ tokens: { t1: 'u1' }, file });
  pages = await startPages({ root: path.join(here, 'adapter_pages') });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await pages?.close();
  await seed?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A device: a page in its own browser context with `window.sync` open on `dbName`. */
async function device(dbName, options = {}) {
  const context = await browser.newContext();
  const page = await openPage(context, pages.url);
  await page.evaluate(
    async ({ dbName, endpoint, schema, options }) => {
      window.sync = await window.SyncManager.open({
        dbName,
        schema: { ...schema, notes: 'localId' },
        endpoint,
        protocol: { kind: 'batched' },
        auth: { getToken: async () => 't1' },
        autoSync: false,
        ...options,
      });
    },
    { dbName, endpoint: seed.url, schema: SCHEMA, options },
  );
  return { context, page };
}

const run = (page, fn, arg) => page.evaluate(fn, arg);
const syncNow = (page) => run(page, () => window.sync.syncNow());
const item = (page, id) => run(page, (id) => window.sync.table('items').get(id), id);
const stored = (localId) => seed.docs('items').filter((d) => d.localId === localId);
const one = (localId) => {
  const docs = stored(localId);
  assert.ok(docs.length <= 1, `${docs.length} documents for ${localId}`);
  return docs[0];
};
const waitFor = (page, predicate, arg) => page.waitForFunction(predicate, arg, { timeout: 15_000, polling: 50 });

test('two devices sync creates, updates and deletes; the server id lands on both', async () => {
  const a = await device(uniqueName('b-a'));
  const b = await device(uniqueName('b-b'));
  await run(a.page, () => window.sync.table('items').add({ localId: 'i1', title: 'Watch Inception', movieId: '27205', type: 'movie' }));
  await syncNow(a.page);
  const doc = one('i1');
  assert.equal(doc?.title, 'Watch Inception');
  assert.equal(doc.isDeleted, false);
  assert.ok(doc.serverId);
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).items.find((d) => d.localId === 'i1')?.title, 'Watch Inception', 'persisted');
  assert.equal((await item(a.page, 'i1'))?.serverId, doc.serverId, 'mapped back onto the record');
  await syncNow(b.page);
  const onB = await item(b.page, 'i1');
  assert.equal(onB?.title, 'Watch Inception');
  assert.equal(onB.serverId, doc.serverId, 'one record, one key, one server id');

  await run(b.page, () => window.sync.table('items').update('i1', { isCompleted: true }));
  await syncNow(b.page);
  assert.equal(one('i1').isCompleted, true);
  assert.equal(one('i1').title, 'Watch Inception');
  await syncNow(a.page);
  assert.equal((await item(a.page, 'i1'))?.isCompleted, true);

  await run(a.page, () => window.sync.table('items').delete('i1'));
  await syncNow(a.page);
  assert.equal(one('i1').isDeleted, true);
  await syncNow(b.page);
  assert.equal(await item(b.page, 'i1'), undefined);
  await a.context.close();
  await b.context.close();
});

test('writes made offline sync when the browser is back online', async () => {
  const a = await device(uniqueName('b-off'), { autoSync: true, interval: 0 });
  await syncNow(a.page);
  await a.context.setOffline(true);
  await waitFor(a.page, () => window.sync.getSyncStatus().phase === 'offline');
  await run(a.page, async () => {
    await window.sync.table('items').add({ localId: 'off1', title: 'offline one' });
    await window.sync.table('items').add({ localId: 'off2', title: 'offline two' });
  });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(one('off1'), undefined, 'nothing sent while offline');
  await a.context.setOffline(false);
  await waitFor(a.page, () => {
    const s = window.sync.getSyncStatus();
    return s.online && s.pending === 0 && s.inFlight === 0 && s.phase === 'idle';
  });
  assert.equal(one('off1')?.title, 'offline one');
  assert.equal(one('off2')?.title, 'offline two');
  await a.context.close();
});

test("the seed's conflict resolves per the policy (serverWins)", async () => {
  const a = await device(uniqueName('b-ca'), { conflict: 'serverWins' });
  const b = await device(uniqueName('b-cb'));
  await run(b.page, () => window.sync.table('items').add({ localId: 'c1', title: 'original' }));
  await syncNow(b.page);
  await syncNow(a.page);
  // A writes first and stays offline; B writes later and syncs first: A's change is older.
  await run(a.page, () => window.sync.table('items').update('c1', { title: 'from a' }));
  await new Promise((r) => setTimeout(r, 50));
  await run(b.page, () => window.sync.table('items').update('c1', { title: 'from b' }));
  await syncNow(b.page);
  const result = await syncNow(a.page);
  assert.equal(result.conflicts, 1, 'the server reported the conflict');
  assert.equal(one('c1').title, 'from b');
  assert.equal((await item(a.page, 'c1'))?.title, 'from b', 'serverWins took the server copy');
  const log = await run(a.page, async () => (await window.sync.conflictLog()).map((e) => e.outcome));
  assert.deepEqual(log, ['took server']);
  await a.context.close();
  await b.context.close();
});

test('a server error is retried and a validation error does not block the queue', async () => {
  const a = await device(uniqueName('b-err'));
  await run(a.page, async () => {
    await window.sync.table('items').add({ localId: 'e1', title: 'first' });
    await window.sync.table('items').add({ localId: 'e2', title: 'bad', order: 'first' });
    await window.sync.table('items').add({ localId: 'e3', title: 'third' });
  });
  seed.failNext(1);
  await assert.rejects(syncNow(a.page));
  assert.equal(one('e1'), undefined);
  await syncNow(a.page);
  assert.equal(one('e1')?.title, 'first');
  assert.equal(one('e3')?.title, 'third');
  assert.equal(one('e2'), undefined);
  const parked = await run(a.page, async () => (await window.sync.deadLetters()).map((d) => [d.table, d.code]));
  assert.deepEqual(parked, [['items', 'not_accepted']]);
  await a.context.close();
});

test("a database the seed's client wrote with Dexie is adopted and its rows reach the server", async () => {
  const dbName = uniqueName('b-adopt');
  const { context, page } = await device(uniqueName('b-unused'));
  await run(
    page,
    async ({ dbName, schema, endpoint }) => {
      const db = new window.Dexie(dbName);
      db.version(1).stores({ ...schema, syncQueue: '++id, entityType, localId, timestamp' });
      const at = '2025-12-29T14:35:00.000Z';
      await db.spaces.put({ localId: 's1', serverId: null, name: 'Movies', order: 0, isDeleted: false, createdAt: at, updatedAt: at });
      await db.items.bulkPut([
        { localId: 'a1', serverId: null, spaceLocalId: 's1', title: 'Watch Inception', movieId: '27205', type: 'movie', isDeleted: false, createdAt: at, updatedAt: at },
        { localId: 'a2', serverId: null, spaceLocalId: 's1', title: 'Read Dune', type: 'custom', isDeleted: false, createdAt: at, updatedAt: at },
      ]);
      await db.syncQueue.add({ localId: 'a1', entityType: 'item', operation: 'create', timestamp: at, data: {} });
      db.close();
      await window.sync.close();
      window.sync = await window.SyncManager.open({
        dbName, version: 1, schema, endpoint, protocol: { kind: 'batched' },
        auth: { getToken: async () => 't1' }, autoSync: false,
      });
    },
    { dbName, schema: SCHEMA, endpoint: seed.url },
  );
  await syncNow(page);
  assert.equal(one('a1')?.title, 'Watch Inception');
  assert.equal(one('a2')?.title, 'Read Dune');
  assert.equal(seed.docs('spaces').find((d) => d.localId === 's1')?.name, 'Movies');
  assert.equal(one('a1').spaceLocalId, 's1');
  assert.equal((await item(page, 'a1'))?.serverId, one('a1').serverId, 'the server id lands on the adopted row');
  await context.close();
});
