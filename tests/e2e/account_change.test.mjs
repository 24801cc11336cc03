// End-to-end (docs/INVARIANTS.md, I10 "one account per local database"):
// Alice syncs on a browser database, writes while not syncing, signs out; Bob signs
// in on the same dbName. Sync must refuse with `account_changed` (the live manager and
// a freshly opened one), push nothing of Alice's into Bob's account and leave Alice's
// server data alone, until the app decides with resolveAccountChange: 'clear' (Bob's
// records are pulled, Alice's local ones are gone, open listeners in this tab and in
// another tab hear the removal) or 'keep' (Alice's unsynced changes become dead
// letters with code account_changed and never reach Bob's server). Bad decisions are
// refused with invalid_argument and change nothing. Real server, headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniqueName, serverRecords } from './harness.mjs';

let stack;

before(async () => {
  stack = await startStack('account');
});

after(async () => {
  await stack?.stop();
});

/** Opens `window.sync` on `dbName`; `getToken` returns whatever `window.token` is. */
function openSync(page, dbName, token) {
  return page.evaluate(
    async ({ dbName, token, endpoint }) => {
      window.token = token;
      window.sync = await window.SyncManager.open({
        dbName,
        schema: { tasks: 'id, status' },
        endpoint,
        auth: { getToken: async () => window.token },
        autoSync: false,
      });
    },
    { dbName, token, endpoint: stack.server.url },
  );
}

/** The local tasks, sorted by id, as `{ id, title }`. */
function localTasks(page) {
  return page.evaluate(async () =>
    (await window.sync.table('tasks').toArray())
      .map(({ id, title }) => ({ id, title }))
      .sort((a, b) => a.id.localeCompare(b.id)),
  );
}

/** `syncNow()`'s outcome: `'ok'` or the rejection's `{ name, code }`. */
function syncOutcome(page) {
  return page.evaluate(async () => {
    try {
      await window.sync.syncNow();
      return 'ok';
    } catch (e) {
      return { name: e?.name, code: e?.code };
    }
  });
}

/** Server data by key, as `{ key: title }` (deleted keys left out). */
async function serverTitles(token) {
  const records = await serverRecords(stack.server, token);
  return Object.fromEntries(
    Object.entries(records)
      .filter(([, data]) => data !== null)
      .map(([key, data]) => [key, data.title])
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/**
 * Bob's records from his other device; Alice's database `dbName` on a device page,
 * synced once (`a1`), then written without syncing (`a2` created, `a1` edited), then
 * Bob signs in on it. Resolves to `{ page, alice, bob }`.
 */
async function aliceThenBob(dbName) {
  const [alice, bob] = [await stack.signUp(), await stack.signUp()];
  const other = await stack.newPage();
  await openSync(other, uniqueName('bob-other'), bob);
  await other.evaluate(async () => {
    await window.sync.create('tasks', { id: 'b1', title: 'bob one', status: 'todo' });
    await window.sync.create('tasks', { id: 'b2', title: 'bob two', status: 'todo' });
    await window.sync.syncNow();
    window.sync.close();
  });
  await other.context().close();

  const page = await stack.newPage();
  await openSync(page, dbName, alice);
  await page.evaluate(async () => {
    await window.sync.create('tasks', { id: 'a1', title: 'alice synced', status: 'todo' });
    await window.sync.syncNow();
    // Offline work: written, never synced.
    await window.sync.create('tasks', { id: 'a2', title: 'alice offline', status: 'todo' });
    await window.sync.update('tasks', 'a1', { title: 'alice offline edit' });
  });
  assert.deepEqual(await serverTitles(alice), { a1: 'alice synced' });
  // Alice signs out, Bob signs in: the app's token getter now returns Bob's token.
  await page.evaluate((bob) => {
    window.token = bob;
    window.sync.refreshAuth();
  }, bob);
  return { page, alice, bob };
}

/** Asserts the refusal: syncNow rejects, the status says so, no data crossed. */
async function assertRefused(page, { alice, bob }, label) {
  assert.deepEqual(await syncOutcome(page), { name: 'SyncError', code: 'account_changed' }, label);
  const status = await page.evaluate(() => window.sync.getSyncStatus());
  assert.equal(status.lastError?.code, 'account_changed', `${label}: status.lastError`);
  assert.equal(status.phase, 'error', label);
  assert.deepEqual(await serverTitles(bob), { b1: 'bob one', b2: 'bob two' }, `${label}: Bob's server data`);
  assert.deepEqual(await serverTitles(alice), { a1: 'alice synced' }, `${label}: Alice's server data`);
  assert.deepEqual(
    await localTasks(page),
    [
      { id: 'a1', title: 'alice offline edit' },
      { id: 'a2', title: 'alice offline' },
    ],
    `${label}: local data untouched, Bob's records not pulled`,
  );
}

test('another account on the same dbName is refused with account_changed until the app decides; clear pulls the new account and tells listeners', async () => {
  const dbName = uniqueName('clear');
  const { page, alice, bob } = await aliceThenBob(dbName);
  await assertRefused(page, { alice, bob }, 'live manager');
  await assertRefused(page, { alice, bob }, 'live manager, second round');

  // A fresh open of the same database with Bob's token is refused the same way.
  await page.evaluate(() => window.sync.close());
  await openSync(page, dbName, bob);
  await assertRefused(page, { alice, bob }, 'fresh open');

  // Bad decisions are refused and change nothing.
  const refusals = await page.evaluate(async () => {
    const out = [];
    for (const decision of [undefined, null, 42, 'clear', {}, { localData: 'wipe' }, { localData: 42 }]) {
      try {
        await window.sync.resolveAccountChange(decision);
        out.push('ok');
      } catch (e) {
        out.push({ name: e?.name, code: e?.code });
      }
    }
    return out;
  });
  for (const refusal of refusals) assert.deepEqual(refusal, { name: 'SyncError', code: 'invalid_argument' });
  await assertRefused(page, { alice, bob }, 'after bad decisions');

  // Another tab of the same database, with a change listener there and here.
  const tab = await page.context().newPage();
  await tab.goto(page.url());
  await tab.locator('#state[data-state="ready"]').waitFor({ timeout: 30_000 });
  await openSync(tab, dbName, bob);
  for (const p of [page, tab]) {
    await p.evaluate(() => {
      window.changes = [];
      window.sync.onChange('tasks', (e) => window.changes.push(...e.keys));
    });
  }

  await page.evaluate(() => window.sync.resolveAccountChange({ localData: 'clear' }));
  assert.equal(await syncOutcome(page), 'ok');
  assert.deepEqual(await localTasks(page), [
    { id: 'b1', title: 'bob one' },
    { id: 'b2', title: 'bob two' },
  ]);
  assert.deepEqual(await page.evaluate(() => window.sync.deadLetters()), []);
  const status = await page.evaluate(() => window.sync.getSyncStatus());
  assert.equal(status.lastError, null);
  assert.equal(status.pending + status.inFlight, 0);
  // Both tabs were told that a1 and a2 went away (and that b1, b2 arrived).
  for (const [name, p] of [['this tab', page], ['other tab', tab]]) {
    await p.waitForFunction(
      () => ['a1', 'a2', 'b1', 'b2'].every((k) => window.changes.includes(k)),
      null,
      { timeout: 10_000, polling: 50 },
    ).catch(async () => {
      assert.fail(`${name} heard ${JSON.stringify(await p.evaluate(() => window.changes))}`);
    });
  }
  assert.deepEqual(await serverTitles(bob), { b1: 'bob one', b2: 'bob two' });
  assert.deepEqual(await serverTitles(alice), { a1: 'alice synced' });
  await page.context().close();
});

test("keep: Alice's unsynced changes become account_changed dead letters, never pushed into Bob's account", async () => {
  const dbName = uniqueName('keep');
  const { page, alice, bob } = await aliceThenBob(dbName);
  await assertRefused(page, { alice, bob }, 'live manager');

  await page.evaluate(() => window.sync.resolveAccountChange({ localData: 'keep' }));
  assert.equal(await syncOutcome(page), 'ok');
  assert.equal(await syncOutcome(page), 'ok');
  const letters = await page.evaluate(async () =>
    (await window.sync.deadLetters())
      .map(({ key, code, op }) => ({ key, code, kind: op.kind }))
      .sort((a, b) => a.key.localeCompare(b.key)),
  );
  assert.deepEqual(letters, [
    { key: 'a1', code: 'account_changed', kind: 'update' },
    { key: 'a2', code: 'account_changed', kind: 'create' },
  ]);
  // Kept locally, Bob's records pulled beside them.
  assert.deepEqual(await localTasks(page), [
    { id: 'a1', title: 'alice offline edit' },
    { id: 'a2', title: 'alice offline' },
    { id: 'b1', title: 'bob one' },
    { id: 'b2', title: 'bob two' },
  ]);
  const status = await page.evaluate(() => window.sync.getSyncStatus());
  assert.equal(status.lastError, null);
  assert.equal(status.deadLetters, 2);
  assert.deepEqual(await serverTitles(bob), { b1: 'bob one', b2: 'bob two' });
  assert.deepEqual(await serverTitles(alice), { a1: 'alice synced' });
  await page.context().close();
});
