// The stack the demo tests run against: a fresh server (SQLite in a temporary
// folder), the demo page on Vite, and headless Chromium. `stop()` tears it all down.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, startServer, startDemo } from '../../scripts/lib/stack.mjs';
import { launchBrowser } from './browser.mjs';

/** The server binary the e2e tests run (built by `scripts/test e2e`). */
export const SERVER_BINARY = process.env.IDB_SYNC_SERVER_BIN ?? path.join(ROOT, 'target/debug/idb-sync-server');

/** Starts server, demo and browser; `prefix` names the temporary folder. */
export async function startDemoStack(prefix) {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  const stack = { dir };
  stack.stop = async () => {
    await stack.browser?.close();
    await stack.demo?.close();
    await stack.server?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    stack.server = await startServer({ binary: SERVER_BINARY, database: path.join(dir, 'server.sqlite3') });
    stack.demo = await startDemo({ serverUrl: stack.server.url });
    stack.browser = await launchBrowser();
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}
