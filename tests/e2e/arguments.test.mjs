// End-to-end (I8 of docs/INVARIANTS.md): every public entry point of the package —
// SyncManager, LocalDatabase, Table, WhereClause, Collection, checkServer — called
// with wrong types, circular and very deep values throws or rejects with a coded
// SyncError (never a trap, a panic or a plain TypeError) — a method that returns a
// Promise rejects it, never throws synchronously; afterwards nothing was
// written or queued and the same manager still syncs a normal write to the real
// server. Also a circular record no longer poisons the database across a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniqueName, openManager, serverRecords } from './harness.mjs';

let stack;

before(async () => {
  stack = await startStack('arguments');
});

after(async () => {
  await stack?.stop();
});

/**
 * Calls every entry point with bad arguments, in the page; resolves to
 * `[{ call, expected, outcome }]`. `window.sync` is open on table `tasks`.
 */
function callEverythingWrongly(page, dbName) {
  return page.evaluate(async (dbName) => {
    const sync = window.sync;
    const tasks = sync.table('tasks');
    const where = tasks.where('status');
    const all = tasks.toCollection();
    const circ = window.circular();
    const deep = window.nested(5000);
    const calls = [
      // SyncManager
      ['SyncManager.open(42)', () => window.SyncManager.open(42), 'invalid_options'],
      ['SyncManager.open(circular)', () => window.SyncManager.open(circ), 'unknown_option'],
      ['sync.table(42)', () => sync.table(42), 'invalid_argument'],
      ['sync.table(undefined)', () => sync.table(), 'invalid_argument'],
      ['sync.table(circular)', () => sync.table(circ), 'invalid_argument'],
      ['sync.create(42, {})', () => sync.create(42, { id: 'x' }), 'invalid_argument'],
      ["sync.create('tasks', 42)", () => sync.create('tasks', 42), 'invalid_record'],
      ["sync.create('tasks', circular)", () => sync.create('tasks', { id: 'c', meta: circ }), 'invalid_value'],
      ["sync.create('tasks', deep)", () => sync.create('tasks', { id: 'd', deep }), 'invalid_value'],
      ['sync.update(42, …)', () => sync.update(42, 'k', {}), 'invalid_argument'],
      ["sync.update('tasks', circular, {})", () => sync.update('tasks', circ, {}), 'invalid_key'],
      ["sync.update('tasks', 'k', 42)", () => sync.update('tasks', 'k', 42), 'invalid_argument'],
      ['sync.delete(42, …)', () => sync.delete(42, 'k'), 'invalid_argument'],
      ["sync.delete('tasks', deep)", () => sync.delete('tasks', deep), 'invalid_key'],
      ['sync.fullSync(42)', () => sync.fullSync(42), 'invalid_argument'],
      ['sync.onChange(42, fn)', () => sync.onChange(42, () => {}), 'invalid_argument'],
      ["sync.onChange('tasks', 42)", () => sync.onChange('tasks', 42), 'invalid_argument'],
      ['sync.subscribe(42)', () => sync.subscribe(42), 'invalid_argument'],
      ['sync.subscribe(undefined)', () => sync.subscribe(), 'invalid_argument'],
      ['sync.resolveConflict(42, …)', () => sync.resolveConflict(42, 'k', 'local'), 'invalid_argument'],
      ["sync.resolveConflict('tasks', circular, …)", () => sync.resolveConflict('tasks', circ, 'local'), 'invalid_argument'],
      ["sync.resolveConflict('tasks', 'k', 42)", () => sync.resolveConflict('tasks', 'k', 42), 'invalid_argument'],
      ["sync.resolveConflict(…, { merged: circular })", () => sync.resolveConflict('tasks', 'k', { merged: { meta: circ } }), 'invalid_value'],
      ["sync.retryDeadLetter('x')", () => sync.retryDeadLetter('x'), 'invalid_argument'],
      ['sync.retryDeadLetter(circular)', () => sync.retryDeadLetter(circ), 'invalid_argument'],
      ['sync.discardDeadLetter({})', () => sync.discardDeadLetter({}), 'invalid_argument'],
      ['sync.discardDeadLetter(-1)', () => sync.discardDeadLetter(-1), 'invalid_argument'],
      // LocalDatabase
      ['LocalDatabase.open(42)', () => window.LocalDatabase.open(42), 'invalid_argument'],
      ['LocalDatabase.open({ dbName: 42 })', () => window.LocalDatabase.open({ dbName: 42, schema: {} }), 'invalid_argument'],
      ['LocalDatabase.open({ schema: circular })', () => window.LocalDatabase.open({ dbName, schema: { tasks: 'id', x: circ } }), 'invalid_argument'],
      ['LocalDatabase.delete(42)', () => window.LocalDatabase.delete(42), 'invalid_argument'],
      // Table
      ['tasks.get(circular)', () => tasks.get(circ), 'invalid_key'],
      ['tasks.bulkGet(42)', () => tasks.bulkGet(42), 'invalid_argument'],
      ['tasks.bulkGet([circular])', () => tasks.bulkGet([circ]), 'invalid_key'],
      ['tasks.add(42)', () => tasks.add(42), 'invalid_record'],
      ['tasks.add(circular)', () => tasks.add({ id: 'c2', circ }), 'invalid_value'],
      ['tasks.put(deep)', () => tasks.put({ id: 'd2', deep }), 'invalid_value'],
      ["tasks.put('x')", () => tasks.put('x'), 'invalid_record'],
      ['tasks.bulkAdd(42)', () => tasks.bulkAdd(42), 'invalid_argument'],
      ['tasks.bulkAdd([circular])', () => tasks.bulkAdd([{ id: 'c3' }, { id: 'c4', circ }]), 'invalid_value'],
      ['tasks.bulkPut([…], 42)', () => tasks.bulkPut([{ id: 'k' }], 42), 'invalid_argument'],
      ['tasks.update(circular, {})', () => tasks.update(circ, { a: 1 }), 'invalid_key'],
      ["tasks.update('k', 'x')", () => tasks.update('k', 'x'), 'invalid_argument'],
      ['tasks.delete({})', () => tasks.delete({}), 'invalid_key'],
      ['tasks.bulkDelete(42)', () => tasks.bulkDelete(42), 'invalid_argument'],
      ['tasks.where(42)', () => tasks.where(42), 'invalid_argument'],
      ['tasks.orderBy(circular)', () => tasks.orderBy(circ), 'invalid_argument'],
      ["tasks.offset('x')", () => tasks.offset('x'), 'invalid_argument'],
      ['tasks.limit(-1)', () => tasks.limit(-1), 'invalid_argument'],
      ['tasks.filter(42)', () => tasks.filter(42), 'invalid_argument'],
      // WhereClause
      ['where.equals(circular)', () => where.equals(circ), 'invalid_argument'],
      ['where.anyOf(42)', () => where.anyOf(42), 'invalid_argument'],
      ['where.anyOf([circular])', () => where.anyOf([circ]), 'invalid_argument'],
      ['where.between({}, {})', () => where.between({}, {}), 'invalid_argument'],
      ["where.between(1, 2, 'yes')", () => where.between(1, 2, 'yes'), 'invalid_argument'],
      ['where.startsWith(42)', () => where.startsWith(42), 'invalid_argument'],
      ['where.above(deep)', () => where.above(deep), 'invalid_argument'],
      // Collection
      ["all.offset('x')", () => all.offset('x'), 'invalid_argument'],
      ['all.limit(1.5)', () => all.limit(1.5), 'invalid_argument'],
      ['all.filter(circular)', () => all.filter(circ), 'invalid_argument'],
      // checkServer
      ['checkServer(42)', () => window.checkServer(42), 'invalid_argument'],
    ];
    const out = [];
    for (const [call, fn, expected] of calls) out.push({ call, expected, outcome: await window.outcome(fn) });
    return out;
  }, dbName);
}

test('every public entry point refuses wrong types with a coded SyncError, and the manager still syncs', async () => {
  const token = await stack.signUp();
  const a = await stack.newPage();
  const b = await stack.newPage();
  try {
    const dbName = uniqueName('args');
    await openManager(a, { dbName, token, endpoint: stack.server.url });
    const outcomes = await callEverythingWrongly(a, uniqueName('args-local'));
    const wrong = outcomes.filter(({ expected, outcome }) => outcome === 'ok' || outcome.name !== 'SyncError' || outcome.code !== expected);
    assert.deepEqual(wrong, [], 'each call throws or rejects with a SyncError of the expected code');
    // A method that returns a Promise rejects it and never throws synchronously; the
    // methods that return a value (a Table, a Collection, an unsubscribe function) throw.
    const returnsValue = /^(sync\.(table|onChange|subscribe)\(|tasks\.(where|orderBy|offset|limit|filter)\(|where\.|all\.)/;
    const how = outcomes.map(({ call, outcome }) => ({ call, how: outcome.how }));
    const expectedHow = outcomes.map(({ call }) => ({ call, how: returnsValue.test(call) ? 'threw' : 'rejected' }));
    assert.deepEqual(how, expectedHow, 'promise methods reject, value methods throw');
    assert.ok(expectedHow.filter((c) => c.how === 'rejected').length >= 25, 'most entry points return a promise');

    const after = await a.evaluate(async () => ({
      records: await window.sync.table('tasks').count(),
      pending: await window.sync.getPendingCount(),
      deadLetters: (await window.sync.deadLetters()).length,
    }));
    assert.deepEqual(after, { records: 0, pending: 0, deadLetters: 0 }, 'the bad calls wrote and queued nothing');

    // The same manager still works: a normal write syncs to the server and to device b.
    const result = await a.evaluate(async () => {
      await window.sync.create('tasks', { id: 'fine', title: 'after the bad calls', status: 'todo' });
      return window.sync.syncNow();
    });
    assert.equal(result.pushed, 1);
    assert.deepEqual(await serverRecords(stack.server, token), { fine: { id: 'fine', title: 'after the bad calls', status: 'todo' } });
    await openManager(b, { dbName: uniqueName('args-b'), token, endpoint: stack.server.url });
    await b.evaluate(() => window.sync.syncNow());
    assert.deepEqual(await b.evaluate(() => window.sync.table('tasks').toArray()), [{ id: 'fine', title: 'after the bad calls', status: 'todo' }]);
  } finally {
    await a.context().close();
    await b.context().close();
  }
});

test('listeners are only ever functions: a status or change after a refused subscribe reaches the good listeners', async () => {
  const token = await stack.signUp();
  const a = await stack.newPage();
  try {
    await openManager(a, { dbName: uniqueName('listeners'), token, endpoint: stack.server.url });
    const seen = await a.evaluate(async () => {
      const errors = [];
      const original = console.error;
      console.error = (...args) => errors.push(args.map(String).join(' '));
      const refused = [await window.outcome(() => window.sync.subscribe('nope')), await window.outcome(() => window.sync.onChange('tasks', {}))];
      const changes = [];
      window.sync.onChange('tasks', (c) => changes.push(c.keys));
      await window.sync.create('tasks', { id: 'l1' });
      await window.sync.syncNow();
      console.error = original;
      return { refused: refused.map((r) => r.code), changes, errors };
    });
    assert.deepEqual(seen, { refused: ['invalid_argument', 'invalid_argument'], changes: [['l1']], errors: [] });
  } finally {
    await a.context().close();
  }
});

test('a circular record is refused, so syncNow() works and keeps working after a reload', async () => {
  const token = await stack.signUp();
  const a = await stack.newPage();
  try {
    const dbName = uniqueName('circular');
    await openManager(a, { dbName, token, endpoint: stack.server.url });
    const refused = await a.evaluate(() => window.outcome(() => window.sync.create('tasks', { id: 'loop', meta: window.circular() })));
    assert.equal(refused.code, 'invalid_value');
    await a.evaluate(() => window.sync.create('tasks', { id: 'ok1' }));
    const first = await a.evaluate(() => window.sync.syncNow());
    assert.equal(first.pushed, 1);
    await a.reload();
    await a.locator('#state[data-state="ready"]').waitFor({ timeout: 30_000 });
    await openManager(a, { dbName, token, endpoint: stack.server.url });
    const second = await a.evaluate(async () => {
      await window.sync.create('tasks', { id: 'ok2' });
      return window.sync.syncNow();
    });
    assert.equal(second.pushed, 1);
    assert.deepEqual(Object.keys(await serverRecords(stack.server, token)).sort(), ['ok1', 'ok2']);
  } finally {
    await a.context().close();
  }
});
