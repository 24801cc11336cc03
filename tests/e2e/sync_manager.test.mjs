// End-to-end: SyncManager in headless Chromium against the real server on 127.0.0.1 —
// two devices converging, offline then online, debounced bursts, token refresh, an
// auth block, batch limits, leader election across two pages, a frozen leader replaced,
// close() (also during a round), the panic hook, and option validation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, startServer } from '../../scripts/lib/stack.mjs';
import { startPages, openPage } from './pages/server.mjs';
import { chromium } from 'playwright-core';
import { CHROMIUM, launchBrowser } from './browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SERVER_BINARY = process.env.IDB_SYNC_SERVER_BIN ?? path.join(ROOT, 'target/debug/idb-sync-server');

let dir, server, pages, browser;
let users = 0;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'idb-sync-e2e-sync-'));
  server = await startServer({ binary: SERVER_BINARY, database: path.join(dir, 'server.sqlite3') });
  pages = await startPages({ root: path.join(here, 'sync_pages') });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await pages?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A new user on the server; resolves to its bearer token. */
async function signUp() {
  users += 1;
  const response = await fetch(`${server.url}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: `user${users}-${Date.now()}@example.com`, password: 'correct horse battery' }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()).token;
}

/** Counts the page's requests to the server's push and pull endpoints. */
function countRequests(page) {
  const counts = { push: 0, pull: 0 };
  page.on('request', (request) => {
    if (request.url().endsWith('/v1/push')) counts.push += 1;
    if (request.url().endsWith('/v1/pull')) counts.pull += 1;
  });
  return counts;
}

/** Opens a SyncManager in the page as `window.sync`, with a token getter counting calls. */
async function openManager(page, { dbName, tokens, options = {} }) {
  await page.evaluate(
    async ({ dbName, tokens, endpoint, options }) => {
      window.tokenCalls = 0;
      window.statuses = [];
      window.sync = await window.SyncManager.open({
        dbName,
        schema: { tasks: 'id, status' },
        endpoint,
        auth: {
          getToken: async () => {
            const token = tokens[Math.min(window.tokenCalls, tokens.length - 1)];
            window.tokenCalls += 1;
            return token;
          },
        },
        ...options,
      });
      window.sync.subscribe((status) => window.statuses.push(status));
    },
    { dbName, tokens, endpoint: server.url, options },
  );
}

function uniqueName(label) {
  return `sync-e2e-${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}

async function records(page) {
  return page.evaluate(async () => (await window.sync.table('tasks').toArray()).map(({ id, title, status }) => ({ id, title, status })));
}

async function waitFor(page, predicate, arg, timeout = 15_000) {
  await page.waitForFunction(predicate, arg, { timeout, polling: 50 });
}

test('two devices of one user converge after creates, updates and deletes on both', async () => {
  const token = await signUp();
  const context = await browser.newContext();
  try {
    const a = await openPage(context, pages.url);
    const b = await openPage(await browser.newContext(), pages.url);
    await openManager(a, { dbName: uniqueName('a'), tokens: [token] });
    await openManager(b, { dbName: uniqueName('b'), tokens: [token] });
    await a.evaluate(async () => {
      await window.sync.create('tasks', { id: 'a1', title: 'from a', status: 'todo' });
      await window.sync.create('tasks', { id: 'a2', title: 'to delete', status: 'todo' });
    });
    await b.evaluate(async () => {
      await window.sync.create('tasks', { id: 'b1', title: 'from b', status: 'todo' });
    });
    // a pushes; b pushes and pulls a's records; a pulls b's.
    for (const page of [a, b, a]) await page.evaluate(() => window.sync.syncNow());
    const updated = await a.evaluate(async () => {
      const record = await window.sync.update('tasks', 'b1', { status: 'done' });
      await window.sync.delete('tasks', 'a2');
      return record;
    });
    assert.equal(updated?.status, 'done', 'device a has b1 to update');
    await b.evaluate(async () => {
      await window.sync.update('tasks', 'a1', { title: 'from a, edited on b' });
    });
    for (const page of [a, b, a, b]) await page.evaluate(() => window.sync.syncNow());
    const expected = [
      { id: 'a1', title: 'from a, edited on b', status: 'todo' },
      { id: 'b1', title: 'from b', status: 'done' },
    ];
    assert.deepEqual(await records(a), expected);
    assert.deepEqual(await records(b), expected);
    for (const page of [a, b]) {
      const status = await page.evaluate(() => window.sync.getSyncStatus());
      assert.equal(status.pending + status.inFlight, 0);
      assert.equal(status.phase, 'idle');
      assert.ok(status.lastSyncAt > 0);
      await page.evaluate(() => window.sync.close());
    }
    await b.context().close();
  } finally {
    await context.close();
  }
});

test('offline writes queue without a request and drain as soon as the browser is online', async () => {
  const token = await signUp();
  const context = await browser.newContext();
  try {
    const page = await openPage(context, pages.url);
    await openManager(page, { dbName: uniqueName('offline'), tokens: [token] });
    await page.evaluate(() => window.sync.syncNow());
    const counts = countRequests(page);
    await context.setOffline(true);
    await waitFor(page, () => window.sync.getSyncStatus().phase === 'offline');
    await page.evaluate(async () => {
      for (let i = 0; i < 5; i++) await window.sync.create('tasks', { id: `o${i}`, title: `offline ${i}` });
    });
    await waitFor(page, () => window.sync.getSyncStatus().pending === 5);
    const refused = await page.evaluate(() => window.sync.syncNow().then(() => 'resolved', (e) => `${e.name}:${e.code}`));
    assert.equal(refused, 'SyncError:offline');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(counts, { push: 0, pull: 0 }, 'no request while offline');
    await context.setOffline(false);
    await waitFor(page, () => {
      const s = window.sync.getSyncStatus();
      return s.online && s.pending === 0 && s.inFlight === 0 && s.phase === 'idle';
    });
    assert.ok(counts.push >= 1);
    await page.evaluate(() => window.sync.close());
  } finally {
    await context.close();
  }
});

test('a burst of 100 writes goes out in one or a few requests', async () => {
  const token = await signUp();
  const context = await browser.newContext();
  try {
    const page = await openPage(context, pages.url);
    await openManager(page, { dbName: uniqueName('burst'), tokens: [token], options: { interval: 0 } });
    await page.evaluate(() => window.sync.syncNow());
    const counts = countRequests(page);
    await page.evaluate(async () => {
      await Promise.all(Array.from({ length: 100 }, (_, i) => window.sync.create('tasks', { id: `w${i}`, title: `write ${i}` })));
    });
    await waitFor(page, () => {
      const s = window.sync.getSyncStatus();
      return s.pending === 0 && s.inFlight === 0 && !s.syncing && s.lastSyncAt !== null;
    });
    assert.ok(counts.push >= 1 && counts.push <= 3, `${counts.push} push requests`);
    await page.evaluate(() => window.sync.close());
  } finally {
    await context.close();
  }
});

/** Collects the mutations of every push request the page sends, one array per push. */
function pushBodies(page) {
  const bodies = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/v1/push')) bodies.push(JSON.parse(request.postData() ?? '{}').mutations ?? []);
  });
  return bodies;
}

/** Opens a second device of the user in a fresh context, pulls, returns its records' ids. */
async function pulledIds(token) {
  const context = await browser.newContext();
  try {
    const page = await openPage(context, pages.url);
    await openManager(page, { dbName: uniqueName('puller'), tokens: [token], options: { autoSync: false } });
    await page.evaluate(() => window.sync.syncNow());
    const ids = (await records(page)).map((r) => r.id).sort();
    await page.evaluate(() => window.sync.close());
    return ids;
  } finally {
    await context.close();
  }
}

test('batch.maxCount splits a queue of 25 writes into pushes of at most 10 mutations', async () => {
  const token = await signUp();
  const context = await browser.newContext();
  try {
    const page = await openPage(context, pages.url);
    await openManager(page, { dbName: uniqueName('max-count'), tokens: [token], options: { autoSync: false, batch: { maxCount: 10 } } });
    const bodies = pushBodies(page);
    await page.evaluate(async () => {
      for (let i = 0; i < 25; i += 1) await window.sync.create('tasks', { id: `c${String(i).padStart(2, '0')}`, title: `write ${i}` });
    });
    assert.equal(bodies.length, 0, 'autoSync is off: nothing sent before syncNow()');
    const result = await page.evaluate(() => window.sync.syncNow());
    assert.equal(result.pushed, 25);
    assert.ok(bodies.length >= 3, `${bodies.length} push requests`);
    for (const mutations of bodies) assert.ok(mutations.length <= 10, `a push of ${mutations.length} mutations`);
    assert.equal(bodies.reduce((n, mutations) => n + mutations.length, 0), 25);
    await page.evaluate(() => window.sync.close());
    assert.deepEqual(await pulledIds(token), Array.from({ length: 25 }, (_, i) => `c${String(i).padStart(2, '0')}`));
  } finally {
    await context.close();
  }
});

test('batch.maxBytes splits large records into several pushes', async () => {
  const token = await signUp();
  const context = await browser.newContext();
  try {
    const page = await openPage(context, pages.url);
    // Each record is over 1 500 bytes of JSON: at most two fit in 4 000 bytes.
    await openManager(page, { dbName: uniqueName('max-bytes'), tokens: [token], options: { autoSync: false, batch: { maxBytes: 4_000 } } });
    const bodies = pushBodies(page);
    await page.evaluate(async () => {
      for (let i = 0; i < 6; i += 1) await window.sync.create('tasks', { id: `b${i}`, title: String(i).repeat(1_500) });
    });
    const result = await page.evaluate(() => window.sync.syncNow());
    assert.equal(result.pushed, 6);
    assert.ok(bodies.length >= 3, `${bodies.length} push requests`);
    for (const mutations of bodies) assert.ok(mutations.length <= 2, `a push of ${mutations.length} mutations`);
    await page.evaluate(() => window.sync.close());
    assert.deepEqual(await pulledIds(token), ['b0', 'b1', 'b2', 'b3', 'b4', 'b5']);
  } finally {
    await context.close();
  }
});

test('a 401 asks getToken once more and the retried request succeeds', async () => {
  const token = await signUp();
  const context = await browser.newContext();
  try {
    const page = await openPage(context, pages.url);
    await openManager(page, { dbName: uniqueName('refresh'), tokens: ['expired-token', token], options: { autoSync: false } });
    await page.evaluate(() => window.sync.create('tasks', { id: 't1', title: 'x' }));
    const result = await page.evaluate(() => window.sync.syncNow());
    assert.equal(result.pushed, 1);
    assert.equal(await page.evaluate(() => window.tokenCalls), 2);
    await page.evaluate(() => window.sync.close());
  } finally {
    await context.close();
  }
});

test('a persistent 401 shows an auth error and stops retrying until syncNow()', async () => {
  const context = await browser.newContext();
  try {
    const page = await openPage(context, pages.url);
    const counts = countRequests(page);
    await openManager(page, { dbName: uniqueName('auth'), tokens: ['bad-1', 'bad-2', 'bad-3', 'bad-4'], options: { interval: 200 } });
    await waitFor(page, () => window.sync.getSyncStatus().lastError?.code === 'auth_failed');
    const status = await page.evaluate(() => window.sync.getSyncStatus());
    assert.equal(status.phase, 'error');
    assert.equal(status.lastError.class, 'auth');
    assert.equal(status.lastError.serverCode, 'invalid_token', 'the server\'s code reaches the app');
    assert.equal(status.nextRetryAt, null);
    const before = counts.pull + counts.push;
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(counts.pull + counts.push, before, 'no retry while blocked, even with a 200 ms interval');
    const error = await page.evaluate(() => window.sync.syncNow().then(() => 'resolved', (e) => e.code));
    assert.equal(error, 'auth_failed');
    const serverCode = await page.evaluate(() => window.sync.syncNow().then(() => 'resolved', (e) => e.serverCode));
    assert.equal(serverCode, 'invalid_token');
    assert.ok(counts.pull + counts.push > before, 'syncNow() tried again');
    await page.evaluate(() => window.sync.close());
  } finally {
    await context.close();
  }
});

test('two pages of one device elect one leader, and the other takes over when it closes', async () => {
  const token = await signUp();
  const context = await browser.newContext();
  try {
    const dbName = uniqueName('tabs');
    const first = await openPage(context, pages.url);
    await openManager(first, { dbName, tokens: [token] });
    const second = await openPage(context, pages.url);
    const counts = countRequests(second);
    await openManager(second, { dbName, tokens: [token] });
    assert.equal(await first.evaluate(() => window.sync.isLeader), true);
    assert.equal(await second.evaluate(() => window.sync.isLeader), false);
    // A follower's write is pushed by the leader; both tabs show the same status.
    await second.evaluate(() => window.sync.create('tasks', { id: 'f1', title: 'written in the follower' }));
    await waitFor(first, () => window.sync.getSyncStatus().pending === 0 && window.sync.getSyncStatus().lastSyncAt !== null);
    const result = await second.evaluate(() => window.sync.syncNow());
    assert.equal(typeof result.pushed, 'number');
    assert.deepEqual(counts, { push: 0, pull: 0 }, 'the follower sends nothing itself');
    await waitFor(second, () => window.statuses.some((s) => s.lastSyncAt !== null));
    // Both tabs show the same status (pending count, phase, last sync).
    const shown = (page) =>
      page.evaluate(() => {
        const { pending, inFlight, phase, lastSyncAt } = window.sync.getSyncStatus();
        return { pending, inFlight, phase, lastSyncAt };
      });
    await first.evaluate(() => window.sync.stopAutoSync());
    await second.evaluate(() => window.sync.create('tasks', { id: 'f0', title: 'queued while the loop is stopped' }));
    await waitFor(first, () => window.sync.getSyncStatus().pending === 1);
    await waitFor(second, () => window.sync.getSyncStatus().pending === 1);
    assert.deepEqual(await shown(second), await shown(first));
    await first.evaluate(() => window.sync.startAutoSync());
    await first.close();
    await waitFor(second, () => window.sync.isLeader, undefined, 5_000);
    await second.evaluate(() => window.sync.create('tasks', { id: 'f2', title: 'after the takeover' }));
    await waitFor(second, () => window.sync.getSyncStatus().pending === 0 && window.sync.getSyncStatus().phase === 'idle');
    assert.ok(counts.push >= 1, 'the new leader pushes');
    await second.evaluate(() => window.sync.close());
  } finally {
    await context.close();
  }
});

/**
 * A headless Chromium whose pages can really be frozen. Playwright turns focus emulation
 * on for the pages it creates, which keeps them "visible", and Chromium never freezes a
 * visible page (`Page.setWebLifecycleState` then does nothing). Pages of the default
 * context of a browser attached with `noDefaults` get no focus emulation.
 */
async function launchFreezableBrowser(userDataDir) {
  const child = spawn(
    CHROMIUM,
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--remote-debugging-port=0',
      `--user-data-dir=${userDataDir}`, 'about:blank'],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null) child.kill();
    await exited;
  };
  try {
    let port;
    for (let i = 0; i < 200 && !port; i++) {
      await new Promise((r) => setTimeout(r, 50));
      port = await readFile(path.join(userDataDir, 'DevToolsActivePort'), 'utf8').then((t) => t.split('\n')[0], () => undefined);
    }
    assert.ok(port, 'Chromium did not open its DevTools port within 10 s');
    const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`, { noDefaults: true, timeout: 15_000 });
    const context = browser.contexts()[0];
    // Freezing closes the page's WebSockets, and Vite's client reloads a page whose
    // HMR socket closed: these pages get a client that does nothing.
    await context.route(/\/@vite\/client$/, (route) =>
      route.fulfill({ contentType: 'text/javascript', body: 'export const createHotContext = () => ({});\n' }),
    );
    return { context, close: async () => { await browser.close().catch(() => {}); await stop(); } };
  } catch (e) {
    await stop();
    throw e;
  }
}

test('a frozen leader is replaced, and once thawed it follows and sends nothing', async () => {
  const token = await signUp();
  const freezable = await launchFreezableBrowser(await mkdtemp(path.join(dir, 'chromium-')));
  const other = await browser.newContext();
  try {
    const { context } = freezable;
    const dbName = uniqueName('frozen');
    // A 1 s heartbeat: a leader silent for 4 s is replaced (the default is 2 s / 8 s).
    const options = { leaderHeartbeat: 1_000 };
    const a = await openPage(context, pages.url);
    await openManager(a, { dbName, tokens: [token], options });
    const b = await openPage(context, pages.url);
    await openManager(b, { dbName, tokens: [token], options });
    assert.equal(await a.evaluate(() => window.sync.isLeader), true);
    assert.equal(await b.evaluate(() => window.sync.isLeader), false);
    const fromA = countRequests(a);
    const fromB = countRequests(b);

    const cdp = await context.newCDPSession(a);
    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    await b.evaluate(() => window.sync.create('tasks', { id: 'during-freeze', title: 'written while the leader is frozen', status: 'todo' }));
    // Stale after 4 s, then a round: well within 20 s.
    await waitFor(b, () => {
      const s = window.sync.getSyncStatus();
      return window.sync.isLeader && s.pending === 0 && s.inFlight === 0 && s.lastSyncAt !== null;
    }, undefined, 20_000);
    assert.ok(fromB.push >= 1, 'the new leader pushed');
    assert.deepEqual(fromA, { push: 0, pull: 0 }, 'the frozen page sent nothing');

    // The server has the write: another device of the user pulls it.
    const device = await openPage(other, pages.url);
    await openManager(device, { dbName: uniqueName('frozen-other'), tokens: [token] });
    await device.evaluate(() => window.sync.syncNow());
    assert.deepEqual(await records(device), [{ id: 'during-freeze', title: 'written while the leader is frozen', status: 'todo' }]);

    // Thawed, the robbed leader learns it lost the lock and follows.
    await cdp.send('Page.setWebLifecycleState', { state: 'active' });
    await waitFor(a, () => !window.sync.isLeader, undefined, 10_000);
    await a.evaluate(() => window.sync.create('tasks', { id: 'after-thaw', title: 'written in the robbed tab' }));
    await b.evaluate(() => window.sync.create('tasks', { id: 'in-new-leader', title: 'written in the new leader' }));
    const pushesBefore = fromB.push;
    await waitFor(b, () => {
      const s = window.sync.getSyncStatus();
      return s.pending === 0 && s.inFlight === 0 && !s.syncing;
    }, undefined, 15_000);
    await waitFor(a, () => window.sync.getSyncStatus().pending === 0, undefined, 15_000);
    // A few heartbeat periods more: nobody takes the lead back.
    await new Promise((r) => setTimeout(r, 5_000));
    assert.deepEqual(fromA, { push: 0, pull: 0 }, 'the robbed tab sent no request');
    assert.ok(fromB.push > pushesBefore, 'the new leader pushed the writes of both tabs');
    assert.equal(await a.evaluate(() => window.sync.isLeader), false);
    assert.equal(await b.evaluate(() => window.sync.isLeader), true);
    await device.evaluate(() => window.sync.syncNow());
    assert.deepEqual((await records(device)).map((r) => r.id).sort(), ['after-thaw', 'during-freeze', 'in-new-leader']);
    for (const page of [a, b, device]) await page.evaluate(() => window.sync.close());
  } finally {
    await other.close();
    await freezable.close();
  }
});

test('after close() no request reaches the server', async () => {
  const token = await signUp();
  const context = await browser.newContext();
  try {
    const page = await openPage(context, pages.url);
    await openManager(page, { dbName: uniqueName('close'), tokens: [token], options: { interval: 100 } });
    await page.evaluate(() => window.sync.syncNow());
    const counts = countRequests(page);
    const after = await page.evaluate(async () => {
      window.sync.close();
      window.dispatchEvent(new Event('online'));
      document.dispatchEvent(new Event('visibilitychange'));
      const syncNow = await window.sync.syncNow().then(() => 'resolved', (e) => e.code);
      const write = await window.sync.create('tasks', { id: 'x', title: 'x' }).then(() => 'resolved', (e) => e.code);
      return { syncNow, write };
    });
    assert.deepEqual(after, { syncNow: 'manager_closed', write: 'manager_closed' });
    await new Promise((r) => setTimeout(r, 800));
    assert.deepEqual(counts, { push: 0, pull: 0 });
  } finally {
    await context.close();
  }
});

test('close() during a round ends it: no error status and no answer from it afterwards', async () => {
  const token = await signUp();
  const context = await browser.newContext();
  try {
    const page = await openPage(context, pages.url);
    let release;
    const held = new Promise((resolve) => (release = resolve));
    let reached;
    const pulling = new Promise((resolve) => (reached = resolve));
    await page.route(/\/v1\/pull$/, async (route) => {
      reached();
      await held;
      await route.continue().catch(() => {});
    });
    await openManager(page, { dbName: uniqueName('close-round'), tokens: [token], options: { autoSync: false } });
    const outcome = page.evaluate(() => window.sync.syncNow().then(() => 'resolved', (e) => e.code));
    await pulling;
    const before = await page.evaluate(() => {
      window.sync.close();
      return window.sync.getSyncStatus();
    });
    assert.equal(before.syncing, true);
    assert.equal(await outcome, 'manager_closed');
    release();
    await new Promise((r) => setTimeout(r, 800));
    const status = await page.evaluate(() => window.sync.getSyncStatus());
    assert.equal(status.lastError, null);
    assert.deepEqual(status, before);
  } finally {
    await context.close();
  }
});

test('a panic puts the manager in the error phase, and later calls reject with panicked', async () => {
  const context = await browser.newContext();
  try {
    const page = await openPage(context, pages.url);
    const logged = [];
    page.on('console', (message) => {
      if (message.type() === 'error') logged.push(message.text());
    });
    await openManager(page, { dbName: uniqueName('panic'), tokens: ['unused'], options: { autoSync: false } });
    const outcome = await page.evaluate(async () => {
      const refused = (() => {
        try {
          window.sync.__panicForTests('please');
          return 'returned';
        } catch (e) {
          return `${e.name}:${e.code}`;
        }
      })();
      const thrown = (() => {
        try {
          window.sync.__panicForTests('idb-sync: panic for tests');
          return 'returned';
        } catch (e) {
          return e instanceof WebAssembly.RuntimeError ? 'RuntimeError' : String(e);
        }
      })();
      const status = window.sync.getSyncStatus();
      const last = window.statuses.at(-1);
      const code = (e) => `${e.name}:${e.code}`;
      return {
        refused,
        thrown,
        status: { phase: status.phase, code: status.lastError?.code, cls: status.lastError?.class, syncing: status.syncing },
        published: { phase: last?.phase, code: last?.lastError?.code },
        isLeader: window.sync.isLeader,
        syncNow: await window.sync.syncNow().then(() => 'resolved', code),
        create: await window.sync.create('tasks', { id: 'p1', title: 'x' }).then(() => 'resolved', code),
        open: await window.SyncManager.open({ dbName: 'sync-e2e-after-panic', schema: { tasks: 'id' }, endpoint: 'http://127.0.0.1:1' })
          .then(() => 'resolved', code),
      };
    });
    assert.equal(outcome.refused, 'SyncError:invalid_argument', 'without the confirmation phrase it does not panic');
    assert.equal(outcome.thrown, 'RuntimeError', 'wasm aborts on panic');
    assert.deepEqual(outcome.status, { phase: 'error', code: 'panicked', cls: 'fatal', syncing: false });
    assert.deepEqual(outcome.published, { phase: 'error', code: 'panicked' }, 'subscribers are told');
    assert.equal(outcome.isLeader, false, 'the leadership is released');
    assert.equal(outcome.syncNow, 'SyncError:panicked');
    assert.equal(outcome.create, 'SyncError:panicked');
    assert.equal(outcome.open, 'SyncError:panicked');
    assert.ok(logged.some((text) => text.includes('idb-sync panicked')), 'the panic is logged');
  } finally {
    await context.close();
  }
});

test('bad options reject with their code and the key at fault; good options open', async () => {
  // Every option rule is tested natively (core/src/options/tests.rs); this checks the
  // way there and back: JS values (functions, a circular object) read into core, and
  // the SyncError with `code` and `option` it answers.
  const context = await browser.newContext();
  try {
    const page = await openPage(context, pages.url);
    const out = await page.evaluate(async (endpoint) => {
      const good = { dbName: 'options-check', schema: { tasks: 'id' }, endpoint };
      const circular = {};
      circular.self = circular;
      const cases = {
        notAnObject: 42,
        colour: { ...good, colour: 'red' },
        circularUnknown: { ...good, colour: circular },
        dbName: { ...good, dbName: 42 },
        getToken: { ...good, auth: { getToken: 'not a function' } },
        interval: { ...good, interval: '5s' },
        batchCount: { ...good, batch: { maxCount: 0 } },
        twoFunctions: { ...good, conflict: { default: () => null, tables: { tasks: () => null } } },
        circularSchema: { ...good, schema: { tasks: 'id', x: circular } },
      };
      const refused = {};
      for (const [name, options] of Object.entries(cases)) {
        refused[name] = await window.SyncManager.open(options).then(
          (sync) => (sync.close(), 'opened'),
          (e) => `${e.name}:${e.code}:${e.option}:${e instanceof Error}`,
        );
      }
      const resolve = () => null;
      const sync = await window.SyncManager.open({
        ...good,
        dbName: 'options-good',
        version: 2,
        auth: { getToken: async () => 'token' },
        interval: false,
        conflict: { default: resolve, tables: { tasks: resolve } },
        batch: { maxCount: 5 },
        autoSync: false,
        adopt: 'pull',
      });
      const opened = { name: sync.name, clientId: typeof sync.clientId };
      sync.close();
      return { refused, opened };
    }, server.url);
    assert.deepEqual(out.refused, {
      notAnObject: 'SyncError:invalid_options:options:true',
      colour: 'SyncError:unknown_option:colour:true',
      circularUnknown: 'SyncError:unknown_option:colour:true',
      dbName: 'SyncError:invalid_db_name:dbName:true',
      getToken: 'SyncError:invalid_auth:auth.getToken:true',
      interval: 'SyncError:invalid_interval:interval:true',
      batchCount: 'SyncError:invalid_batch_count:batch.maxCount:true',
      twoFunctions: 'SyncError:invalid_conflict:conflict.tables.tasks:true',
      circularSchema: 'SyncError:invalid_schema:schema.x:true',
    });
    assert.deepEqual(out.opened, { name: 'options-good', clientId: 'string' });
  } finally {
    await context.close();
  }
});
