// The demo page's Vite config. `idb-sync` resolves to this repository's own npm
// package (its package.json `exports`: js/index.js over the wasm-pack output in pkg/),
// exactly as an app that installed it from npm would import it. Two pages: the
// two-device page (index.html) and one device (device.html, framed by it).
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

export default defineConfig({
  root: here,
  resolve: { alias: { 'idb-sync': repo } },
  server: { fs: { allow: [repo] } },
  build: { rollupOptions: { input: [path.join(here, 'index.html'), path.join(here, 'device.html')] } },
  define: { __IDB_SYNC_SERVER__: JSON.stringify('http://127.0.0.1:8787') },
  // The wasm package is loaded with `new URL(..., import.meta.url)`; keep it out of
  // dependency pre-bundling so that URL stays valid.
  optimizeDeps: { exclude: ['idb-sync'] },
});
