// End to end, the delta adapter (docs/adapters/delta.md) against a fixture of seed
// 004's server (fixtures/seed004_server.mjs, persisted to a file) in headless
// Chromium, through `options.protocol: { kind: 'delta', apiKey }`: two devices sync
// creates, updates and deletes; offline writes sync on reconnect; a spool the server
// keeps (the seed's own client wrote a newer one) resolves per the policy; a server
// error is retried and a change the server cannot take does not block the queue; a
// Dexie database of the seed's schema, as the seed's client wrote it, is adopted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPages, openPage } from './pages/server.mjs';
import { launchBrowser } from './browser.mjs';
import { startSeed004 } from './fixtures/seed004_server.mjs';
import { uniqueName } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'seed004-')), 'sync.json');
let seed, pages, browser;

before(async () => {
  seed = await startSeed004({ apiKey: 'secret', file });
  pages = await startPages({ root: path.join(here, 'adapter_pages') });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await pages?.close();
  await seed?.close();
});

function open(page, dbName, options = {}) {
  return page.evaluate(
    async ({ dbName, endpoint, options }) => {
      window.sync = await window.SyncManager.open({
        dbName,
        schema: { spools: 'id, serial, brand', notes: 'id' },
        endpoint,
        protocol: { kind: 'delta', apiKey: 'secret' },
        autoSync: false,
        ...options,
      });
    },
    { dbName, endpoint: seed.url, options },
  );
}

/** A device: a page in its own browser context with `window.sync` open on `dbName`. */
async function device(dbName, options) {
  const page = await openPage(await browser.newContext(), pages.url);
  await open(page, dbName, options);
  return page;
}

const run = (page, fn, arg) => page.evaluate(fn, arg);
const syncNow = (page) => run(page, () => window.sync.syncNow());
const spool = (page, id) => run(page, (id) => window.sync.table('spools').get(id), id);
/** The seed's own client (another app install, clock `skew` ms ahead) syncs `changes`. */
const seedClient = (changes, skew = 0) =>
  fetch(`${seed.url}/api/sync`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      apiKey: 'secret', deviceId: 'seed-app', lastSyncTime: Date.now() + skew,
      changes: changes.map((c) => ({ ...c, lastUpdated: Date.now() + skew })), deletions: [],
    }),
  }).then((r) => r.json());

test('two devices sync creates, updates and deletes through a seed 004 server', async () => {
  const a = await device(uniqueName('dl-a'));
  const b = await device(uniqueName('dl-b'));
  await run(a, () => window.sync.table('spools').add({ id: 1, serial: 'ABC-123', brand: 'Prusament', lastUpdated: 5 }));
  const before = Date.now();
  await syncNow(a);
  const stored = seed.spool(1);
  assert.equal(stored.brand, 'Prusament');
  assert.ok(stored.lastUpdated >= before, 'stamped with the server time, not the app value');
  await syncNow(b);
  assert.deepEqual(await spool(b, 1), stored);

  await run(b, () => window.sync.table('spools').update(1, { brand: 'Polymaker' }));
  await syncNow(b);
  assert.equal(seed.spool(1).serial, 'ABC-123', 'an update merges its fields');
  assert.equal(seed.spool(1).brand, 'Polymaker');
  assert.deepEqual(await spool(b, 1), seed.spool(1), 'the pull brought the stamped spool back');
  await syncNow(a);
  assert.equal((await spool(a, 1))?.brand, 'Polymaker');

  await run(a, () => window.sync.table('spools').delete(1));
  await syncNow(a);
  assert.equal(seed.spool(1).deleted, true);
  await syncNow(b);
  assert.equal(await spool(b, 1), undefined);
  const persisted = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(persisted.spools.find((s) => s.id === 1).deleted, true, 'the server persisted');
});

test('offline writes sync on reconnect', async () => {
  const context = await browser.newContext();
  const page = await openPage(context, pages.url);
  await open(page, uniqueName('dl-offline'), { autoSync: true });
  await syncNow(page);
  await context.setOffline(true);
  await page.waitForFunction(() => window.sync.getSyncStatus().phase === 'offline', null, { polling: 50 });
  await run(page, async () => {
    for (let i = 0; i < 3; i++) await window.sync.table('spools').add({ id: 100 + i, brand: `offline ${i}` });
  });
  const refused = await run(page, () => window.sync.syncNow().then(() => 'resolved', (e) => e.code));
  assert.equal(refused, 'offline');
  assert.equal(seed.spool(100), undefined);
  await context.setOffline(false);
  await page.waitForFunction(
    () => {
      const s = window.sync.getSyncStatus();
      return s.online && s.pending === 0 && s.inFlight === 0;
    },
    null,
    { polling: 50, timeout: 15_000 },
  );
  for (let i = 0; i < 3; i++) assert.equal(seed.spool(100 + i)?.brand, `offline ${i}`);
  await run(page, () => window.sync.close());
  await context.close();
});

test('a spool the server keeps resolves per the policy', async () => {
  const a = await device(uniqueName('dl-ca'), { conflict: 'serverWins' });
  const b = await device(uniqueName('dl-cb'));
  await run(a, () => window.sync.table('spools').add({ id: 200, brand: 'one', weight: 1000 }));
  await syncNow(a);
  await syncNow(b);
  // The seed's own app, its clock a minute ahead, writes the spool: its stamp beats
  // the server time this device's push is stamped with.
  await run(a, () => window.sync.table('spools').update(200, { weight: 750 }));
  await run(b, () => window.sync.table('spools').update(200, { weight: 500 }));
  assert.equal((await seedClient([{ id: 200, brand: 'two', weight: 1000 }], 60_000)).success, true);
  await syncNow(a);
  assert.equal(seed.spool(200).weight, 1000, "serverWins: A's change was dropped");
  assert.equal((await spool(a, 200)).brand, 'two');
  const log = await run(a, async () => (await window.sync.conflictLog()).map((c) => c.outcome));
  assert.deepEqual(log, ['took server']);
  await syncNow(b); // fieldMerge: B's field on top of the server's spool, pushed again
  assert.deepEqual([seed.spool(200).brand, seed.spool(200).weight], ['two', 500]);
  await syncNow(a);
  assert.deepEqual(await spool(a, 200), await spool(b, 200));
});

test('a server error is retried and a change the server cannot take does not block the queue', async () => {
  const a = await device(uniqueName('dl-err'));
  await run(a, async () => {
    await window.sync.table('spools').add({ id: 300, brand: 'mine' });
    await window.sync.table('notes').add({ id: 'n1', text: 'the server has spools only' });
    await window.sync.table('spools').add({ id: 301, brand: 'also mine' });
  });
  seed.failNext(1);
  await assert.rejects(syncNow(a));
  assert.equal(seed.spool(300), undefined);
  await syncNow(a);
  assert.equal(seed.spool(300)?.brand, 'mine');
  assert.equal(seed.spool(301)?.brand, 'also mine');
  const parked = await run(a, async () => (await window.sync.deadLetters()).map((d) => [d.table, d.code]));
  assert.deepEqual(parked, [['notes', 'not_accepted']]);
  assert.equal(await run(a, () => window.sync.getPendingCount()), 0);
});

test("a Dexie database of the seed's schema, written by the seed's client, is adopted", async () => {
  const dbName = uniqueName('dl-adopt');
  const context = await browser.newContext();
  const page = await openPage(context, pages.url);
  // Seed 004's database at its schema version 3, as Dexie created it (`++id`): spools
  // with `lastUpdated`, keys from the store's generator.
  const ids = await run(page, async (dbName) => {
    const db = new window.Dexie(dbName);
    db.version(3).stores({ spools: '++id, serial, brand, lastUpdated' });
    await db.spools.put({ id: 399, serial: 'S-399', brand: 'Polymaker', lastUpdated: 1_703_692_000_000 });
    const ids = [
      await db.spools.add({ serial: 'S-400', brand: 'Prusament', lastUpdated: 1_703_693_000_000 }),
      await db.spools.add({ serial: 'S-401', brand: 'eSun', lastUpdated: 1_703_693_000_001, syncVersion: 2 }),
    ];
    db.close();
    return ids;
  }, dbName);
  assert.deepEqual(ids, [400, 401], "the store's own generator numbered them");
  await open(page, dbName, { version: 3, schema: { spools: 'id, serial, brand, lastUpdated' } });
  await syncNow(page);
  assert.equal(seed.spool(399)?.brand, 'Polymaker');
  assert.equal(seed.spool(400)?.brand, 'Prusament');
  assert.equal(seed.spool(401)?.syncVersion, 2);
  assert.ok(seed.spool(400).lastUpdated > 1_703_693_000_000, 'stamped when pushed');
  assert.equal(await run(page, () => window.sync.getPendingCount()), 0);
  await run(page, () => window.sync.close());
  await context.close();
});
