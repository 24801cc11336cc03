// The package in an app's production build (Vite): an app that imports only the core
// entry gets no React or Vue code (the bindings are separate entry points), the
// loading-on-open wrapper survives tree-shaking, and the built app works in the
// browser without calling `init()`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../../scripts/lib/stack.mjs';
import { launchBrowser } from './browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Serves `dir` statically on 127.0.0.1 (wasm with its MIME type). */
function serve(dir) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer(async (request, response) => {
    const file = path.join(dir, new URL(request.url, 'http://x').pathname.replace(/\/$/, '/index.html'));
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('a production build of an app importing idb-sync carries no framework code and works without init()', async () => {
  const { build } = await import('vite');
  const outDir = await mkdtemp(path.join(tmpdir(), 'idb-sync-bundle-'));
  try {
    await build({
      configFile: false,
      root: path.join(here, 'bundle_app'),
      logLevel: 'warn',
      resolve: { alias: { 'idb-sync': ROOT } },
      build: { outDir, emptyOutDir: true, target: 'es2022' },
    });
    const assets = await readdir(path.join(outDir, 'assets'));
    const js = (await Promise.all(assets.filter((f) => f.endsWith('.js')).map((f) => readFile(path.join(outDir, 'assets', f), 'utf8')))).join('\n');
    assert.ok(assets.some((f) => f.endsWith('.wasm')), `the wasm module is emitted: ${assets}`);
    for (const framework of ['useLiveQuery', 'createContext', 'onScopeDispose', 'provideSync']) {
      assert.ok(!js.includes(framework), `no ${framework} in an app that does not import the bindings`);
    }
    const server = await serve(outDir);
    const browser = await launchBrowser();
    try {
      const page = await (await browser.newContext()).newPage();
      await page.goto(`http://127.0.0.1:${server.address().port}/`);
      const state = page.locator('#state:not([data-state="loading"])');
      await page.waitForFunction(() => document.querySelector('#state').dataset.state, null, { timeout: 30_000 });
      assert.equal(await state.textContent(), 'from a production bundle');
    } finally {
      await browser.close();
      server.close();
    }
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
});
