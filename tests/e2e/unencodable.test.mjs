// End-to-end (docs/INVARIANTS.md, I9 "no mutation blocks another"): rows a Dexie app
// wrote into a synced table holding values the wire cannot carry (a Map, a BigInt)
// are adopted at open like any row; they must not block the queue. Each ends as one
// dead letter (code invalid_value, the reason naming the field path), rolled back (a
// record the server never had leaves the local table), while a normal write reaches
// the server and syncNow() resolves. Real `dexie` package, real server, headless
// Chromium. Also: a synced row overwritten that way does not stop pulls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openPage } from './pages/server.mjs';
import { serverRecords, startStack, uniqueName } from './harness.mjs';

let stack, server, pages, browser;

before(async () => {
  stack = await startStack('unencodable', { pagesDir: 'adopt_pages' });
  ({ server, pages, browser } = stack);
});

after(async () => {
  await stack?.stop();
});

const signUp = () => stack.signUp();

function openSync(page, { dbName, token }) {
  return page.evaluate(
    async ({ dbName, token, endpoint }) => {
      window.sync = await window.SyncManager.open({
        dbName, version: 1, schema: { tasks: 'id, status' }, endpoint, auth: { getToken: async () => token }, autoSync: false,
      });
    },
    { dbName, token, endpoint: server.url },
  );
}

test('rows Dexie wrote with a Map or a BigInt become invalid_value dead letters; the rest of the queue reaches the server', async () => {
  const token = await signUp();
  const dbName = uniqueName('poison-row');
  const context = await browser.newContext();
  try {
    const page = await openPage(context, pages.url);
    await page.evaluate(async (dbName) => {
      const db = new window.Dexie(dbName);
      db.version(1).stores({ tasks: 'id, status' });
      await db.tasks.bulkPut([
        { id: 'fine-old', title: 'an ordinary old row', status: 'todo' },
        { id: 'has-map', title: 'a map inside', status: 'todo', meta: { tags: new Map([['a', 1]]) } },
        { id: 'has-bigint', title: 'a bigint inside', status: 'todo', size: 10n },
      ]);
      db.close();
    }, dbName);
    await openSync(page, { dbName, token });
    assert.equal(await page.evaluate(() => window.sync.getPendingCount()), 3, 'all three rows are adopted at open');
    await page.evaluate(() => window.sync.create('tasks', { id: 'new', title: 'a normal write', status: 'todo' }));

    const result = await page.evaluate(async () => {
      try {
        return await window.sync.syncNow();
      } catch (e) {
        return { failed: { code: e?.code, message: e?.message } };
      }
    });
    assert.equal(result.failed, undefined, `syncNow resolves: ${JSON.stringify(result)}`);

    const onServer = await serverRecords(server, token);
    assert.deepEqual(Object.keys(onServer).sort(), ['fine-old', 'new'], 'the normal writes reach the server');
    const letters = await page.evaluate(async () =>
      (await window.sync.deadLetters())
        .map(({ key, code, reason, op }) => ({ key, code, reason, kind: op.kind, record: op.record }))
        .sort((a, b) => a.key.localeCompare(b.key)),
    );
    assert.deepEqual(letters.map(({ key, code, kind }) => ({ key, code, kind })), [
      { key: 'has-bigint', code: 'invalid_value', kind: 'create' },
      { key: 'has-map', code: 'invalid_value', kind: 'create' },
    ]);
    assert.match(letters[0].reason, /`size`/, 'the reason names the field path');
    assert.match(letters[1].reason, /`meta\.tags`/, 'the reason names the field path');
    for (const letter of letters) assert.match(letter.reason, /rolled back/);
    // The dead letter keeps what can be kept.
    assert.deepEqual(letters[1].record, { id: 'has-map', title: 'a map inside', status: 'todo' });

    // Rolled back: the server never had them, so they leave the local table.
    const local = await page.evaluate(async () => (await window.sync.table('tasks').toArray()).map((t) => t.id).sort());
    assert.deepEqual(local, ['fine-old', 'new']);
    const status = await page.evaluate(() => window.sync.getSyncStatus());
    assert.equal(status.pending + status.inFlight, 0);
    assert.equal(status.deadLetters, 2);
    assert.equal(status.lastError, null);
    // The next round is clean too.
    const again = await page.evaluate(() => window.sync.syncNow());
    assert.equal(again.pushed, 0);
  } finally {
    await context.close();
  }
});

test("a synced row Dexie overwrote with a Map does not block the pull: the server's next version replaces it", async () => {
  const token = await signUp();
  const a = await browser.newContext();
  const b = await browser.newContext();
  try {
    const pageA = await openPage(a, pages.url);
    const pageB = await openPage(b, pages.url);
    const dbA = uniqueName('pull-a');
    await openSync(pageA, { dbName: dbA, token });
    await openSync(pageB, { dbName: uniqueName('pull-b'), token });
    await pageA.evaluate(async () => {
      await window.sync.create('tasks', { id: 'x', title: 'first', status: 'todo' });
      await window.sync.syncNow();
    });
    await pageB.evaluate(() => window.sync.syncNow());
    // Other code writes the synced row on device a, past idb-sync.
    await pageA.evaluate(async (dbName) => {
      const db = new window.Dexie(dbName);
      db.version(1).stores({ tasks: 'id, status' });
      await db.tasks.put({ id: 'x', title: 'dexie wrote', status: 'todo', meta: new Map([['k', 1]]) });
      db.close();
    }, dbA);
    await pageB.evaluate(async () => {
      await window.sync.update('tasks', 'x', { title: 'second, from b' });
      await window.sync.create('tasks', { id: 'y', title: 'also from b', status: 'todo' });
      await window.sync.syncNow();
    });
    const outcome = await pageA.evaluate(async () => {
      try {
        await window.sync.syncNow();
        return 'ok';
      } catch (e) {
        return { code: e?.code, message: e?.message };
      }
    });
    assert.equal(outcome, 'ok', JSON.stringify(outcome));
    const local = await pageA.evaluate(async () =>
      (await window.sync.table('tasks').toArray()).map(({ id, title }) => ({ id, title })).sort((p, q) => p.id.localeCompare(q.id)),
    );
    assert.deepEqual(local, [
      { id: 'x', title: 'second, from b' },
      { id: 'y', title: 'also from b' },
    ]);
  } finally {
    await a.close();
    await b.close();
  }
});
