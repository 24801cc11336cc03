// End-to-end: the demo page, served by Vite, imports the built npm package (pkg/),
// calls its exports, and reaches the real server over HTTP — in headless Chromium;
// the demo account its two devices share survives the server forgetting it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, startServer, startDemo } from '../../scripts/lib/stack.mjs';
import { SERVER_BINARY, startDemoStack } from './demo_stack.mjs';

const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));

let stack, demo, browser;

before(async () => {
  stack = await startDemoStack('idb-sync-e2e-');
  ({ demo, browser } = stack);
});

after(async () => {
  await stack?.stop();
});

test('the demo page loads the wasm package and shows its version', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(demo.url);
    const packageInfo = page.locator('#package[data-state="ok"]');
    await packageInfo.waitFor({ timeout: 20_000 });
    assert.equal(await packageInfo.textContent(), `idb-sync ${version} (protocol v1)`);
  } finally {
    await page.close();
  }
});

test('the demo page reaches the server through the package', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(demo.url);
    const serverInfo = page.locator('#server[data-state="ok"]');
    await serverInfo.waitFor({ timeout: 20_000 });
    const text = await serverInfo.textContent();
    assert.match(text, /answers: ok, server \S+, protocol v1, sqlite/);
  } finally {
    await page.close();
  }
});

test('an unreachable server shows a SyncError with the network code', async () => {
  // A second demo whose server URL points at a port nothing listens on.
  const deadServer = await startServer({ binary: SERVER_BINARY, database: path.join(stack.dir, 'dead.sqlite3') });
  const deadUrl = deadServer.url;
  await deadServer.stop();
  const deadDemo = await startDemo({ serverUrl: deadUrl });
  const page = await browser.newPage();
  try {
    await page.goto(deadDemo.url);
    const serverInfo = page.locator('#server[data-state="error"]');
    await serverInfo.waitFor({ timeout: 20_000 });
    assert.match(await serverInfo.textContent(), /does not answer \(network_error\)/);
  } finally {
    await page.close();
    await deadDemo.close();
  }
});

test('a remembered demo account the server does not know is replaced by a new one', async () => {
  // As after `npm start` with its data folder deleted: localStorage still names an
  // account, the server has never heard of it.
  const context = await browser.newContext();
  try {
    const key = `idb-sync-demo-account:${stack.server.url}`;
    await context.addInitScript((key) => {
      if (localStorage.getItem('seeded')) return;
      localStorage.setItem('seeded', '1');
      localStorage.setItem(key, JSON.stringify({ email: 'forgotten@example.com', password: 'not-this-one' }));
    }, key);
    const page = await context.newPage();
    await page.goto(demo.url);
    for (const frame of ['#laptop', '#phone']) {
      await page.frameLocator(frame).locator('#status[data-state="synced"]').waitFor({ timeout: 20_000 });
    }
    const account = JSON.parse(await page.evaluate((key) => localStorage.getItem(key), key));
    assert.notEqual(account.email, 'forgotten@example.com');
  } finally {
    await context.close();
  }
});
