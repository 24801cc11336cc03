// End-to-end: the demo page, served by Vite, imports the built npm package (pkg/),
// calls its exports, and reaches the real server over HTTP — in headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, startServer, startDemo } from '../../scripts/lib/stack.mjs';
import { launchBrowser } from './browser.mjs';

const SERVER_BINARY = process.env.IDB_SYNC_SERVER_BIN ?? path.join(ROOT, 'target/debug/idb-sync-server');
const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));

let dir, server, demo, browser;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'idb-sync-e2e-'));
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
  const deadServer = await startServer({ binary: SERVER_BINARY, database: path.join(dir, 'dead.sqlite3') });
  const deadUrl = deadServer.url;
  await deadServer.stop();
  const deadDemo = await startDemo({ serverUrl: deadUrl });
  const page = await browser.newPage();
  try {
    await page.goto(deadDemo.url);
    const serverInfo = page.locator('#server[data-state="error"]');
    await serverInfo.waitFor({ timeout: 20_000 });
    assert.match(await serverInfo.textContent(), /does not answer \(network\)/);
  } finally {
    await page.close();
    await deadDemo.close();
  }
});
