// End-to-end: the demo's todo app on SyncManager — a todo added in one browser profile
// reaches the server and shows up on a second device signed in to the same account
// (another browser context with the demo account copied into its localStorage).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, startServer, startDemo } from '../../scripts/lib/stack.mjs';
import { launchBrowser } from './browser.mjs';

const SERVER_BINARY = process.env.IDB_SYNC_SERVER_BIN ?? path.join(ROOT, 'target/debug/idb-sync-server');

let dir, server, demo, browser;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'idb-sync-e2e-demo-'));
  server = await startServer({ binary: SERVER_BINARY, database: path.join(dir, 'server.sqlite3') });
  demo = await startDemo({ serverUrl: server.url });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the demo todo app syncs a todo to a second device of the same account', async () => {
  const first = await browser.newContext();
  const second = await browser.newContext();
  try {
    const page = await first.newPage();
    await page.goto(demo.url);
    await page.locator('#sync-status[data-state="ok"]').waitFor({ timeout: 20_000 });
    await page.fill('#title', 'Buy milk');
    await page.click('#add button:not([type])');
    await page.locator('#todos li', { hasText: 'Buy milk' }).waitFor();
    await page.waitForFunction(() => {
      const s = window.sync.getSyncStatus();
      return s.pending + s.inFlight === 0 && s.lastSyncAt !== null && !s.syncing;
    });
    // The second device signs in to the same account.
    const account = await page.evaluate(() => {
      const key = Object.keys(localStorage).find((k) => k.startsWith('idb-sync-demo-account:'));
      return [key, localStorage.getItem(key)];
    });
    const other = await second.newPage();
    await other.addInitScript(([key, value]) => localStorage.setItem(key, value), account);
    await other.goto(demo.url);
    await other.locator('#todos li', { hasText: 'Buy milk' }).waitFor({ timeout: 20_000 });
    assert.match(await other.locator('#sync-status').textContent(), /^idle, 0 to send/);
  } finally {
    await first.close();
    await second.close();
  }
});
