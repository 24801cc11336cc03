// End-to-end: live sync (server push, GET /v1/events) in headless Chromium against the
// real server on 127.0.0.1, intervals set to hours so no timer ever runs a round: B gets
// A's write from the server's poke (status.live 'push'), only the leader tab holds the
// stream, a server restart falls back to polling and the stream comes back, and a
// server without the endpoint leaves the loop polling without retrying; and with two
// server processes over one PostgreSQL, a push to one pokes a stream held by the other.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openPage } from './pages/server.mjs';
import { startStack, postgresDatabase } from './harness.mjs';

let stack;
before(async () => {
  stack = await startStack('live', { pagesDir: 'sync_pages' });
});
after(() => stack?.stop());

const signUp = () => stack.signUp();

/** The page's requests by endpoint, counted by a wrapper of its `fetch` (where the
 * package's requests go; Playwright's request events came late, past the checks). */
const counts = (page) => page.evaluate(() => window.fetches);

/** Opens `window.sync` with hour-long intervals; `window.modes` records status.live. */
async function openManager(page, { dbName, token, options = {}, endpoint = stack.server.url }) {
  await page.evaluate(
    async ({ dbName, token, endpoint, options }) => {
      window.fetches = { events: 0, pull: 0 };
      const fetch = window.fetch;
      window.fetch = function (input, init) {
        const url = typeof input === 'string' ? input : input.url;
        if (url.endsWith('/v1/events')) window.fetches.events += 1;
        if (url.endsWith('/v1/pull')) window.fetches.pull += 1;
        return fetch.call(this, input, init);
      };
      window.modes = [];
      window.sync = await window.SyncManager.open({
        dbName,
        schema: { tasks: 'id, status' },
        endpoint,
        auth: { getToken: async () => token },
        interval: 3_600_000,
        hiddenInterval: 3_600_000,
        ...options,
      });
      window.sync.subscribe((status) => {
        if (window.modes.at(-1) !== status.live) window.modes.push(status.live);
      });
    },
    { dbName, token, endpoint, options },
  );
}

const name = (label) => `live-e2e-${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

/** Waits until `predicate` (which may be async: it is awaited in the page) holds. */
async function waitFor(page, predicate, arg, timeout = 20_000) {
  const until = Date.now() + timeout;
  while (!(await page.evaluate(predicate, arg))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${predicate}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const hasTask = (id) => window.sync.table('tasks').get(id).then((r) => r !== undefined);

test("B receives A's write from the server's poke, no timer due, and only B's leader tab holds the stream", async () => {
  const token = await signUp();
  const a = await openPage(await stack.browser.newContext(), stack.pages.url);
  const bContext = await stack.browser.newContext();
  const b = await openPage(bContext, stack.pages.url);
  const b2 = await openPage(bContext, stack.pages.url);
  const dbB = name('b');
  await openManager(a, { dbName: name('a'), token });
  await openManager(b, { dbName: dbB, token });
  await openManager(b2, { dbName: dbB, token });
  await waitFor(b, () => window.sync.getSyncStatus().live === 'push');
  await waitFor(b, () => !window.sync.getSyncStatus().syncing);

  for (const id of ['t1', 't2', 't3']) {
    await a.evaluate((id) => window.sync.create('tasks', { id, title: id, status: 'todo' }), id);
    await waitFor(b, hasTask, id);
  }
  assert.equal(await b.evaluate(() => window.sync.getSyncStatus().live), 'push');
  // The follower tab shows the leader's status and never opened a stream.
  await waitFor(b2, () => window.sync.getSyncStatus().live === 'push');
  const [bCounts, b2Counts] = [await counts(b), await counts(b2)];
  assert.equal(bCounts.events + b2Counts.events, 1, 'one stream for the two tabs of B');
  // The round at start and the one for `ready`, then one per write at least.
  assert.ok(bCounts.pull + b2Counts.pull >= 3, `B pulled on the pokes: ${JSON.stringify([bCounts, b2Counts])}`);
  await b2.evaluate(() => window.sync.close());
  await b.evaluate(() => window.sync.close());
  await a.evaluate(() => window.sync.close());
});

test('a restarted server drops the stream: B falls back to polling, reconnects and is pushed to again', async () => {
  const token = await signUp();
  const a = await openPage(await stack.browser.newContext(), stack.pages.url);
  const b = await openPage(await stack.browser.newContext(), stack.pages.url);
  await openManager(a, { dbName: name('a'), token });
  await openManager(b, { dbName: name('b'), token });
  await waitFor(b, () => window.sync.getSyncStatus().live === 'push');

  await stack.restartServer(() => waitFor(b, () => window.sync.getSyncStatus().live === 'polling'));
  // Reconnects with the loop's backoff (base 1 s, doubling while the server was down).
  await waitFor(b, () => window.sync.getSyncStatus().live === 'push', undefined, 60_000);
  const modes = await b.evaluate(() => window.modes);
  assert.deepEqual(modes.slice(-3), ['push', 'polling', 'push'], JSON.stringify(modes));

  await a.evaluate(() => window.sync.create('tasks', { id: 'after', title: 'after restart', status: 'todo' }));
  await waitFor(b, hasTask, 'after');
  await b.evaluate(() => window.sync.close());
  await a.evaluate(() => window.sync.close());
});

test('a server without /v1/events (404) leaves the loop polling, with no retry', async () => {
  const token = await signUp();
  const context = await stack.browser.newContext();
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-headers': 'authorization',
    'access-control-allow-methods': 'GET',
  };
  await context.route('**/v1/events', (route) =>
    route.fulfill({ status: route.request().method() === 'OPTIONS' ? 204 : 404, headers: cors, body: '' }),
  );
  const b = await openPage(context, stack.pages.url);
  await openManager(b, { dbName: name('b'), token });
  await waitFor(b, () => window.sync.getSyncStatus().live === 'polling' && !window.sync.getSyncStatus().syncing);
  await b.evaluate(() => window.sync.syncNow());
  // Offline and back online would reopen a channel that was only lost.
  await context.setOffline(true);
  await context.setOffline(false);
  await b.evaluate(() => window.sync.syncNow());
  assert.equal((await counts(b)).events, 1, 'asked once this session');
  assert.equal(await b.evaluate(() => window.sync.getSyncStatus().live), 'polling');
  await b.evaluate(() => window.sync.close());
});

test('live: false never opens the stream and says polling; a bad value is invalid_live', async () => {
  const token = await signUp();
  const b = await openPage(await stack.browser.newContext(), stack.pages.url);
  await openManager(b, { dbName: name('b'), token, options: { live: false } });
  await b.evaluate(() => window.sync.syncNow());
  assert.equal(await b.evaluate(() => window.sync.getSyncStatus().live), 'polling');
  assert.equal((await counts(b)).events, 0);
  const code = await b.evaluate(() =>
    window.SyncManager.open({ dbName: 'x', schema: { tasks: 'id' }, endpoint: 'http://127.0.0.1:1', live: 'sse' }).then(
      () => 'opened',
      (e) => e.code,
    ),
  );
  assert.equal(code, 'invalid_live');
  await b.evaluate(() => window.sync.close());
});

test("two server processes over one PostgreSQL: B, streaming from instance 2, gets A's write pushed to instance 1", async (t) => {
  const database = await postgresDatabase('live');
  if (database.skip) return t.skip(database.skip);
  const pg = await startStack('live-pg', { pagesDir: 'sync_pages', database: database.url });
  try {
    const second = await pg.anotherServer();
    const token = await pg.signUp();
    const a = await openPage(await pg.browser.newContext(), pg.pages.url);
    const b = await openPage(await pg.browser.newContext(), pg.pages.url);
    await openManager(a, { dbName: name('a'), token, endpoint: pg.server.url });
    await openManager(b, { dbName: name('b'), token, endpoint: second.url });
    await waitFor(b, () => window.sync.getSyncStatus().live === 'push');
    await waitFor(b, () => !window.sync.getSyncStatus().syncing);
    const before = await counts(b);
    for (const id of ['p1', 'p2']) {
      await a.evaluate((id) => window.sync.create('tasks', { id, title: id, status: 'todo' }), id);
      await waitFor(b, hasTask, id);
    }
    const after = await counts(b);
    assert.equal(after.events, 1, 'B kept its one stream to instance 2');
    assert.ok(after.pull > before.pull, 'B pulled because instance 2 poked it (intervals are an hour)');
    await b.evaluate(() => window.sync.close());
    await a.evaluate(() => window.sync.close());
  } finally {
    await pg.stop();
  }
});
