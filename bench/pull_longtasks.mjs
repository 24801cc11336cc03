// Where the main thread's time goes during a pull (issue 11, "no long tasks"): seeds
// `--n` records on a real idb-sync-server, pulls them into a fresh database in the bench
// page (IndexedDB on disk) and prints the long tasks (> 50 ms) seen, with a CPU profile
// summary of the page's busiest functions. Builds nothing (as bench/run.mjs).
//   node bench/pull_longtasks.mjs [--n 20000] [--profile]
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/lib/stack.mjs';
import { startPages, openPage, ROOT } from '../tests/e2e/pages/server.mjs';
import { CHROMIUM } from '../tests/e2e/browser.mjs';
import { makeRecords } from './records.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const value = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const n = Number(value('n', 20_000));
const exists = (p) => stat(p).then(() => true, () => false);
let binary;
for (const profile of ['server', 'release', 'debug']) {
  const p = path.join(ROOT, `target/${profile}/idb-sync-server`);
  if (!binary && (await exists(p))) binary = p;
}
const workDir = path.join(ROOT, 'target/bench', `longtasks-${Date.now()}`);
await mkdir(path.join(workDir, 'profile'), { recursive: true });
Object.assign(process.env, { IDB_SYNC_RATE_LIMIT_USER: '1000000', IDB_SYNC_RATE_LIMIT_ADDRESS: '1000000' });
const server = await startServer({ binary, database: path.join(workDir, 'server.sqlite3') });
const pages = await startPages({ root: here });
const context = await chromium.launchPersistentContext(path.join(workDir, 'profile'), {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
});
try {
  const signup = await fetch(`${server.url}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: `lt${Date.now()}@example.com`, password: 'correct horse battery' }),
  });
  const { token } = await signup.json();
  const clientId = crypto.randomUUID();
  let seq = 0;
  for (let from = 0; from < n; from += 500) {
    const mutations = makeRecords(Math.min(500, n - from), 'q', from).map((record) => ({
      seq: ++seq, table: 'tasks', key: record.id, op: { kind: 'create', record }, baseVersion: 0,
      hlc: { millis: Date.now(), counter: 0, node: clientId }, mode: 'fieldMerge',
    }));
    const r = await fetch(`${server.url}/v1/push`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ protocolVersion: 1, clientId, mutations }),
    });
    if (r.status !== 200) throw new Error(`seed: ${r.status}`);
  }
  const page = await openPage(context, pages.url);
  await page.evaluate((e) => window.bench.setEnv(e), { idbUrl: server.url, baseUrl: server.url, token });
  const cdp = await context.newCDPSession(page);
  if (argv.includes('--profile')) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
    await cdp.send('Profiler.start');
  }
  const t0 = Date.now();
  const r = await page.evaluate(async ([count, tok]) => {
    const seen = [];
    const obs = new PerformanceObserver((list) => seen.push(...list.getEntries()));
    obs.observe({ type: 'longtask' });
    const out = await window.bench.run('pull/manager', { n: count, token: tok });
    await new Promise((res) => setTimeout(res, 50));
    seen.push(...obs.takeRecords());
    obs.disconnect();
    return { ...out, tasks: seen.map((e) => Math.round(e.duration)) };
  }, [n, token]);
  console.log(`pull ${n}: ${r.ms.toFixed(0)} ms (wall ${Date.now() - t0} ms), ${r.tasks.length} long tasks, longest ${Math.max(0, ...r.tasks)} ms`);
  console.log(`long tasks (ms): ${r.tasks.slice(0, 60).join(' ')}`);
  if (argv.includes('--profile')) {
    const { profile } = await cdp.send('Profiler.stop');
    const self = new Map();
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const dt = profile.timeDeltas;
    profile.samples.forEach((id, i) => {
      const f = byId.get(id).callFrame;
      const name = `${f.functionName || '(anon)'} ${path.basename(f.url)}:${f.lineNumber}`;
      self.set(name, (self.get(name) ?? 0) + (dt[i] ?? 0) / 1000);
    });
    const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30);
    for (const [name, ms] of top) console.log(`${ms.toFixed(0).padStart(7)} ms  ${name}`);
    // Busy stretches (no idle sample) over 50 ms: what ran in them.
    const parent = new Map();
    for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
    const label = (id) => {
      const f = byId.get(id).callFrame;
      return `${f.functionName || '(anon)'}:${f.lineNumber}`;
    };
    let stretch = [];
    const flush = () => {
      const ms = stretch.reduce((a, [, d]) => a + d, 0) / 1000;
      if (ms > 50) {
        const counts = new Map();
        for (const [id, d] of stretch) {
          // the stack's frames, leaf to root, each counted once
          const seenHere = new Set();
          for (let n = id; n != null; n = parent.get(n)) {
            const l = label(n);
            if (!seenHere.has(l)) counts.set(l, (counts.get(l) ?? 0) + d / 1000);
            seenHere.add(l);
          }
        }
        const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 14);
        console.log(`busy ${ms.toFixed(0)} ms: ${top.map(([l, t]) => `${l}=${t.toFixed(0)}`).join(' ')}`);
      }
      stretch = [];
    };
    profile.samples.forEach((id, i) => {
      if (byId.get(id).callFrame.functionName === '(idle)') flush();
      else stretch.push([id, dt[i] ?? 0]);
    });
    flush();
  }
} finally {
  await context.close();
  await pages.close?.();
  await server.stop?.();
}
