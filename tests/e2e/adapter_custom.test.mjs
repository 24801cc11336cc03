// End to end, `protocol: { kind: 'custom', push, pull }` (docs/ADAPTERS.md, "custom")
// in headless Chromium, from the `idb-sync/adapters` entry: the app's two functions
// carry the engine's batches and pages to a server — here the reference server's v1
// API through the page's own fetch, as an app with its own client would. Two devices
// sync creates, updates and deletes through them; what a function throws is retried
// or asks for credentials as its status says; a malformed answer applies nothing; a
// per-mutation refusal parks only that change; bad options are refused with
// invalid_protocol, and so is every adapter in the default entry `idb-sync`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, uniqueName, serverRecords } from './harness.mjs';
import { startPages, openPage } from './pages/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

let stack;
let token;
before(async () => {
  stack = await startStack('custom', { pagesDir: 'adapter_pages' });
  token = await stack.signUp();
});
after(() => stack?.stop());

/**
 * A device whose SyncManager syncs only through `protocol.custom`. `window.calls`
 * lists the calls; `window.next` (set by a test) replaces the next answer:
 * `{ throw: { status, code, message } }`, `{ throwPlain: message }` or `{ resolve: value }`.
 */
async function device(label) {
  const page = await stack.newPage();
  await page.evaluate(
    async ({ dbName, token, server }) => {
      window.calls = [];
      window.next = null;
      window.refuse = new Set();
      const overridden = () => {
        const next = window.next;
        window.next = null;
        if (!next) return undefined;
        if (next.throwPlain) throw new TypeError(next.throwPlain);
        if (next.throw) throw Object.assign(new Error(next.throw.message), next.throw);
        return next;
      };
      const post = async (path, body) => {
        const response = await fetch(`${server}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
        });
        if (!response.ok) throw Object.assign(new Error(await response.text()), { status: response.status });
        return response.json();
      };
      window.sync = await window.SyncManager.open({
        dbName,
        schema: { tasks: 'id' },
        autoSync: false,
        protocol: {
          kind: 'custom',
          async push(batch) {
            window.calls.push(['push', batch.mutations.map((m) => [m.table, m.key, m.op.kind])]);
            const next = overridden();
            if (next) return next.resolve;
            // The app's own validation refuses the keys in window.refuse, per mutation.
            const refused = (m) => window.refuse.has(m.key);
            const forwarded = batch.mutations.filter((m) => !refused(m));
            const applied = forwarded.length ? (await post('/v1/push', { ...batch, mutations: forwarded })).results : [];
            return batch.mutations.map((m) =>
              refused(m)
                ? { status: 'rejected', seq: m.seq, code: 'validation_failed', reason: 'refused by the app', server: { version: 0, deleted: true, data: null } }
                : applied.shift(),
            );
          },
          async pull(cursor, request) {
            window.calls.push(['pull', cursor]);
            const next = overridden();
            if (next) return next.resolve;
            const page = await post('/v1/pull', request);
            return { changes: page.changes, cursor: page.cursor, hasMore: page.hasMore };
          },
        },
      });
    },
    { dbName: uniqueName(label), token, server: stack.server.url },
  );
  return page;
}

const run = (page, fn, arg) => page.evaluate(fn, arg);
const syncNow = (page) => run(page, () => window.sync.syncNow());
const task = (page, id) => run(page, (id) => window.sync.table('tasks').get(id), id);
/** What syncNow() rejects with: `{ code, name }`. */
const failure = (page) =>
  run(page, () => window.sync.syncNow().then(() => null, (e) => ({ code: e.code, name: e.name })));

test('two devices sync creates, updates and deletes through the app’s push and pull', async () => {
  const a = await device('custom-a');
  const b = await device('custom-b');
  await run(a, () => window.sync.table('tasks').add({ id: 'c1', title: 'through custom', due: new Date(0) }));
  await syncNow(a);
  assert.equal((await serverRecords(stack.server, token)).c1?.title, 'through custom');
  await syncNow(b);
  const seen = await run(b, async () => {
    const t = await window.sync.table('tasks').get('c1');
    return { title: t.title, dueIsDate: t.due instanceof Date, due: t.due.getTime() };
  });
  assert.deepEqual(seen, { title: 'through custom', dueIsDate: true, due: 0 });

  await run(b, () => window.sync.table('tasks').update('c1', { title: 'edited on b' }));
  await syncNow(b);
  await syncNow(a);
  assert.equal((await task(a, 'c1'))?.title, 'edited on b');
  await run(a, () => window.sync.table('tasks').delete('c1'));
  await syncNow(a);
  await syncNow(b);
  assert.equal(await task(b, 'c1'), undefined);
  assert.equal((await serverRecords(stack.server, token)).c1, null, 'a tombstone on the server');

  const calls = await run(a, () => window.calls);
  assert.ok(calls.some(([kind, m]) => kind === 'push' && m.some(([, key, op]) => key === 'c1' && op === 'delete')));
  assert.ok(calls.some(([kind, cursor]) => kind === 'pull' && typeof cursor === 'string'), 'later pulls get the stored cursor');
});

test('a thrown status is retried or asks for credentials; any other throw is a network error; nothing is lost', async () => {
  const a = await device('custom-err');
  await run(a, () => window.sync.table('tasks').add({ id: 'e1', title: 'kept through failures' }));
  await run(a, () => (window.next = { throw: { status: 503, code: 'maintenance', message: 'down for a minute' } }));
  assert.deepEqual(await failure(a), { code: 'server_error', name: 'SyncError' });
  await run(a, () => (window.next = { throwPlain: 'Failed to fetch' }));
  assert.deepEqual(await failure(a), { code: 'network_error', name: 'SyncError' });
  await run(a, () => (window.next = { throw: { status: 401, message: 'who are you' } }));
  assert.deepEqual(await failure(a), { code: 'auth_failed', name: 'SyncError' });
  const status = await run(a, () => window.sync.getSyncStatus());
  assert.equal(status.pending, 1, 'the change waits in the outbox');
  await syncNow(a);
  assert.equal((await serverRecords(stack.server, token)).e1?.title, 'kept through failures');
});

test('a malformed answer applies nothing; a refused mutation is parked alone', async () => {
  const a = await device('custom-bad');
  await run(a, async () => {
    await window.sync.table('tasks').add({ id: 'm1', title: 'first' });
    await window.sync.table('tasks').add({ id: 'm2', title: 'second' });
  });
  // One result for two mutations, then a string: both break the protocol.
  await run(a, () => (window.next = { resolve: [{ status: 'applied', seq: 1, version: 1, previousVersion: 0 }] }));
  assert.deepEqual(await failure(a), { code: 'malformed_response', name: 'SyncError' });
  await run(a, () => (window.next = { resolve: 'ok' }));
  assert.deepEqual(await failure(a), { code: 'malformed_response', name: 'SyncError' });
  assert.equal((await run(a, () => window.sync.getSyncStatus())).pending, 2);

  // The app refuses m1 only: m1 is parked with its code, m2 reaches the server.
  await run(a, () => window.refuse.add('m1'));
  await syncNow(a);
  const server = await serverRecords(stack.server, token);
  assert.equal(server.m2?.title, 'second');
  assert.equal(server.m1, undefined);
  const parked = await run(a, async () => (await window.sync.deadLetters()).map((d) => [d.key, d.code]));
  assert.deepEqual(parked, [['m1', 'validation_failed']]);
});

/** Opens with `extra` options in `page`; resolves to the refusal `{ code, option, message }`. */
const refusal = (page, extra) =>
  page.evaluate(
    (extra) =>
      window.SyncManager.open({ dbName: 'custom-options', schema: { tasks: 'id' }, autoSync: false, ...extra }).then(
        () => null,
        (e) => ({ code: e.code, option: e.option, message: e.message }),
      ),
    extra,
  );

test('bad custom options are refused with invalid_protocol, and every adapter outside idb-sync/adapters', async () => {
  const page = await stack.newPage();
  const noPull = await page.evaluate(() =>
    window.SyncManager.open({ dbName: 'custom-options', schema: { tasks: 'id' }, protocol: { kind: 'custom', push: async () => [] } }).then(
      () => null,
      (e) => ({ code: e.code, option: e.option }),
    ),
  );
  assert.deepEqual(noPull, { code: 'invalid_protocol', option: 'protocol.pull' });
  const notAFunction = await refusal(page, { protocol: { kind: 'custom', push: '/push', pull: '/pull' } });
  assert.deepEqual([notAFunction?.code, notAFunction?.option], ['invalid_protocol', 'protocol.push']);
  const unknownKind = await refusal(page, { endpoint: stack.server.url, protocol: { kind: 'graphql' } });
  assert.deepEqual([unknownKind?.code, unknownKind?.option], ['invalid_protocol', 'protocol.kind']);

  // The default entry (value_pages imports 'idb-sync') holds no adapter at all.
  const pages = await startPages({ root: path.join(here, 'value_pages') });
  try {
    const plain = await openPage(await stack.browser.newContext(), pages.url);
    for (const kind of ['custom', 'pushPull']) {
      const refused = await refusal(plain, { endpoint: stack.server.url, protocol: { kind } });
      assert.equal(refused?.code, 'invalid_protocol', kind);
      assert.equal(refused?.option, 'protocol', kind);
      assert.match(refused?.message, /idb-sync\/adapters/, kind);
    }
  } finally {
    await pages.close();
  }
});
