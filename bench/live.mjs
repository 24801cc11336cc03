// Live sync latency (issue 14, not a test): the time from device A's write to device B
// having it, on loopback against a real idb-sync-server, with push on (`live: true`,
// B pulls on the server's poke) and off (`live: false`, B polls every `--interval`
// ms). A pushes each write at once (`debounce: 0`); B records `Date.now() - at` when
// the record arrives (`onChange` with source 'remote'; one browser, so one clock).
// Prints p50/p99 per mode. Builds nothing: run `scripts/build-wasm` and
// `cargo build -p idb-sync-server` (or --profile server) first.
//   node bench/live.mjs [--n 200] [--interval 1000]
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { startServer } from '../scripts/lib/stack.mjs';
import { startPages, openPage, ROOT } from '../tests/e2e/pages/server.mjs';
import { launchBrowser } from '../tests/e2e/browser.mjs';

const argv = process.argv.slice(2);
const value = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const n = Number(value('n', 200));
const pollInterval = Number(value('interval', 1000));
const exists = (p) => stat(p).then(() => true, () => false);
let binary;
for (const profile of ['server', 'release', 'debug']) {
  const p = path.join(ROOT, `target/${profile}/idb-sync-server`);
  if (!binary && (await exists(p))) binary = p;
}
const workDir = path.join(ROOT, 'target/bench', `live-${Date.now()}`);
await mkdir(workDir, { recursive: true });
Object.assign(process.env, { IDB_SYNC_RATE_LIMIT_USER: '1000000', IDB_SYNC_RATE_LIMIT_ADDRESS: '1000000' });
const server = await startServer({ binary, database: path.join(workDir, 'server.sqlite3') });
const pages = await startPages({ root: path.join(ROOT, 'tests/e2e/sync_pages') });
const browser = await launchBrowser();

async function token() {
  const response = await fetch(`${server.url}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: `live${Date.now()}${Math.random()}@example.com`, password: 'correct horse battery' }),
  });
  return (await response.json()).token;
}

async function open(page, options) {
  await page.evaluate(
    async ({ token, ...options }) => {
      window.sync = await window.SyncManager.open({ schema: { tasks: 'id' }, ...options, auth: { apiKey: token } });
    },
    options,
  );
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function run(live) {
  const key = await token();
  const a = await openPage(await browser.newContext(), pages.url);
  const b = await openPage(await browser.newContext(), pages.url);
  const common = { endpoint: server.url, token: key, hiddenInterval: 3_600_000 };
  await open(a, { ...common, dbName: `live-bench-a-${live}`, debounce: 0, interval: 3_600_000, live: false });
  await open(b, { ...common, dbName: `live-bench-b-${live}`, interval: live ? 3_600_000 : pollInterval, live });
  await b.evaluate(() => {
    window.latencies = [];
    window.sync.onChange('tasks', async (change) => {
      if (change.source !== 'remote') return;
      const arrived = Date.now();
      for (const id of change.keys) {
        const record = await window.sync.table('tasks').get(id);
        if (record) window.latencies.push(arrived - record.at);
      }
    });
  });
  if (live) await b.waitForFunction(() => window.sync.getSyncStatus().live === 'push', null, { polling: 50 });
  for (let i = 0; i < n; i++) {
    await a.evaluate((id) => window.sync.create('tasks', { id, at: Date.now() }), `t${i}`);
    await b.waitForFunction((count) => window.latencies.length >= count, i + 1, { polling: 10, timeout: 60_000 });
    // The next write at a random point of B's poll interval (polling is then not in
    // phase with the writes: its mean wait is half the interval); push: 20-100 ms.
    const pause = live ? 20 + Math.random() * 80 : Math.random() * pollInterval;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
  const latencies = (await b.evaluate(() => window.latencies)).sort((x, y) => x - y);
  await a.close();
  await b.close();
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), n: latencies.length };
}

try {
  const push = await run(true);
  const poll = await run(false);
  console.log(`writes: ${n} per mode, loopback, ${path.basename(binary)} at ${binary}`);
  console.log(`push on  (live: true):                p50 ${push.p50} ms, p99 ${push.p99} ms (n ${push.n})`);
  console.log(`push off (live: false, interval ${pollInterval} ms): p50 ${poll.p50} ms, p99 ${poll.p99} ms (n ${poll.n})`);
} finally {
  await browser.close();
  await pages.close();
  await server.stop();
}
