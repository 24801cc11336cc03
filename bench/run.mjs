// `npm run bench`: idb-sync's browser storage against Dexie in the same headless
// Chromium page and run. Builds nothing: run scripts/build-wasm first. Prints medians
// and ratios and rewrites the "Browser storage" section of BENCHMARKS.md (other
// sections are kept). Not part of `npm test`.
//   node bench/run.mjs [--reps 5] [--n 10000] [--singles 200] [--no-write]
import { readFile, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from '../tests/e2e/browser.mjs';
import { startPages, openPage, ROOT } from '../tests/e2e/pages/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const options = { n: arg('n', 10_000), reps: arg('reps', 5), singles: arg('singles', 200) };

await stat(path.join(ROOT, 'pkg/idb_sync_bg.wasm')).catch(() => {
  console.error('pkg/ is missing: run scripts/build-wasm first');
  process.exit(1);
});

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const pages = await startPages({ root: here });
const browser = await launchBrowser();
let out;
try {
  const page = await openPage(await browser.newContext(), pages.url);
  const started = Date.now();
  out = await page.evaluate((o) => window.runBench(o), options);
  out.seconds = (Date.now() - started) / 1000;
  out.chromium = browser.version();
} finally {
  await browser.close();
  await pages.close();
}

const m = Object.fromEntries(Object.entries(out.results).map(([k, v]) => [k, median(v)]));
// Ratio = Dexie's time / ours: above 1.0 we are faster.
const rows = [
  [`bulkPut ${options.n} with outbox vs Dexie bulkPut + syncQueue bulkAdd (one tx)`, 'oursBulkPut', 'dexieBulkPutWithQueue', 1.0, 'ms'],
  [`bulkPut ${options.n} with outbox vs plain Dexie bulkPut`, 'oursBulkPut', 'dexieBulkPut', 0.6, 'ms'],
  ['one awaited put with outbox vs Dexie put + queue add (one tx)', 'oursPut', 'dexiePutWithQueue', 1.0, 'ms/op'],
  ['one awaited put with outbox vs plain Dexie put (for reference)', 'oursPut', 'dexiePut', null, 'ms/op'],
  [`toArray of ${options.n}`, 'oursToArray', 'dexieToArray', 0.9, 'ms'],
];
const fmt = (x) => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
const table = [
  '| case | idb-sync | Dexie | ratio (Dexie / idb-sync) | target | |',
  '|---|---:|---:|---:|---:|---|',
  ...rows.map(([label, ours, dexie, target, unit]) => {
    const ratio = m[dexie] / m[ours];
    const verdict = target == null ? '' : ratio >= target ? 'met' : '**short**';
    return `| ${label} | ${fmt(m[ours])} ${unit} | ${fmt(m[dexie])} ${unit} | ${ratio.toFixed(2)}× | ${target == null ? '–' : `≥ ${target}×`} | ${verdict} |`;
  }),
];
console.log(table.join('\n'));
console.log(`raw (ms): ${JSON.stringify(out.results)}`);

if (!process.argv.includes('--no-write')) {
  const file = path.join(ROOT, 'BENCHMARKS.md');
  let text = await readFile(file, 'utf8').catch(() => '# Benchmarks\n');
  const notesFile = path.join(here, 'NOTES.md');
  const notes = await readFile(notesFile, 'utf8').catch(() => '');
  const section = [
    '## Browser storage',
    '',
    `Measured by \`npm run bench\` (bench/run.mjs) on ${new Date().toISOString().slice(0, 10)}: headless Chromium ${out.chromium},`,
    `idb-sync's release package and dexie in the same page, ${options.reps} interleaved repetitions after a warm-up,`,
    `medians; ${options.n} records of ~${out.recordBytes} B of JSON; single puts averaged over ${options.singles} sequential awaited calls;`,
    'a fresh database per case and repetition. The machine is shared (2 cores), so expect noise of ±10–20 %.',
    '',
    ...table,
    '',
    notes.trim(),
    '',
  ].join('\n');
  const start = text.indexOf('## Browser storage');
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + 1);
    text = text.slice(0, start) + section + (next >= 0 ? text.slice(next + 1) : '');
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  await writeFile(file, text);
  console.log(`updated ${path.relative(process.cwd(), file)} (${out.seconds.toFixed(0)} s in the browser)`);
}
