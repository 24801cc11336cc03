// Shared set-up of the value and argument e2e tests: the reference server on
// 127.0.0.1 (SQLite), the test page of value_pages/ served by Vite, headless
// Chromium, users signed up on the server, and a SyncManager opened in a page.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, startServer } from '../../scripts/lib/stack.mjs';
import { startPages, openPage } from './pages/server.mjs';
import { launchBrowser } from './browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SERVER_BINARY = process.env.IDB_SYNC_SERVER_BIN ?? path.join(ROOT, 'target/debug/idb-sync-server');

/**
 * Starts server, pages and browser; resolves to the stack with `stop()`. `pagesDir`
 * is the folder of tests/e2e/ whose page loads the package (value_pages by default).
 */
export async function startStack(label, { pagesDir = 'value_pages', database: databaseUrl } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), `idb-sync-e2e-${label}-`));
  const database = databaseUrl ?? path.join(dir, 'server.sqlite3');
  let server = await startServer({ binary: SERVER_BINARY, database });
  const others = [];
  const pages = await startPages({ root: path.join(here, pagesDir) });
  const browser = await launchBrowser();
  let users = 0;
  return {
    /** The running server (`url`, `stop()`); a new one after `restartServer()`. */
    get server() {
      return server;
    },
    browser,
    pages,
    /** Stops the server, runs `whileDown`, and starts it again on the same database
     * and address (what a deploy or a crash looks like to the clients). */
    async restartServer(whileDown = async () => {}) {
      const listen = new URL(server.url).host;
      await server.stop();
      await whileDown();
      server = await startServer({ binary: SERVER_BINARY, database, listen });
    },
    /** Starts another server process on the same database (an instance behind a load
     * balancer); stopped with the stack. */
    async anotherServer() {
      const other = await startServer({ binary: SERVER_BINARY, database });
      others.push(other);
      return other;
    },
    /** A new page with the package loaded, in a fresh browser context. */
    async newPage() {
      const context = await browser.newContext();
      return openPage(context, pages.url);
    },
    /** Signs up a new user; resolves to its bearer token. */
    async signUp() {
      users += 1;
      const response = await fetch(`${server.url}/v1/auth/signup`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: `${label}${users}-${Date.now()}@example.com`, password: 'correct horse battery' }),
      });
      assert.equal(response.status, 201, await response.clone().text());
      return (await response.json()).token;
    },
    async stop() {
      await browser.close();
      await pages.close();
      await server.stop();
      await Promise.all(others.map((other) => other.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh database on the throwaway PostgreSQL cluster (scripts/postgres, started if
 * needed); resolves to its URL, or to `{ skip }` saying why PostgreSQL cannot run here.
 */
export async function postgresDatabase(label) {
  const run = (command, args) =>
    new Promise((resolve) => {
      execFile(command, args, { cwd: ROOT }, (error, stdout, stderr) => resolve({ error, stdout, stderr }));
    });
  const started = await run(path.join(ROOT, 'scripts/postgres'), ['start']);
  if (started.error) return { skip: `PostgreSQL cannot start here: ${started.stderr.trim() || started.error.message}` };
  const admin = new URL(started.stdout.trim().split('\n').at(-1));
  const name = `e2e_${label}_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  const bindir = path.dirname((await run('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin/psql | sort -V | tail -n 1'])).stdout.trim());
  const created = await run(path.join(bindir, 'createdb'), ['-h', admin.hostname, '-p', admin.port, '-U', admin.username, name]);
  assert.equal(created.error, null, `createdb ${name}: ${created.stderr}`);
  admin.pathname = `/${name}`;
  return { url: admin.href };
}

/** A database name no other test uses. */
export function uniqueName(label) {
  return `e2e-${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Opens `window.sync` in `page` (table `tasks: 'id, status'`, no automatic loop). */
export async function openManager(page, { dbName, token, endpoint }) {
  await page.evaluate(
    async ({ dbName, token, endpoint }) => {
      window.sync = await window.SyncManager.open({
        dbName,
        schema: { tasks: 'id, status' },
        endpoint,
        auth: { getToken: async () => token },
        autoSync: false,
      });
    },
    { dbName, token, endpoint },
  );
}

/** Collects the mutations of every push request the page sends. */
export function pushedMutations(page) {
  const mutations = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/v1/push')) mutations.push(...(JSON.parse(request.postData() ?? '{}').mutations ?? []));
  });
  return mutations;
}

/** The records the server holds for the user of `token`, by key (a fresh pull). */
export async function serverRecords(server, token) {
  const out = {};
  let cursor = null;
  for (;;) {
    const response = await fetch(`${server.url}/v1/pull`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ protocolVersion: 1, clientId: 'e2e-inspector', cursor, limit: 500 }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const page = await response.json();
    for (const change of page.changes) out[change.key] = change.deleted ? null : change.data;
    cursor = page.cursor;
    if (!page.hasMore) return out;
  }
}

/** Polls `read` until `check(value)` holds; fails with the last value after `ms`. */
export async function eventually(read, check, what, ms = 15_000) {
  const end = Date.now() + ms;
  let value;
  for (;;) {
    value = await read();
    if (check(value)) return value;
    if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify(value)} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
