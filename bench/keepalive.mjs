// The keepalive push's cost to local writes (issue 14, not a test): with auto sync on,
// the leader re-reads the batch its keepalive would send after each change while the
// page is visible (docs/SYNC_MANAGER.md, "After the tab closes"). This times `--n`
// awaited single `put`s, one at a time, in a visible leader page with auto sync on
// (the keepalive reading) and after `stopAutoSync()` (no keepalive, nothing else
// differs: the debounce and intervals are an hour, so no round runs in either), each
// on its own database, IndexedDB on disk (a persistent profile under target/bench/),
// against a real idb-sync-server on loopback. Variants alternate per repetition;
// prints the median time of each and the median of the per-repetition ratios.
// Builds nothing: run `scripts/build-wasm` and `cargo build --profile server -p
// idb-sync-server` first.
//   node bench/keepalive.mjs [--n 500] [--reps 5]
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/lib/stack.mjs';
import { startPages, openPage, ROOT } from '../tests/e2e/pages/server.mjs';
import { CHROMIUM } from '../tests/e2e/browser.mjs';

const argv = process.argv.slice(2);
const value = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const n = Number(value('n', 500));
const reps = Number(value('reps', 5));
const exists = (p) => stat(p).then(() => true, () => false);
let binary;
for (const profile of ['server', 'release', 'debug']) {
  const p = path.join(ROOT, `target/${profile}/idb-sync-server`);
  if (!binary && (await exists(p))) binary = p;
}
const workDir = path.join(ROOT, 'target/bench', `keepalive-${Date.now()}`);
await mkdir(workDir, { recursive: true });
Object.assign(process.env, { IDB_SYNC_RATE_LIMIT_USER: '1000000', IDB_SYNC_RATE_LIMIT_ADDRESS: '1000000' });
const server = await startServer({ binary, database: path.join(workDir, 'server.sqlite3') });
const pages = await startPages({ root: path.join(ROOT, 'tests/e2e/sync_pages') });
const context = await chromium.launchPersistentContext(path.join(workDir, 'profile'), {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-dev-shm-usage'],
});

const response = await fetch(`${server.url}/v1/auth/signup`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ email: `keepalive${Date.now()}@example.com`, password: 'correct horse battery' }),
});
const token = (await response.json()).token;

/** Times `n` awaited puts on a fresh database; `keepalive` false stops auto sync first. */
async function run(keepalive, rep) {
  const page = await openPage(context, pages.url);
  const ms = await page.evaluate(
    async ({ keepalive, n, endpoint, token, dbName }) => {
      const hour = 3_600_000;
      const sync = await window.SyncManager.open({
        dbName,
        schema: { tasks: 'id' },
        endpoint,
        auth: { apiKey: token },
        debounce: hour,
        interval: hour,
        hiddenInterval: hour,
        live: false,
      });
      await sync.syncNow();
      if (!keepalive) sync.stopAutoSync();
      const tasks = sync.table('tasks');
      const start = performance.now();
      for (let i = 0; i < n; i++) await tasks.put({ id: `t${i}`, title: `task ${i}`, done: false });
      const took = performance.now() - start;
      sync.close();
      return took;
    },
    { keepalive, n, endpoint: server.url, token, dbName: `keepalive-bench-${keepalive}-${rep}` },
  );
  await page.close();
  return ms;
}

const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];

try {
  const on = [];
  const off = [];
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? [true, false] : [false, true];
    for (const keepalive of order) (keepalive ? on : off).push(await run(keepalive, rep));
  }
  const ratios = on.map((t, i) => t / off[i]);
  console.log(`${n} awaited single puts, ${reps} repetitions, IndexedDB on disk, ${binary}`);
  console.log(`keepalive reading (auto sync on):  median ${median(on).toFixed(0)} ms (${(median(on) / n).toFixed(2)} ms per put)`);
  console.log(`no keepalive (stopAutoSync()):     median ${median(off).toFixed(0)} ms (${(median(off) / n).toFixed(2)} ms per put)`);
  console.log(`ratio on/off: median ${median(ratios).toFixed(2)} (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)})`);
} finally {
  await context.close();
  await pages.close();
  await server.stop();
}
