// IndexedDB work per record, as a budget (docs/STORAGE.md, "IndexedDB work per
// record"): the requests and transactions a local write, a push and a pull cost,
// counted in the page (tests/e2e/idb_counter.mjs). Counts are deterministic; the
// budgets below are what the code does today and only ever go down.
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

test('a local write through SyncManager: one transaction, no count queries', async () => {
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
  // Budget today (lower it as the write path gets cheaper).
  assert.ok(counts.transactions <= 2 * N, `transactions ${counts.transactions}`);
  assert.ok(counts.readsPerRecord <= 7, `reads per write ${counts.readsPerRecord}`);
  assert.ok(counts.writesPerRecord <= 3, `writes per write ${counts.writesPerRecord}`);
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
  assert.equal(http.push, N / 100, 'one push request per 100 mutations (the default batch.maxCount)');
  const state = counts.stores[STATE] ?? { read: 0, write: 0 };
  const app = counts.stores[APP] ?? { read: 0, write: 0 };
  // Budget today (lower it as the push path gets cheaper).
  assert.ok(per(state.read + app.read) <= 5.25, `reads per pushed record ${per(state.read + app.read)}`);
  assert.ok(per(state.write + app.write) <= 3.05, `writes per pushed record ${per(state.write + app.write)}`);
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
