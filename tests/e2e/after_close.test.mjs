// End-to-end: sync after the tab closes (docs/SYNC_MANAGER.md, "After the tab
// closes"), against the real server on 127.0.0.1 and headless Chromium.
// - keepalive: a page writes (its push held off for an hour by `debounce`) and is
//   closed at once; the server has the write (sent by `fetch(…, { keepalive: true })`
//   on `pagehide`), and a page opened later on the same database pushes the same op
//   again: the server answers `duplicate` and nothing changes there.
// - Background Sync: the server is down while a page writes, asks for Background Sync
//   and closes (every page of the browser context is closed); the server comes back,
//   and the app's service worker (after_close_pages/sw.js, `drainOutbox`) delivers
//   the write with no page open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniqueName } from './harness.mjs';
import { openPage } from './pages/server.mjs';

/** The server's changes for `token`'s user, from the start (versions included). */
async function serverChanges(server, token) {
  const response = await fetch(`${server.url}/v1/pull`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ protocolVersion: 1, clientId: 'e2e-inspector', cursor: null, limit: 500 }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()).changes;
}

/** Asks `read` until it returns something truthy; gives up after `tries` (one per 100 ms). */
async function eventually(read, tries = 1_500) {
  for (let i = 0; i < tries; i += 1) {
    const value = await read();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  return read();
}

test('a page closed right after a write delivers it (keepalive); the next push of it changes nothing', async () => {
  const stack = await startStack('afterclose-keepalive', { pagesDir: 'after_close_pages' });
  try {
    const token = await stack.signUp();
    const dbName = uniqueName('keepalive');
    const context = await stack.browser.newContext();
    const page = await openPage(context, stack.pages.url);
    const pushes = [];
    page.on('request', (r) => r.url().endsWith('/v1/push') && pushes.push(r.postData()));
    assert.equal(await page.evaluate((a) => window.openSync(a), { dbName, endpoint: stack.server.url, token }), true);
    // The loop's first round at open has run (the token is cached); the write waits an hour.
    await page.evaluate(() => window.sync.syncNow());
    const pending = await page.evaluate(() => window.writeAndSeePending('k1', 'left with the page'));
    assert.deepEqual(pending.map((e) => [e.key, e.state]), [['k1', 'pending']]);
    assert.deepEqual(await serverChanges(stack.server, token), [], 'not pushed before the close');
    assert.equal(pushes.length, 0);

    const closed = page.waitForEvent('close');
    await page.close({ runBeforeUnload: true }); // unload handlers run, as for a user
    await closed;
    const delivered = await eventually(async () => {
      const changes = await serverChanges(stack.server, token);
      return changes.length > 0 && changes;
    });
    assert.ok(delivered, 'the server got the write after the page closed');
    assert.deepEqual(delivered.map((c) => [c.key, c.data?.title]), [['k1', 'left with the page']]);

    // The next session on the same database pushes the same op again: a no-op.
    const again = await openPage(context, stack.pages.url);
    const answers = [];
    again.on('response', async (r) => {
      if (r.url().endsWith('/v1/push')) answers.push(await r.json());
    });
    await again.evaluate((a) => window.openSync(a), { dbName, endpoint: stack.server.url, token });
    await again.evaluate(() => window.sync.syncNow());
    assert.equal(await again.evaluate(() => window.sync.getPendingCount()), 0, 'acknowledged');
    const results = answers.flatMap((a) => a.results.map((r) => r.status));
    assert.deepEqual(results, ['duplicate'], 'the server knew the op: answered duplicate');
    assert.deepEqual(await serverChanges(stack.server, token), delivered, 'nothing changed on the server');
    await context.close();
  } finally {
    await stack.stop();
  }
});

test('with every tab closed, the service worker drains the outbox (Background Sync)', async () => {
  const stack = await startStack('afterclose-bgsync', { pagesDir: 'after_close_pages' });
  try {
    const token = await stack.signUp();
    const dbName = uniqueName('bgsync');
    const endpoint = stack.server.url;
    const context = await stack.browser.newContext();
    const page = await openPage(context, stack.pages.url);
    const worker = await page.evaluate((a) => window.installWorker(a), { dbName, endpoint, token });
    assert.deepEqual(worker, { active: true, backgroundSync: true });
    let closedAt;
    await stack.restartServer(async () => {
      // The server is down: the page's rounds and its keepalive on close fail.
      await page.evaluate((a) => window.openSync(a), { dbName, endpoint, token });
      await page.evaluate(() => window.writeAndSeePending('k2', 'drained by the service worker'));
      const tags = await page.evaluate(() => window.askForBackgroundSync());
      assert.deepEqual(tags, ['idb-sync']);
      for (const p of context.pages()) {
        const closed = p.waitForEvent('close');
        await p.close({ runBeforeUnload: true }); // unload handlers run, as for a user
        await closed;
      }
      assert.equal(context.pages().length, 0, 'no page is open');
      closedAt = Date.now();
    });
    const delivered = await eventually(async () => {
      const changes = await serverChanges(stack.server, token);
      return changes.length > 0 && changes;
    });
    assert.equal(context.pages().length, 0, 'still no page open when the write arrived');
    assert.ok(delivered, 'the server got the write from the service worker');
    assert.deepEqual(delivered.map((c) => [c.key, c.data?.title]), [['k2', 'drained by the service worker']]);
    // What the worker did, from its own notes (a page of the context reads them now):
    // its drain pushed the change, and finished after the last page had closed (the
    // `sync` event may fire while the page is still open: its drain then waits, retrying,
    // and takes the lead when the page goes).
    const reader = await openPage(context, stack.pages.url);
    const drains = await reader.evaluate(async () => (await (await caches.open('after-close-test')).match('/drains')).json());
    const done = drains.filter((d) => d.result);
    assert.deepEqual(done.map((d) => d.result), [{ pushed: 1 }], JSON.stringify(drains));
    assert.ok(done[0].at > closedAt, `drained after the close: ${JSON.stringify(drains)}, closed at ${closedAt}`);
    await context.close();
  } finally {
    await stack.stop();
  }
});

test('a record the keepalive delivered and the next session deleted before its push stays deleted', async () => {
  const stack = await startStack('afterclose-delete', { pagesDir: 'after_close_pages' });
  try {
    const token = await stack.signUp();
    const dbName = uniqueName('keepalive-delete');
    const endpoint = stack.server.url;
    const context = await stack.browser.newContext();
    const page = await openPage(context, stack.pages.url);
    await page.evaluate((a) => window.openSync(a), { dbName, endpoint, token });
    await page.evaluate(() => window.sync.syncNow());
    await page.evaluate(() => window.writeAndSeePending('k3', 'created, then deleted'));
    await page.close({ runBeforeUnload: true });
    assert.ok(await eventually(async () => (await serverChanges(stack.server, token)).length > 0), 'the keepalive delivered the create');

    // The next session deletes the record before it could push (the server is down):
    // the create it still has pending may be on the server, so the delete must go too.
    const again = await openPage(context, stack.pages.url);
    await stack.restartServer(async () => {
      await again.evaluate((a) => window.openSync(a), { dbName, endpoint, token });
      await again.evaluate(() => window.sync.table('tasks').delete('k3'));
    });
    await again.evaluate(() => window.sync.syncNow());
    await again.evaluate(() => window.sync.syncNow());
    assert.equal(await again.evaluate(() => window.sync.table('tasks').get('k3')), undefined, 'not back on the device');
    const changes = await serverChanges(stack.server, token);
    assert.deepEqual(changes.map((c) => [c.key, c.deleted]), [['k3', true]], 'deleted on the server');
    assert.equal(await again.evaluate(() => window.sync.getPendingCount()), 0);
    await context.close();
  } finally {
    await stack.stop();
  }
});
