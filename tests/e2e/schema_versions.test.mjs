// End-to-end (docs/STORAGE.md, "Layout"): two schema versions of one app syncing one account.
// Device B runs the app's v2 (tables `tasks` and `projects`); device A still runs v1
// (only `tasks`). A pulled change for `projects` must not fail A's round: A's pending
// writes still push, B's tasks still arrive, and the projects are kept in
// `_idbsync_deferred` until A reopens with v2, when they appear (the latest version of
// each, deletions included). Against the built package, the real server (SQLite) and
// headless Chromium, each device in its own browser context.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniqueName } from './harness.mjs';

const V1 = { tasks: 'id, status' };
const V2 = { tasks: 'id, status', projects: 'id, name' };

let stack;

before(async () => {
  stack = await startStack('schemas');
});

after(async () => {
  await stack?.stop();
});

/** Opens `window.sync` in `page` at app `version` with `schema` (no automatic loop). */
async function openAt(page, { dbName, token, version, schema }) {
  await page.evaluate(
    async ({ dbName, token, endpoint, version, schema }) => {
      window.sync = await window.SyncManager.open({
        dbName,
        version,
        schema,
        endpoint,
        auth: { getToken: async () => token },
        autoSync: false,
      });
    },
    { dbName, token, endpoint: stack.server.url, version, schema },
  );
}

/** What the server holds for the user of `token`, by `table/key` (a fresh pull). */
async function serverState(token) {
  const out = {};
  let cursor = null;
  for (;;) {
    const response = await fetch(`${stack.server.url}/v1/pull`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ protocolVersion: 1, clientId: 'e2e-inspector', cursor, limit: 500 }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const page = await response.json();
    for (const c of page.changes) out[`${c.table}/${c.key}`] = c.deleted ? null : c.data;
    cursor = page.cursor;
    if (!page.hasMore) return out;
  }
}

/** Syncs in `page`; resolves to the result, or `{ error: code }` if it rejects. */
function syncIn(page) {
  return page.evaluate(() =>
    window.sync.syncNow().then(
      (r) => r,
      (e) => ({ error: e.code ?? String(e) }),
    ),
  );
}

test('a v1 client keeps syncing when a v2 client writes a table it does not declare, and gets it on upgrade', async () => {
  const token = await stack.signUp();
  const a = await stack.newPage();
  const b = await stack.newPage();
  const dbA = uniqueName('v1-a');
  try {
    await openAt(a, { dbName: dbA, token, version: 1, schema: V1 });
    await openAt(b, { dbName: uniqueName('v2-b'), token, version: 2, schema: V2 });
    assert.deepEqual(await syncIn(a), { pushed: 0, pulled: 0, conflicts: 0, rejected: 0 }, 'A starts in sync');

    await b.evaluate(async () => {
      await window.sync.create('projects', { id: 'p1', name: 'Launch' });
      await window.sync.create('tasks', { id: 'b1', status: 'open', title: 'from B', project: 'p1' });
    });
    assert.equal((await syncIn(b)).pushed, 2);

    // A (v1) has a pending write and syncs: the round goes on past the project.
    await a.evaluate(() => window.sync.create('tasks', { id: 'a1', status: 'open', title: 'from A' }));
    const round = await syncIn(a);
    assert.equal(round.error, undefined, `syncNow rejected: ${round.error}`);
    assert.equal(round.pushed, 1, 'A pushed its pending task');
    assert.equal(await a.evaluate(() => window.sync.getPendingCount()), 0, 'nothing left queued on A');
    const onServer = await serverState(token);
    assert.deepEqual(onServer['tasks/a1'], { id: 'a1', status: 'open', title: 'from A' }, "A's task reached the server");
    assert.deepEqual(
      await a.evaluate(() => window.sync.table('tasks').get('b1')),
      { id: 'b1', status: 'open', title: 'from B', project: 'p1' },
      "B's task arrived on A",
    );
    const unknown = await a.evaluate(async () => {
      try {
        window.sync.table('projects');
        return 'no error';
      } catch (e) {
        return e.code;
      }
    });
    assert.equal(unknown, 'unknown_table', 'v1 still does not declare projects');

    // A's later rounds stay healthy, both ways.
    await b.evaluate(() => window.sync.update('tasks', 'b1', { status: 'done' }));
    await syncIn(b);
    assert.equal((await syncIn(a)).error, undefined);
    assert.equal((await a.evaluate(() => window.sync.table('tasks').get('b1'))).status, 'done');
    await syncIn(b);
    assert.deepEqual(await b.evaluate(() => window.sync.table('tasks').get('a1')), { id: 'a1', status: 'open', title: 'from A' });

    // A upgrades to v2 with the server out of reach: the kept project is applied by the
    // first round, before any request, so it is there without pulling it again.
    await a.evaluate(() => window.sync.close());
    await openAt(a, { dbName: dbA, token, version: 2, schema: V2 });
    await a.context().route(`${stack.server.url}/**`, (route) => route.abort());
    assert.ok((await syncIn(a)).error, 'the round fails on the network');
    assert.deepEqual(await a.evaluate(() => window.sync.table('projects').get('p1')), { id: 'p1', name: 'Launch' });
    await a.context().unroute(`${stack.server.url}/**`);

    // Back online, the project syncs like any other record.
    assert.equal((await syncIn(a)).error, undefined);
    await a.evaluate(() => window.sync.update('projects', 'p1', { name: 'Launch day' }));
    assert.equal((await syncIn(a)).pushed, 1);
    await syncIn(b);
    assert.deepEqual(await b.evaluate(() => window.sync.table('projects').get('p1')), { id: 'p1', name: 'Launch day' });
  } finally {
    await a.context().close();
    await b.context().close();
  }
});

test('a v1 client keeps only the latest version of each undeclared record, deletions included', async () => {
  const token = await stack.signUp();
  const a = await stack.newPage();
  const b = await stack.newPage();
  const dbA = uniqueName('latest-a');
  try {
    await openAt(a, { dbName: dbA, token, version: 1, schema: V1 });
    await openAt(b, { dbName: uniqueName('latest-b'), token, version: 2, schema: V2 });
    await b.evaluate(async () => {
      await window.sync.create('projects', { id: 'p1', name: 'first' });
      await window.sync.create('projects', { id: 'p2', name: 'doomed' });
      await window.sync.create('projects', { id: 'p3', name: 'kept' });
    });
    await syncIn(b);
    assert.equal((await syncIn(a)).error, undefined, 'A keeps the three projects');

    await b.evaluate(async () => {
      await window.sync.update('projects', 'p1', { name: 'second' });
      await window.sync.delete('projects', 'p2');
    });
    await syncIn(b);
    assert.equal((await syncIn(a)).error, undefined, 'A keeps the newer versions');

    await a.evaluate(() => window.sync.close());
    await openAt(a, { dbName: dbA, token, version: 2, schema: V2 });
    assert.equal((await syncIn(a)).error, undefined);
    const projects = await a.evaluate(() => window.sync.table('projects').toArray());
    assert.deepEqual(projects, [
      { id: 'p1', name: 'second' },
      { id: 'p3', name: 'kept' },
    ]);
  } finally {
    await a.context().close();
    await b.context().close();
  }
});
