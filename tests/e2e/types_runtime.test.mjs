// The declared types are true at run time: the values the package returns in the
// browser — status, syncNow() results, change events, conflicts, the conflict log,
// dead letters and errors — are checked against tests/types/shapes.ts, whose checkers
// the compiler ties to the declarations (a field added, dropped or typed differently
// fails one side). Two devices of one account make real conflicts against the real
// server; the numbers syncNow() reports are checked against what the user sees.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniqueName } from './harness.mjs';
import { compileShapeCheckers } from './shape_pages/compile.mjs';

let stack;
let token;

before(async () => {
  await compileShapeCheckers();
  stack = await startStack('shapes', { pagesDir: 'shape_pages' });
  token = await stack.signUp();
});
after(() => stack?.stop());

/** A device: a page in its own browser context with `window.sync` open (no loop). */
async function device(label, endpoint = stack.server.url) {
  const page = await stack.newPage();
  await page.evaluate(
    async ({ dbName, token, endpoint }) => {
      window.events = [];
      window.statuses = [];
      window.sync = await window.SyncManager.open({
        dbName,
        schema: { tasks: 'id, status', notes: 'id' },
        endpoint,
        auth: { getToken: async () => token },
        autoSync: false,
        conflict: { default: 'lastWriteWins', tables: { notes: 'manual' } },
      });
      window.sync.onChange('*', (event) => window.events.push(event));
      window.sync.subscribe((status) => window.statuses.push(status));
    },
    { dbName: uniqueName(label), token, endpoint },
  );
  return page;
}

/** Runs `syncNow()` in `page`; resolves to its result and what the checkers found. */
async function syncNow(page) {
  return page.evaluate(async () => {
    const result = await window.sync.syncNow();
    return { result, problems: window.problems('syncNowResult', result) };
  });
}

/** Every problem the checkers find with what `page` has collected so far. */
async function collectedProblems(page) {
  return page.evaluate(async () => [
    ...window.problems('status', window.sync.getSyncStatus(), 'getSyncStatus()'),
    ...window.statuses.flatMap((s, i) => window.problems('status', s, `subscribe #${i}`)),
    ...window.events.flatMap((e, i) => window.problems('changeEvent', e, `onChange #${i}`)),
  ]);
}

test('status, results, change events, conflicts, the conflict log and dead letters have the declared shapes', async () => {
  const a = await device('a');
  const b = await device('b');

  await a.evaluate(async () => {
    await window.sync.table('tasks').add({ id: 't1', title: 'write the report', status: 'todo' });
    await window.sync.create('notes', { id: 'n1', text: 'call Ann' });
  });
  const first = await syncNow(a);
  assert.deepEqual(first.problems, []);
  assert.deepEqual(first.result, { pushed: 2, pulled: 0, conflicts: 0, rejected: 0 }, 'A pushed its two records');
  const second = await syncNow(b);
  assert.deepEqual(second.result, { pushed: 0, pulled: 2, conflicts: 0, rejected: 0 }, 'B pulled them');

  // Both devices edit both records before syncing: a lastWriteWins conflict (logged)
  // and a manual one (left open for the app).
  await a.evaluate(async () => {
    await window.sync.update('tasks', 't1', { title: 'write the report (A)' });
    await window.sync.update('notes', 'n1', { text: 'call Ann (A)' });
  });
  await b.evaluate(async () => {
    await window.sync.update('tasks', 't1', { title: 'write the report (B)' });
    await window.sync.update('notes', 'n1', { text: 'call Ann (B)' });
  });
  assert.equal((await syncNow(a)).result.pushed, 2);
  const met = await syncNow(b);
  assert.deepEqual(met.problems, []);
  const seen = await b.evaluate(async () => {
    const conflicts = await window.sync.conflicts();
    const log = await window.sync.conflictLog();
    return {
      conflicts,
      log,
      problems: [
        ...conflicts.flatMap((c, i) => window.problems('conflict', c, `conflicts()[${i}]`)),
        ...log.flatMap((c, i) => window.problems('conflictLogEntry', c, `conflictLog()[${i}]`)),
      ],
    };
  });
  assert.deepEqual(seen.problems, []);
  assert.deepEqual(seen.conflicts.map((c) => `${c.table}/${c.key}`), ['notes/n1'], 'the manual conflict is open');
  assert.deepEqual(seen.log.map((c) => `${c.table}/${c.key}/${c.policy}`), ['tasks/t1/lastWriteWins'], 'the other is logged');
  assert.equal(met.result.conflicts, 2, `syncNow() reports both conflicts the user can see: ${JSON.stringify(met.result)}`);
  assert.equal(met.result.pulled, 2, 'and A\'s two changes');

  // A record too large for the server: a dead letter, the rest of the queue flows.
  const rejected = await a.evaluate(async () => {
    await window.sync.table('tasks').add({ id: 'huge', title: 'x'.repeat(1_100_000), status: 'todo' });
    await window.sync.table('tasks').add({ id: 'fine', title: 'small', status: 'todo' });
    const result = await window.sync.syncNow();
    const letters = await window.sync.deadLetters();
    return {
      result,
      keys: letters.map((l) => l.key),
      problems: letters.flatMap((l, i) => window.problems('deadLetter', l, `deadLetters()[${i}]`)),
    };
  });
  assert.deepEqual(rejected.problems, []);
  assert.deepEqual(rejected.keys, ['huge']);
  assert.equal(rejected.result.rejected, 1);
  assert.equal(rejected.result.pushed, 1, 'the small record went through');

  for (const page of [a, b]) assert.deepEqual(await collectedProblems(page), []);
  const sources = await b.evaluate(() => [...new Set(window.events.map((e) => e.source))].sort());
  assert.deepEqual(sources, ['local', 'remote'], 'B saw its own and pulled changes');
});

test('errors are SyncErrors with the declared fields, for instanceof and for a failed round', async () => {
  const page = await stack.newPage();
  const found = await page.evaluate(async () => {
    const out = [];
    const record = (label, e) =>
      out.push({
        label,
        isSyncError: e instanceof window.SyncError,
        isError: e instanceof Error,
        code: e?.code,
        option: e?.option,
        problems: window.problems('error', e, label),
      });
    try {
      await window.SyncManager.open({ dbName: 'x', schema: { t: 'id' }, endpoint: 'http://127.0.0.1:9', interval: -5 });
    } catch (e) {
      record('open with a bad interval', e);
    }
    // Nothing listens on port 9: the round fails with a network error.
    const sync = await window.SyncManager.open({
      dbName: `shapes-offline-${Date.now()}`,
      schema: { tasks: 'id' },
      endpoint: 'http://127.0.0.1:9',
      autoSync: false,
    });
    try {
      sync.table('nope');
    } catch (e) {
      record('an unknown table', e);
    }
    try {
      await sync.syncNow();
    } catch (e) {
      record('a round that cannot reach the server', e);
    }
    const status = sync.getSyncStatus();
    sync.close();
    return { out, status, statusProblems: window.problems('status', status), plain: new Error('x') instanceof window.SyncError };
  });
  assert.deepEqual(
    found.out.map(({ label, isSyncError, isError, code, option }) => ({ label, isSyncError, isError, code, option })),
    [
      { label: 'open with a bad interval', isSyncError: true, isError: true, code: 'invalid_interval', option: 'interval' },
      { label: 'an unknown table', isSyncError: true, isError: true, code: 'unknown_table', option: undefined },
      { label: 'a round that cannot reach the server', isSyncError: true, isError: true, code: 'network_error', option: undefined },
    ],
  );
  assert.deepEqual(found.out.flatMap((f) => f.problems), []);
  assert.equal(found.plain, false, 'an ordinary Error is not a SyncError');
  assert.deepEqual(found.statusProblems, []);
  assert.equal(found.status.lastError?.code, 'network_error');
  assert.equal(found.status.lastError?.class, 'transient');
});
