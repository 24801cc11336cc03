// End-to-end (docs/PROTOCOL.md "Values"; I8, I9): record values that JSON lacks. A Date goes
// device A → server → device B and comes back a real Date with the same time (as the
// tagged `{"$date": ISO}` of docs/PROTOCOL.md on the wire); an object that looks like
// a tag comes back as it was; every value that cannot round-trip is refused at write
// time with `invalid_value` naming its field path, writing and queueing nothing, and
// the queue keeps flowing. Against the built package, the real server, headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniqueName, openManager, pushedMutations, serverRecords } from './harness.mjs';

let stack;

before(async () => {
  stack = await startStack('values');
});

after(async () => {
  await stack?.stop();
});

test('a Date round-trips device A → server → device B as a real Date with the same time', async () => {
  const token = await stack.signUp();
  const a = await stack.newPage();
  const b = await stack.newPage();
  try {
    const pushed = pushedMutations(a);
    await openManager(a, { dbName: uniqueName('date-a'), token, endpoint: stack.server.url });
    await openManager(b, { dbName: uniqueName('date-b'), token, endpoint: stack.server.url });
    const local = await a.evaluate(async () => {
      await window.sync.create('tasks', {
        id: 'd1',
        title: 'with dates',
        due: new Date(1700000000123),
        meta: { createdAt: new Date(0) },
        history: [new Date(-1), new Date(Date.UTC(2000, 1, 29))],
      });
      const r = await window.sync.table('tasks').get('d1');
      return { isDate: r.due instanceof Date, time: r.due.getTime() };
    });
    assert.deepEqual(local, { isDate: true, time: 1700000000123 }, 'a local read returns the Date');
    await a.evaluate(() => window.sync.syncNow());
    const create = pushed.find((m) => m.key === 'd1');
    assert.deepEqual(create.op.record.due, { $date: '2023-11-14T22:13:20.123Z' }, 'the wire carries the tagged ISO date');
    assert.deepEqual(create.op.record.history, [{ $date: '1969-12-31T23:59:59.999Z' }, { $date: '2000-02-29T00:00:00.000Z' }]);

    await b.evaluate(() => window.sync.syncNow());
    const seen = await b.evaluate(async () => {
      const r = await window.sync.table('tasks').get('d1');
      const describe = (d) => ({ isDate: d instanceof Date, time: d instanceof Date ? d.getTime() : String(d) });
      return { due: describe(r.due), created: describe(r.meta.createdAt), history: r.history.map(describe) };
    });
    assert.deepEqual(seen, {
      due: { isDate: true, time: 1700000000123 },
      created: { isDate: true, time: 0 },
      history: [
        { isDate: true, time: -1 },
        { isDate: true, time: 951782400000 },
      ],
    });

    // An update from B with a Date reaches A as a Date.
    await b.evaluate(() => window.sync.update('tasks', 'd1', { due: new Date(1800000000000) }));
    await b.evaluate(() => window.sync.syncNow());
    await a.evaluate(() => window.sync.syncNow());
    const updated = await a.evaluate(async () => {
      const r = await window.sync.table('tasks').get('d1');
      return { isDate: r.due instanceof Date, time: r.due.getTime() };
    });
    assert.deepEqual(updated, { isDate: true, time: 1800000000000 });
  } finally {
    await a.context().close();
    await b.context().close();
  }
});

test('objects that look like a wire tag round-trip exactly, and are escaped on the wire', async () => {
  const token = await stack.signUp();
  const a = await stack.newPage();
  const b = await stack.newPage();
  try {
    await openManager(a, { dbName: uniqueName('tag-a'), token, endpoint: stack.server.url });
    await openManager(b, { dbName: uniqueName('tag-b'), token, endpoint: stack.server.url });
    const record = {
      id: 't1',
      fake: { $date: '2023-11-14T22:13:20.123Z' },
      escape: { $escape: { a: 1 } },
      other: { $ref: 'x' },
      two: { $date: 'x', y: 1 },
    };
    await a.evaluate((record) => window.sync.create('tasks', record), record);
    await a.evaluate(() => window.sync.syncNow());
    await b.evaluate(() => window.sync.syncNow());
    const seen = await b.evaluate(async () => {
      const r = await window.sync.table('tasks').get('t1');
      return { record: r, fakeIsDate: r.fake instanceof Date };
    });
    assert.deepEqual(seen, { record, fakeIsDate: false });
    const stored = (await serverRecords(stack.server, token)).t1;
    assert.deepEqual(stored.fake, { $escape: { $date: '2023-11-14T22:13:20.123Z' } });
    assert.deepEqual(stored.two, { $date: 'x', y: 1 }, 'only single-key `$` objects are escaped');
  } finally {
    await a.context().close();
    await b.context().close();
  }
});

test('every value that cannot round-trip is refused with invalid_value naming its path, and nothing is written or queued', async () => {
  const token = await stack.signUp();
  const a = await stack.newPage();
  try {
    await openManager(a, { dbName: uniqueName('refused'), token, endpoint: stack.server.url });
    await a.evaluate(() => window.sync.create('tasks', { id: 'base', title: 'existing' }));
    const outcomes = await a.evaluate(async () => {
      const tasks = window.sync.table('tasks');
      const out = [];
      for (const [i, c] of window.refusedValues().entries()) {
        const record = { id: `bad${i}`, title: 'x', [c.field]: c.value };
        const calls = {
          add: () => tasks.add(record),
          put: () => tasks.put(record),
          bulkPut: () => tasks.bulkPut([{ id: `fine${i}` }, record]),
          create: () => window.sync.create('tasks', record),
          update: () => tasks.update('base', { [c.field]: c.value }),
          managerUpdate: () => window.sync.update('tasks', 'base', { [c.field]: c.value }),
        };
        for (const [call, fn] of Object.entries(calls)) {
          out.push({ kind: c.name, call, path: c.path, outcome: await window.outcome(fn) });
        }
      }
      return out;
    });
    for (const { kind, call, path, outcome } of outcomes) {
      assert.equal(typeof outcome, 'object', `${kind} via ${call} was accepted`);
      assert.equal(outcome.name, 'SyncError', `${kind} via ${call}: ${JSON.stringify(outcome)}`);
      assert.equal(outcome.code, 'invalid_value', `${kind} via ${call}: ${JSON.stringify(outcome)}`);
      assert.equal(outcome.path, path, `${kind} via ${call}: ${outcome.message}`);
      assert.ok(outcome.message.includes(`\`${path}\``), `${kind} via ${call}: the message names ${path}: ${outcome.message}`);
    }
    const after = await a.evaluate(async () => ({
      records: await window.sync.table('tasks').toArray(),
      pending: await window.sync.getPendingCount(),
    }));
    assert.deepEqual(after, { records: [{ id: 'base', title: 'existing' }], pending: 1 }, 'nothing was written or queued');

    // The queue flows: the one good write reaches the server.
    const result = await a.evaluate(() => window.sync.syncNow());
    assert.equal(result.pushed, 1);
    assert.deepEqual(await serverRecords(stack.server, token), { base: { id: 'base', title: 'existing' } });
  } finally {
    await a.context().close();
  }
});

test('an own property set to undefined is dropped locally and never reaches the other device', async () => {
  const token = await stack.signUp();
  const a = await stack.newPage();
  const b = await stack.newPage();
  try {
    await openManager(a, { dbName: uniqueName('undef-a'), token, endpoint: stack.server.url });
    await openManager(b, { dbName: uniqueName('undef-b'), token, endpoint: stack.server.url });
    const local = await a.evaluate(async () => {
      await window.sync.create('tasks', { id: 'u1', title: 'x', note: undefined, meta: { a: 1, b: undefined } });
      await window.sync.update('tasks', 'u1', { status: 'todo', title: undefined });
      const r = await window.sync.table('tasks').get('u1');
      return { keys: Object.keys(r).sort(), metaKeys: Object.keys(r.meta), title: r.title };
    });
    assert.deepEqual(local, { keys: ['id', 'meta', 'status', 'title'], metaKeys: ['a'], title: 'x' });
    await a.evaluate(() => window.sync.syncNow());
    await b.evaluate(() => window.sync.syncNow());
    const remote = await b.evaluate(() => window.sync.table('tasks').get('u1'));
    assert.deepEqual(remote, { id: 'u1', title: 'x', status: 'todo', meta: { a: 1 } });
  } finally {
    await a.context().close();
    await b.context().close();
  }
});
