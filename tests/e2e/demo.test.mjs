// End-to-end: the demo page, served by Vite, imports the built npm package (pkg/),
// calls its exports, and reaches the real server over HTTP — in headless Chromium.
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
