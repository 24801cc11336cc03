// The demo page's Vite config. `idb-sync` resolves to this repository's own npm
// package (its package.json `exports`, i.e. the wasm-pack output in pkg/), exactly
// as an app that installed it from npm would import it.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

export default defineConfig({
  root: here,
  resolve: { alias: { 'idb-sync': repo } },
  server: { fs: { allow: [repo] } },
  define: { __IDB_SYNC_SERVER__: JSON.stringify('http://127.0.0.1:8787') },
  // The wasm package is loaded with `new URL(..., import.meta.url)`; keep it out of
  // dependency pre-bundling so that URL stays valid.
  optimizeDeps: { exclude: ['idb-sync'] },
});
