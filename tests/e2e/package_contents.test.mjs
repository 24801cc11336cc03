// What `npm pack` puts in the tarball: the files an app needs and nothing else — the
// entry points and their declarations (js/), the WebAssembly module and its glue
// (pkg/), the user-facing docs and the screenshot the README links to, the licences the package.json
// names, and the README; every relative link of the README resolves inside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import { ROOT } from '../../scripts/lib/stack.mjs';

const EXPECTED = [
  'LICENSE-APACHE',
  'LICENSE-MIT',
  'README.md',
  'docs/ADAPTERS.md',
  'docs/ERRORS.md',
  'docs/INVARIANTS.md',
  'docs/MIGRATING.md',
  'docs/PROTOCOL.md',
  'docs/SERVER.md',
  'docs/STORAGE.md',
  'docs/SYNC_MANAGER.md',
  'docs/adapters/batched.md',
  'docs/adapters/changeLog.md',
  'docs/adapters/delta.md',
  'docs/adapters/rest.md',
  'docs/demo.png',
  'docs/migrating/seed-000.md',
  'docs/migrating/seed-001.md',
  'docs/migrating/seed-002.md',
  'docs/migrating/seed-003.md',
  'docs/migrating/seed-004.md',
  'js/adapters.d.ts',
  'js/adapters.js',
  'js/after_close.js',
  'js/changes.js',
  'js/index.d.ts',
  'js/index.js',
  'js/live_query.js',
  'js/load.js',
  'js/react.d.ts',
  'js/react.js',
  'js/vue.d.ts',
  'js/vue.js',
  'package.json',
  'pkg-adapters/idb_sync.d.ts',
  'pkg-adapters/idb_sync.js',
  'pkg-adapters/idb_sync_bg.wasm',
  'pkg-adapters/idb_sync_bg.wasm.d.ts',
  'pkg/idb_sync.d.ts',
  'pkg/idb_sync.js',
  'pkg/idb_sync_bg.wasm',
  'pkg/idb_sync_bg.wasm.d.ts',
];

async function packed() {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json'], { cwd: ROOT });
  return JSON.parse(stdout)[0].files.map((f) => f.path).sort();
}

test('the tarball holds the files an app needs, and nothing else', async () => {
  assert.deepEqual(await packed(), EXPECTED);
});

test('every export of package.json and every relative link of the README is in the tarball', async () => {
  const files = new Set(await packed());
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
  assert.match(pkg.license, /MIT/);
  for (const [entry, target] of Object.entries(pkg.exports)) {
    const paths = typeof target === 'string' ? [target] : Object.values(target);
    for (const p of paths) assert.ok(files.has(p.replace(/^\.\//, '')), `export ${entry}: ${p} is packed`);
  }
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const links = [...readme.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
  assert.ok(links.length > 0, 'the README links to its docs');
  for (const link of links) assert.ok(files.has(link), `the README links to ${link}, which is not in the tarball`);
  // The README starts with what an app developer needs, contributor commands after.
  assert.ok(readme.indexOf('## Install') < readme.indexOf('## For contributors'));
  assert.ok(readme.indexOf('npm test') > readme.indexOf('## For contributors'));
});
