// `npm run bench`: idb-sync against hand-written Dexie sync layers in one headless
// Chromium page, with IndexedDB ON DISK (a persistent profile under target/bench/),
// idb-sync syncing with the real idb-sync-server (SQLite, temp file) and the Dexie
// baselines with bench/baseline-server.mjs (in memory). Every repetition runs each
// case's variants back to back (interleaved, the order rotating per repetition); the
// report gives, per comparison, the median of the per-repetition ratios
// idb-sync time ÷ baseline time (below 1 = idb-sync is faster) and their min–max.
// Builds nothing: run scripts/build-wasm and `cargo build --profile server -p
// idb-sync-server` first. Rewrites the "Browser" section of BENCHMARKS.md from its
// output plus bench/NOTES.md (other sections are kept). Timings never gate tests.
//   node bench/run.mjs [--quick] [--million] [--reps 5] [--no-write] [--only open,reads]
//   (--only: just the groups whose cases start with these names, e.g. `open`, `pull`;
//    a partial run prints its table but leaves BENCHMARKS.md alone)
//   (sizes: --n 10000 --singles 1000 --concurrent 100 --updates 1000 --push 10000
//    --seed-push 1000 --pulls 10000,100000)
import { mkdir, readdir, stat, writeFile, readFile } from 'node:fs/promises';
import { execSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/lib/stack.mjs';
import { startPages, openPage, ROOT } from '../tests/e2e/pages/server.mjs';
import { CHROMIUM } from '../tests/e2e/browser.mjs';
import { startBaselineServer } from './baseline-server.mjs';
import { makeRecords } from './records.mjs';
import { COMPARISONS, summarize, renderSection, writeSection } from './report.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const value = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const quick = flag('quick');
const base = quick
  ? { n: 1000, singles: 50, concurrent: 100, updates: 100, push: 1000, seedPush: 100, pulls: '1000,5000', reps: 2 }
  : { n: 10_000, singles: 1000, concurrent: 100, updates: 1000, push: 10_000, seedPush: 1000, pulls: '10000,100000', reps: 5 };
const sizes = {
  n: Number(value('n', base.n)),
  singles: Number(value('singles', base.singles)),
  concurrent: Number(value('concurrent', base.concurrent)),
  updates: Number(value('updates', base.updates)),
  push: Number(value('push', base.push)),
  seedPush: Number(value('seed-push', base.seedPush)),
  pulls: String(value('pulls', base.pulls)).split(',').map(Number),
  reps: Number(value('reps', base.reps)),
  million: flag('million') ? Number(value('million-n', 1_000_000)) : 0,
};
const only = value('only', '') ? String(value('only')).split(',') : null;
const selected = (cases) => !only || cases.some((c) => only.includes(c.split('/')[0]));

const exists = (p) => stat(p).then(() => true, () => false);
if (!(await exists(path.join(ROOT, 'pkg/idb_sync_bg.wasm')))) {
  console.error('pkg/ is missing: run scripts/build-wasm first');
  process.exit(1);
}
let serverBinary = process.env.IDB_SYNC_SERVER_BIN;
for (const profile of ['server', 'release', 'debug']) {
  const p = path.join(ROOT, `target/${profile}/idb-sync-server`);
  if (!serverBinary && (await exists(p))) serverBinary = p;
}
if (!serverBinary) {
  console.error('no idb-sync-server binary: run `cargo build --profile server -p idb-sync-server` first');
  process.exit(1);
}
if (serverBinary.includes('/debug/')) console.warn(`warning: ${serverBinary} is a debug build; numbers will flatter the baselines`);

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const workDir = path.join(ROOT, 'target/bench', stamp);
const profileDir = path.join(workDir, 'profile');
await mkdir(profileDir, { recursive: true });
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s]`, ...a);
const t0 = Date.now();

// The bench opens more connections and pulls more than an app: lift the server's
// per-user and per-address request limits (they answer 429, they cost nothing).
Object.assign(process.env, { IDB_SYNC_RATE_LIMIT_USER: '1000000', IDB_SYNC_RATE_LIMIT_ADDRESS: '1000000', IDB_SYNC_RATE_LIMIT_AUTH: '100000' });
const server = await startServer({ binary: serverBinary, database: path.join(workDir, 'server.sqlite3') });
const baseline = await startBaselineServer();
const pages = await startPages({ root: here });
const context = await chromium.launchPersistentContext(profileDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});

let users = 0;
async function signUp() {
  users += 1;
  const response = await fetch(`${server.url}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: `bench${users}-${Date.now()}@example.com`, password: 'correct horse battery' }),
  });
  if (response.status !== 201) throw new Error(`signup: ${response.status} ${await response.text()}`);
  return (await response.json()).token;
}

/** Stores `n` records (tag `tag`) on both servers, as another device would have written them. */
async function seedServers(n, tag, space) {
  const token = await signUp();
  const clientId = crypto.randomUUID();
  let seq = 0;
  for (let from = 0; from < n; from += 500) {
    const records = makeRecords(Math.min(500, n - from), tag, from);
    const mutations = records.map((record) => ({
      seq: ++seq,
      table: 'tasks',
      key: record.id,
      op: { kind: 'create', record },
      baseVersion: 0,
      hlc: { millis: Date.now(), counter: 0, node: clientId },
      mode: 'fieldMerge',
    }));
    const response = await fetch(`${server.url}/v1/push`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ protocolVersion: 1, clientId, mutations }),
    });
    if (response.status !== 200) throw new Error(`seed push: ${response.status} ${await response.text()}`);
    const { results } = await response.json();
    if (results.some((r) => r.status !== 'applied')) throw new Error(`seed push not applied: ${JSON.stringify(results[0])}`);
    baseline.seed(space, records);
  }
  return token;
}

/** Sum of the resident memory of the profile's renderer processes, bytes. */
function rendererRss() {
  try {
    const out = execSync(`ps -eo rss=,args= | grep -F -- '${profileDir}' | grep -F -- '--type=renderer' | grep -v grep`, { encoding: 'utf8' });
    return out.split('\n').filter(Boolean).reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[0]) * 1024, 0);
  } catch {
    return 0;
  }
}

/** Files and bytes under the profile's IndexedDB folder. */
async function indexedDbOnDisk() {
  const dir = path.join(profileDir, 'Default/IndexedDB');
  let files = 0;
  let bytes = 0;
  const walk = async (d) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        files += 1;
        bytes += (await stat(p)).size;
      }
    }
  };
  const present = await exists(dir);
  if (present) await walk(dir);
  return { dir: path.relative(ROOT, dir), present, files, bytes, origins: present ? await readdir(dir) : [] };
}

const results = {}; // case name → [{ ms, ... } per repetition]
const extras = {};
let out = 'failed';
try {
  const page = await openPage(context, pages.url);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  let sent = { requests: 0, bytes: 0 };
  // Push requests only (idb-sync's pulls are POSTs too).
  page.on('request', (r) => {
    if (/\/v1\/push$|\/api\/(batch|tasks)/.test(r.url()) && r.method() !== 'GET') {
      sent.requests += 1;
      sent.bytes += r.postDataBuffer()?.length ?? 0;
    }
  });
  await page.evaluate((e) => window.bench.setEnv(e), { idbUrl: server.url, baseUrl: baseline.url, token: await signUp() });

  const run = async (name, params, { record = true } = {}) => {
    sent = { requests: 0, bytes: 0 };
    const r = await page.evaluate(([n, p]) => window.bench.run(n, p), [name, params]);
    if (r.finish) {
      sent = { requests: 0, bytes: 0 };
      Object.assign(r, await page.evaluate(() => window.bench.finish()));
    }
    Object.assign(r, { sentRequests: sent.requests, sentBytes: sent.bytes });
    if (record) (results[name] ??= []).push(r);
    log(`${name} ${JSON.stringify(params.n ?? params.singles ?? params.updates ?? params.concurrent ?? '')}: ${r.ms.toFixed(2)} ms`, r.longTasks != null ? `(long tasks ${r.longTasks}, longest ${r.longestTask} ms)` : '');
    return r;
  };

  log(`sizes ${JSON.stringify(sizes)}; server ${path.relative(ROOT, serverBinary)}; profile ${path.relative(ROOT, profileDir)}`);
  const pullTokens = {};
  for (const n of selected(['pull/']) ? new Set([200, ...sizes.pulls]) : []) {
    const t = Date.now();
    pullTokens[n] = await seedServers(n, 'q', `pull-${n}`);
    log(`seeded ${n} records on both servers in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }

  let fresh = 0;
  const space = (what) => `${what}-${++fresh}`;
  const allGroups = [
    { cases: ['bulk/ours', 'bulk/dexie', 'bulk/dexieQueue'], params: async () => ({ n: sizes.n }) },
    { cases: ['put/manager', 'put/dexieQueue', 'put/dexie', 'put/ours', 'put/seed'], params: async () => ({ singles: sizes.singles }) },
    { cases: ['concurrent/manager', 'concurrent/dexieQueue'], params: async () => ({ concurrent: sizes.concurrent }) },
    { cases: ['updates/manager', 'updates/dexieQueue', 'updates/seed'], params: async (c) => ({ updates: sizes.updates, space: space('upd'), ...(c.endsWith('manager') && { token: await signUp() }) }) },
    { cases: ['reads/ours', 'reads/dexie'], params: async () => ({ n: sizes.n }) },
    { cases: ['open/ours', 'open/dexie', 'open/manager', 'open/managerScan'], params: async () => ({ n: sizes.n }) },
    {
      cases: ['push/manager', 'push/batched', ...(sizes.seedPush > 0 ? ['push/seed'] : [])],
      params: async (c) => ({ n: c === 'push/seed' ? sizes.seedPush : sizes.push, space: space('push'), ...(c.endsWith('manager') && { token: await signUp() }) }),
    },
    ...sizes.pulls.map((n) => ({
      suffix: `@${n}`,
      cases: ['pull/manager', 'pull/dexie', 'pull/batched', 'pull/seed'],
      params: async () => ({ n, tag: 'q', token: pullTokens[n], space: `pull-${n}` }),
    })),
  ];
  const groups = allGroups.filter((g) => selected(g.cases));

  // Warm-up (JIT, wasm, the IndexedDB backend, HTTP connections): every case once, small.
  const small = { n: 200, singles: 10, concurrent: 10, updates: 10, tag: 'q', token: pullTokens[200], space: 'pull-200' };
  for (const g of groups) {
    for (const c of g.cases) {
      const own = c.startsWith('pull/') ? {} : { space: space('warm'), ...(c.endsWith('/manager') && { token: await signUp() }) };
      await run(c, { ...small, ...own }, { record: false });
    }
  }
  await page.evaluate(() => window.bench.leaveOnDisk());
  extras.onDisk = await indexedDbOnDisk();
  log(`IndexedDB on disk: ${JSON.stringify(extras.onDisk)}`);

  const load = [os.loadavg()[0]];
  for (let rep = 0; rep < sizes.reps; rep++) {
    log(`repetition ${rep + 1} of ${sizes.reps}`);
    for (const g of groups) {
      const k = rep % g.cases.length;
      for (const c of [...g.cases.slice(k), ...g.cases.slice(0, k)]) {
        await run(c, await g.params(c));
        if (g.suffix) {
          results[c + g.suffix] ??= [];
          results[c + g.suffix].push(results[c].pop());
        }
      }
    }
    load.push(os.loadavg()[0]);
  }
  extras.load = load;

  // The million-record first sync runs last; if it fails, its error is reported and
  // every figure measured before it is still written.
  if (sizes.million && !only) try {
    const n = sizes.million;
    const t = Date.now();
    const token = await seedServers(n, 'm', `pull-${n}`);
    log(`seeded ${n} records in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    extras.million = {};
    for (const c of ['pull/manager', 'pull/batched']) {
      let peakHeap = 0;
      let peakRss = 0;
      const sampler = setInterval(async () => {
        try {
          const { metrics } = await cdp.send('Performance.getMetrics');
          peakHeap = Math.max(peakHeap, metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0);
          peakRss = Math.max(peakRss, rendererRss());
        } catch {}
      }, 1000);
      const r = await run(c, { n, tag: 'm', token, space: `pull-${n}` }, { record: false });
      clearInterval(sampler);
      extras.million[c] = { ...r, peakHeap, peakRss };
      log(`${c} ${n}: ${(r.ms / 1000).toFixed(1)} s, peak JS heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB, renderer RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
    }
  } catch (e) {
    extras.million = { ...extras.million, error: String(e?.message ?? e).split('\n')[0] };
    log(`the ${sizes.million}-record first sync failed: ${extras.million.error}`);
  }
  extras.chromium = context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent)).match(/Chrome\/([\d.]+)/)?.[1];
  out = 'ok';
} finally {
  await context.close();
  await pages.close();
  await baseline.close();
  await server.stop();
}

const cpu = os.cpus();
const hardware = {
  cpus: cpu.length,
  nproc: Number(execSync('nproc', { encoding: 'utf8' }).trim()),
  model: cpu[0]?.model ?? 'unknown',
  memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
};
const meta = { date: new Date().toISOString().slice(0, 10), quick, only, sizes, hardware, serverBinary: path.relative(ROOT, serverBinary), seconds: (Date.now() - t0) / 1000, ...extras };
await writeFile(path.join(workDir, 'results.json'), JSON.stringify({ run: meta, results }, null, 1));
const summary = summarize(results, COMPARISONS(sizes));
const section = renderSection(meta, summary, results, await readFile(path.join(here, 'NOTES.md'), 'utf8').catch(() => ''));
console.log(section);
if (out === 'ok' && !flag('no-write') && !only) {
  await writeSection(path.join(ROOT, 'BENCHMARKS.md'), section);
  log(`updated BENCHMARKS.md; raw results in ${path.relative(ROOT, workDir)}/results.json`);
}
