// End-to-end: the demo's todo app on SyncManager — a todo added in one browser profile
// reaches the server and shows up on a second device signed in to the same account
// (another browser context with the demo account copied into its localStorage).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemoStack } from './demo_stack.mjs';

let stack, demo, browser;

before(async () => {
  stack = await startDemoStack('idb-sync-e2e-demo-');
  ({ demo, browser } = stack);
});

after(async () => {
  await stack?.stop();
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
