// `liveQuery` (what idb-sync/react's and idb-sync/vue's useLiveQuery are built on)
// re-runs its query after local writes and after changes pulled from another device,
// shows the latest result after a burst of writes, and stops after unsubscribe().
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniqueName } from './harness.mjs';
import { compileShapeCheckers } from './shape_pages/compile.mjs';

let stack;
before(async () => {
  await compileShapeCheckers();
  stack = await startStack('live', { pagesDir: 'shape_pages' });
});
after(() => stack?.stop());

async function device(token) {
  const page = await stack.newPage();
  await page.evaluate(
    async ({ dbName, token, endpoint }) => {
      window.sync = await window.SyncManager.open({
        dbName,
        schema: { tasks: 'id' },
        endpoint,
        auth: { getToken: async () => token },
        autoSync: false,
      });
    },
    { dbName: uniqueName('live'), token, endpoint: stack.server.url },
  );
  return page;
}

/** Waits until the page's latest live result is `value`; resolves to every result. */
async function until(page, value) {
  await page.waitForFunction((v) => window.results.at(-1) === v, value, { timeout: 10_000 });
  return page.evaluate(() => window.results.slice());
}

test('a live query follows local writes, pulled changes and bursts, until unsubscribed', async () => {
  const token = await stack.signUp();
  const a = await device(token);
  const b = await device(token);
  await a.evaluate(() => {
    window.results = [];
    window.subscription = window.liveQuery(() => window.sync.table('tasks').count()).subscribe((n) => window.results.push(n));
  });
  assert.deepEqual(await until(a, 0), [0], 'the first result');

  await a.evaluate(() => window.sync.table('tasks').add({ title: 'local' }));
  await until(a, 1);

  await b.evaluate(async () => {
    await window.sync.table('tasks').add({ title: 'from the other device' });
    await window.sync.syncNow();
  });
  await a.evaluate(() => window.sync.syncNow());
  await until(a, 2);

  // A burst of writes, not awaited one by one: the query is not run once per write,
  // and the last result is the final count.
  await a.evaluate(() => Promise.all(Array.from({ length: 20 }, (_, i) => window.sync.table('tasks').add({ title: `burst ${i}` }))));
  const seen = await until(a, 22);
  assert.ok(seen.length < 3 + 20, `runs coalesce during a burst (${seen.length} results)`);

  await a.evaluate(() => window.subscription.unsubscribe());
  const count = await a.evaluate(() => window.results.length);
  await a.evaluate(() => window.sync.table('tasks').add({ title: 'after unsubscribe' }));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(await a.evaluate(() => window.results.length), count, 'no result after unsubscribe()');
});
