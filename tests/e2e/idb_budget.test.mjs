// IndexedDB work per record, as a budget (docs/STORAGE.md, "IndexedDB work per
// record"): the requests and transactions a local write, a push, a pull and a
// reopen cost,
// counted in the page (tests/e2e/idb_counter.mjs), and the JavaScript `Error` objects
// made on the way (none on the success path). Counts are deterministic; the budgets
// below are what the code does today and only ever go down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniqueName, openManager } from './harness.mjs';
import { installIdbCounter, takeIdbCounts } from './idb_counter.mjs';

let stack;
before(async () => {
  stack = await startStack('budget');
});
after(async () => {
  await stack?.stop();
});

const N = 200;
const APP = 'tasks';
const STATE = '_idbsync_state';

/** Per-record figure, rounded to two decimals, for the report and the asserts. */
const per = (n) => Math.round((n / N) * 100) / 100;

function report(label, counts, extra = {}) {
  const line = {
    label,
    transactions: counts.transactions,
    readwrite: counts.readwrite,
    readsPerRecord: per(counts.reads),
    writesPerRecord: per(counts.writes),
    requests: counts.requests,
    stores: counts.stores,
    errors: counts.errors,
    ...extra,
  };
  console.log(`[idb budget] ${JSON.stringify(line)}`);
  return line;
}

/** Counts the page's push and pull requests and the changes the pulls carried. */
function countHttp(page) {
  const counts = { push: 0, pull: 0, pulledChanges: 0 };
  page.on('response', async (response) => {
    const url = response.url();
    if (url.endsWith('/v1/push')) counts.push += 1;
    if (url.endsWith('/v1/pull')) {
      counts.pull += 1;
      try {
        counts.pulledChanges += (await response.json()).changes?.length ?? 0;
      } catch {
        // not JSON: counted as a request only
      }
    }
  });
  return counts;
}

async function device(token) {
  const page = await stack.newPage();
  await openManager(page, { dbName: uniqueName('budget'), token, endpoint: stack.server.url });
  await installIdbCounter(page);
  return page;
}

test('a local write through SyncManager: one transaction, no count queries, no read of an added key', async () => {
  const token = await stack.signUp();
  const page = await device(token);
  await page.evaluate(async () => {
    for (let i = 0; i < 10; i += 1) await window.sync.table('tasks').put({ id: `warm${i}`, title: 'w' });
  });
  await takeIdbCounts(page);
  await page.evaluate(async (n) => {
    for (let i = 0; i < n; i += 1) await window.sync.table('tasks').put({ id: `t${i}`, title: `task ${i}`, status: 'open' });
  }, N);
  const counts = report('local put', await takeIdbCounts(page));
  assert.equal(counts.errors, 0, 'no Error objects on the success path');
  // One transaction per write, no count query after it: the write moves the pending
  // count itself. Reads: the metadata and the key's state row; writes: the record,
  // its state row and the metadata (lower these as the write path gets cheaper).
  assert.ok(counts.transactions <= N, `transactions ${counts.transactions}`);
  assert.equal(counts.requests.count ?? 0, 0, 'no count queries per write');
  assert.ok(counts.readsPerRecord <= 2, `reads per write ${counts.readsPerRecord}`);
  assert.ok(counts.writesPerRecord <= 3, `writes per write ${counts.writesPerRecord}`);
  // An add reads nothing more for its key: IndexedDB's add refuses an existing one.
  await page.evaluate(async (n) => {
    for (let i = 0; i < n; i += 1) await window.sync.table('tasks').add({ id: `a${i}`, title: `added ${i}` });
  }, N);
  const adds = report('local add', await takeIdbCounts(page));
  assert.equal(adds.errors, 0, 'no Error objects on the success path');
  assert.ok(adds.transactions <= N, `transactions ${adds.transactions}`);
  assert.equal(adds.requests.count ?? 0, 0, 'no count queries per write');
  assert.ok(adds.readsPerRecord <= 2, `reads per add ${adds.readsPerRecord}`);
  assert.ok(adds.writesPerRecord <= 3, `writes per add ${adds.writesPerRecord}`);
});

test('push: IndexedDB work per pushed record, and no pull of the device\'s own changes', async () => {
  const token = await stack.signUp();
  const page = await device(token);
  await page.evaluate(async (n) => {
    const rows = Array.from({ length: n }, (_, i) => ({ id: `p${i}`, title: `task ${i}`, status: 'open' }));
    await window.sync.table('tasks').bulkPut(rows);
  }, N);
  await takeIdbCounts(page);
  const http = countHttp(page);
  await page.evaluate(() => window.sync.syncNow());
  const counts = report('push', await takeIdbCounts(page), { http });
  assert.equal(http.push, 1, `one push request for ${N} mutations (the default batch.maxCount is 500)`);
  // Every mutation was applied exactly: the pulls leave their echoes out (docs/ENGINE.md,
  // "Own echoes").
  assert.equal(http.pulledChanges, 0, 'no pull brings back the device\'s own changes');
  assert.equal(counts.errors, 0, 'no Error objects on the success path');
  const state = counts.stores[STATE] ?? { read: 0, write: 0 };
  const app = counts.stores[APP] ?? { read: 0, write: 0 };
  // Per pushed record: the record read once when the batch is taken (its state row
  // comes with the batch's index read), the state row written once then and once when
  // acknowledged (read back with one index range per push request); plus a few reads
  // per round (lower these as the push path gets cheaper).
  assert.ok(per(state.read + app.read) <= 1.15, `reads per pushed record ${per(state.read + app.read)}`);
  assert.ok(per(state.write + app.write) <= 2.05, `writes per pushed record ${per(state.write + app.write)}`);
  assert.ok(app.read <= N, `record reads ${app.read}`);
});

test('pull into an empty database: IndexedDB work per pulled record and per page', async () => {
  const token = await stack.signUp();
  const writer = await device(token);
  await writer.evaluate(async (n) => {
    const rows = Array.from({ length: n }, (_, i) => ({ id: `q${i}`, title: `task ${i}`, status: 'open' }));
    await window.sync.table('tasks').bulkPut(rows);
    await window.sync.syncNow();
  }, N);
  const reader = await device(token);
  await takeIdbCounts(reader);
  const http = countHttp(reader);
  await reader.evaluate(() => window.sync.syncNow());
  const counts = report('pull', await takeIdbCounts(reader), { http });
  assert.equal(counts.errors, 0, 'no Error objects on the success path');
  assert.equal(http.pulledChanges, N, 'every record pulled once');
  const n = await reader.evaluate(() => window.sync.table('tasks').count());
  assert.equal(n, N, 'every record stored');
  const state = counts.stores[STATE] ?? { read: 0, write: 0 };
  const app = counts.stores[APP] ?? { read: 0, write: 0 };
  // Budget today (lower it as the pull path gets cheaper): a key without a state row
  // costs its row's get, its record's put and its row's put; the record is not read
  // (docs/STORAGE.md, "IndexedDB work per record", Pull). One read-write transaction
  // per page, plus the round's two looks at the outbox (in flight, then a batch).
  assert.ok(per(state.read + app.read) <= 1.07, `reads per pulled record ${per(state.read + app.read)}`);
  assert.equal(app.read, 0, 'no app record read for a key without sync state');
  assert.ok(per(state.write + app.write) <= 2, `writes per pulled record ${per(state.write + app.write)}`);
  assert.ok(counts.readwrite <= http.pull + 2, `read-write transactions ${counts.readwrite} for ${http.pull} pages`);
});

test('a query reads what it returns: one getAll for records, one count for a count', async () => {
  const token = await stack.signUp();
  const page = await device(token);
  await page.evaluate(async (n) => {
    const rows = Array.from({ length: n }, (_, i) => ({ id: `r${i}`, title: `task ${i}`, status: i % 2 ? 'open' : 'done' }));
    await window.sync.table('tasks').bulkPut(rows);
  }, N);
  await takeIdbCounts(page);
  const open = await page.evaluate(() => window.sync.table('tasks').where('status').equals('open').toArray());
  assert.equal(open.length, N / 2);
  assert.ok(open.every((t) => t.status === 'open'));
  const records = report('where().equals().toArray()', await takeIdbCounts(page));
  assert.deepEqual(records.requests, { getAll: 1 }, 'one getAll, no getAllKeys');
  const counted = await page.evaluate(() => window.sync.table('tasks').where('status').equals('open').count());
  assert.equal(counted, N / 2);
  assert.deepEqual((await takeIdbCounts(page)).requests, { count: 1 }, 'one count request');
  const keys = await page.evaluate(() => window.sync.table('tasks').where('status').equals('done').limit(3).keys());
  assert.deepEqual(keys, ['r0', 'r10', 'r100']);
  assert.deepEqual((await takeIdbCounts(page)).requests, { getAllKeys: 1 }, 'one getAllKeys');
});

test('open() of a database whose rows are all known: read-only, the metadata read once by the manager, keys only', async () => {
  const token = await stack.signUp();
  const dbName = uniqueName('budget-open');
  const page = await stack.newPage();
  await openManager(page, { dbName, token, endpoint: stack.server.url });
  await page.evaluate(async (n) => {
    const rows = Array.from({ length: n }, (_, i) => ({ id: `o${i}`, title: `task ${i}`, status: 'open' }));
    await window.sync.table('tasks').bulkPut(rows);
    window.sync.close();
  }, N);
  await installIdbCounter(page);
  await takeIdbCounts(page);
  await openManager(page, { dbName, token, endpoint: stack.server.url });
  // open() resolves before the adoption scan it starts is over; getPendingCount()
  // waits for it, so the counts below are open()'s whole work (and this one count).
  assert.equal(await page.evaluate(() => window.sync.getPendingCount()), N);
  const counts = report('reopen', await takeIdbCounts(page));
  assert.equal(counts.errors, 0, 'no Error objects on the success path');
  assert.equal(counts.readwrite, 0, 'a reopen writes nothing');
  assert.equal(counts.writesPerRecord, 0, 'no write request');
  // The schema check, the metadata (checked by the storage, read once by the
  // manager), the scan (one chunk: its app keys and state keys), the status's counts
  // and getPendingCount's.
  assert.ok(counts.transactions <= 6, `transactions ${counts.transactions}`);
  assert.equal(counts.requests.getAllKeys, 2, 'the scan reads keys, two requests per 5,000-key chunk');
  assert.equal(counts.requests.getAll ?? 0, 0, 'no record is read');
  assert.ok((counts.requests.get ?? 0) <= 4, `metadata reads ${counts.requests.get}`);
});
