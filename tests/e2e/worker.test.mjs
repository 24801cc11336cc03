// End-to-end: the package in a dedicated worker (no `window`, no `document`). The sync
// loop reads `navigator`/timers through `globalThis`, leads through Web Locks and
// talks to the other tabs through BroadcastChannel, all of which workers have, so a
// SyncManager opened in a worker elects itself (a second worker on the same database
// follows: one leader, invariant I7), writes, and syncs to the server; and a second
// device (a page) gets the record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniqueName, openManager, serverRecords } from './harness.mjs';

test('a SyncManager in a dedicated worker leads, writes and syncs; a page on another device gets the record', async () => {
  const stack = await startStack('worker', { pagesDir: 'worker_pages' });
  try {
    const token = await stack.signUp();
    const context = await stack.browser.newContext();
    const { openPage } = await import('./pages/server.mjs');
    const page = await openPage(context, stack.pages.url);
    const run = async (step, args, n = 0) => {
      const answer = await page.evaluate(([s, a, w]) => window.inWorker(s, a, w), [step, args, n]);
      assert.ok(answer.ok, `${step}: ${answer.code} ${answer.message}`);
      return answer.value;
    };
    const dbName = uniqueName('worker');
    const opened = await run('open', { dbName, endpoint: stack.server.url, token });
    assert.deepEqual(opened, { isLeader: true, clientId: 'string' });
    // A second worker on the same database follows (Web Locks work in workers).
    const second = await run('open', { dbName, endpoint: stack.server.url, token }, 1);
    assert.deepEqual(second, { isLeader: false, clientId: 'string' });
    await run('write', { id: 't1', title: 'from a worker' });
    const { result, status } = await run('syncNow');
    assert.equal(result.pushed, 1);
    assert.equal(status.pending, 0);
    assert.equal(status.lastError, null);
    assert.equal(status.phase, 'idle');
    assert.equal((await serverRecords(stack.server, token)).t1.title, 'from a worker');

    // A second device: an ordinary page pulls the worker's record.
    const other = await stack.newPage();
    await openManager(other, { dbName: uniqueName('worker-b'), token, endpoint: stack.server.url });
    const pulled = await other.evaluate(async () => {
      await window.sync.syncNow();
      return window.sync.table('tasks').get('t1');
    });
    assert.equal(pulled.title, 'from a worker');
    assert.equal(await run('close', null, 1), true);
    assert.equal(await run('close'), true);
    await context.close();
  } finally {
    await stack.stop();
  }
});
