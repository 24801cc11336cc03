// Turns bench/run.mjs's per-repetition timings into the "Browser" section of
// BENCHMARKS.md: per comparison, the median of the per-repetition ratios
// idb-sync ÷ baseline (below 1 = idb-sync is faster) and their min–max, beside the
// target each comparison is held to.
import { readFile, writeFile } from 'node:fs/promises';

/** The comparisons reported: idb-sync case `a` against baseline case `b`. */
export const COMPARISONS = (s) => [
  { label: `bulk write ${s.n} with outbox (LocalDatabase.bulkPut) vs plain Dexie bulkPut (the storage limit)`, a: 'bulk/ours', b: 'bulk/dexie', target: 1.2 },
  { label: `  same vs Dexie bulkPut + syncQueue bulkAdd (one tx)`, a: 'bulk/ours', b: 'bulk/dexieQueue' },
  { label: `${s.singles} awaited puts through SyncManager.table() vs Dexie put + queue add (one tx)`, a: 'put/manager', b: 'put/dexieQueue', target: 1.0, unit: 'ms/write' },
  { label: `  same vs plain Dexie put`, a: 'put/manager', b: 'put/dexie', target: 1.2, unit: 'ms/write' },
  { label: `  same vs the seed 001 create() (add, queue lookup + add, queue count)`, a: 'put/manager', b: 'put/seed', unit: 'ms/write' },
  { label: `${s.singles} awaited puts through LocalDatabase vs Dexie put + queue add (one tx)`, a: 'put/ours', b: 'put/dexieQueue', unit: 'ms/write' },
  { label: `${s.concurrent} concurrent (unawaited) puts through SyncManager.table() vs Dexie put + queue add txs`, a: 'concurrent/manager', b: 'concurrent/dexieQueue' },
  { label: `${s.updates} awaited updates of one key (SyncManager.table().update) vs Dexie get + put + queue add (one tx)`, a: 'updates/manager', b: 'updates/dexieQueue', target: 1.0 },
  { label: `  same vs the seed 001 update() (get, put, queue merge, count)`, a: 'updates/manager', b: 'updates/seed' },
  { label: `toArray of ${s.n}`, a: 'reads/ours', b: 'reads/dexie', target: 1.1 },
  { label: `where('status').equals() → ${s.n / 10} rows`, a: 'reads/ours', b: 'reads/dexie', metric: 'whereMs', target: 1.1 },
  { label: `open() of a ${s.n}-record database: LocalDatabase vs Dexie`, a: 'open/ours', b: 'open/dexie', target: 1.1 },
  { label: `  SyncManager.open() (autoSync off) vs Dexie`, a: 'open/manager', b: 'open/dexie', target: 1.1 },
  { label: `  SyncManager.open() until its background adoption scan is over (getPendingCount()) vs Dexie`, a: 'open/managerScan', b: 'open/dexie' },
  { label: `push ${s.push} (writes → last push acknowledged) vs Dexie + batched POST of 1,000`, a: 'push/manager', b: 'push/batched', target: 1.0 },
  {
    label: `  same vs the seed 001 per-item layer${s.seedPush !== s.push ? ` (${s.seedPush} records; compared per record)` : ''}`,
    a: 'push/manager',
    b: 'push/seed',
    metric: 'msPerRecord',
  },
  ...s.pulls.flatMap((n) => [
    { label: `pull ${n} into an empty database vs plain Dexie bulkPut of the same records (the storage limit)`, a: `pull/manager@${n}`, b: `pull/dexie@${n}`, target: 1.1 },
    { label: `  same vs batched Dexie layer (fetch pages of 1,000 + bulkPut)`, a: `pull/manager@${n}`, b: `pull/batched@${n}` },
    { label: `  same vs the seed 001 fullSync (one GET, get + add per record)`, a: `pull/manager@${n}`, b: `pull/seed@${n}` },
  ]),
];

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Median times and ratios of each comparison whose cases both ran. */
export function summarize(results, comparisons) {
  return comparisons.flatMap((c) => {
    const metric = c.metric ?? 'ms';
    const a = results[c.a]?.map((r) => r[metric]);
    const b = results[c.b]?.map((r) => r[metric]);
    if (!a?.length || !b?.length) return [];
    const reps = Math.min(a.length, b.length);
    const ratios = a.slice(0, reps).map((x, i) => x / b[i]);
    return [{ ...c, metric, reps, a: median(a), b: median(b), ratio: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }];
  });
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const time = (ms, unit) => (unit ? `${fmt(ms)} ${unit}` : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${fmt(ms)} ms`);
const kib = (b) => `${(b / 1024).toFixed(1)} KiB`;
const mib = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** The markdown section (heading included). */
export function renderSection(run, summary, results, notes) {
  const { sizes, hardware } = run;
  const lines = [
    '## Browser',
    '',
    `Measured by \`npm run bench\`${run.quick ? ' **--quick** (small sizes, 2 repetitions: a smoke test, not a measurement)' : ''} (bench/run.mjs) on ${run.date}: headless Chromium ${run.chromium},`,
    `a **persistent profile** (IndexedDB on disk, as users have it: ${run.onDisk?.present ? `the profile's \`Default/IndexedDB\` folder held ${run.onDisk.files} files, ${kib(run.onDisk.bytes)}, for the two 1,000-record databases the run leaves there` : 'the IndexedDB folder was NOT found'}),`,
    `idb-sync's release package syncing with the real \`idb-sync-server\` (${run.serverBinary}, SQLite in a temp file, rate limits lifted),`,
    'the Dexie baselines in the same page syncing with `bench/baseline-server.mjs` (Node, in memory, no auth: cheaper per request than ours, so it flatters the baselines).',
    `${sizes.reps} repetitions after a warm-up; in each, a case's variants run back to back (the order rotating per repetition), each in a fresh database.`,
    `Ratio = idb-sync ÷ baseline (**below 1 = idb-sync is faster**; the previous version of this file used the inverse), median of the per-repetition ratios, with their min–max.`,
    `Records ~250 B of JSON. Machine: ${hardware.nproc} cores (\`nproc\`), ${hardware.model}, ${hardware.memoryGiB} GiB, shared with other work (load average ${run.load.map((l) => l.toFixed(1)).join(' → ')} over the run). Run time ${(run.seconds / 60).toFixed(1)} min.`,
    '',
    '| case | idb-sync | baseline | ratio (median) | min–max | target | |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...summary.map((r) => {
      const unit = r.metric === 'msPerRecord' ? 'ms/record' : r.unit;
      const verdict = r.target == null ? '' : r.ratio <= r.target ? 'met' : '**missed**';
      return `| ${r.label.replace(/^ {2}/, '↳ ')} | ${time(r.a, unit)} | ${time(r.b, unit)} | ${r.ratio.toFixed(2)}× | ${r.min.toFixed(2)}–${r.max.toFixed(2)} | ${r.target == null ? '–' : `≤ ${r.target}×`} | ${verdict} |`;
    }),
    '',
    `**Long tasks** (PerformanceObserver \`longtask\`, > 50 ms) during the pulls, per repetition: median count / longest over all repetitions.`,
    '',
    '| pull | idb-sync | plain Dexie bulkPut | batched Dexie | seed 001 fullSync |',
    '|---|---:|---:|---:|---:|',
    ...sizes.pulls.map((n) => {
      const cell = (c) => {
        const rs = results[`${c}@${n}`];
        return rs?.length ? `${median(rs.map((r) => r.longTasks))} / ${Math.max(...rs.map((r) => r.longestTask))} ms` : '–';
      };
      return `| ${n} | ${cell('pull/manager')} | ${cell('pull/dexie')} | ${cell('pull/batched')} | ${cell('pull/seed')} |`;
    }),
    '',
    `**Pushed after ${sizes.updates} updates of one record** (push request bodies only, first repetition; idb-sync's pull requests not counted):`,
    '',
    '| layer | push requests | bytes |',
    '|---|---:|---:|',
    ...[
      ['idb-sync (SyncManager)', 'updates/manager'],
      ['Dexie + queue, batched POST (one queue entry per write)', 'updates/dexieQueue'],
      ['seed 001 (merges queue entries per record, one request each)', 'updates/seed'],
    ].map(([label, c]) => {
      const r = results[c]?.[0];
      return r ? `| ${label} | ${r.sentRequests} | ${kib(r.sentBytes)} |` : `| ${label} | – | – |`;
    }),
    '',
  ];
  const push = results['push/manager'];
  if (push?.length) lines.push(`Push ${sizes.push}: idb-sync ran ${median(push.map((r) => r.rounds))} round(s) and sent ${median(push.map((r) => r.sentRequests))} push requests (default batch of 500 mutations) per repetition; the batched Dexie layer sends ${Math.ceil(sizes.push / 1000)}.`, '');
  if (run.million?.error) {
    lines.push(`**${sizes.million.toLocaleString('en')}-record first sync** (\`--million\`) **failed**: ${run.million.error}`, '');
  } else if (run.million) {
    const m = run.million;
    lines.push(
      `**${sizes.million.toLocaleString('en')}-record first sync** (one run, \`--million\`): idb-sync ${(m['pull/manager'].ms / 1000).toFixed(1)} s` +
        ` (peak JS heap ${mib(m['pull/manager'].peakHeap)}, wasm memory ${mib(m['pull/manager'].wasmBytes)}, renderer RSS summed over processes ${mib(m['pull/manager'].peakRss)}, ${m['pull/manager'].longTasks} long tasks, longest ${m['pull/manager'].longestTask} ms);` +
        ` batched Dexie ${(m['pull/batched'].ms / 1000).toFixed(1)} s (peak JS heap ${mib(m['pull/batched'].peakHeap)}, renderer RSS ${mib(m['pull/batched'].peakRss)}).` +
        ` PowerSync publishes 61.6 s for 1M rows with its Rust client on a phone; this machine is the one named above.`,
      '',
    );
  } else {
    lines.push('The 1,000,000-record first sync runs with `--million` (not part of this run).', '');
  }
  lines.push(notes.trim(), '');
  return lines.join('\n');
}

/** Replaces the browser section of `file` (the old "Browser storage" one too), keeping the others. */
export async function writeSection(file, section) {
  let text = await readFile(file, 'utf8').catch(() => '# Benchmarks\n');
  const start = ['\n## Browser\n', '\n## Browser storage\n'].map((h) => text.indexOf(h)).find((i) => i >= 0);
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + 1);
    text = `${text.slice(0, start + 1)}${section}${next >= 0 ? text.slice(next) : ''}`;
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  await writeFile(file, text);
}
