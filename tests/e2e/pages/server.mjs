// Serves tests/e2e/pages (or another page folder) with Vite, resolving `idb-sync` to
// this repository's npm package (pkg/), like examples/demo does.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../../..');

/** Starts Vite on `root` (default: this folder); resolves to `{ url, close }`. */
export async function startPages({ root = here, host = '127.0.0.1' } = {}) {
  const { createServer } = await import('vite');
  const server = await createServer({
    configFile: false,
    root,
    logLevel: 'warn',
    // The subpath entries (`idb-sync/adapters`, …) first: an alias replaces a prefix,
    // and the package's `exports` map is not read through it.
    resolve: {
      alias: [
        { find: /^idb-sync\/(adapters|react|vue)$/, replacement: path.join(ROOT, 'js/$1.js') },
        { find: /^idb-sync$/, replacement: ROOT },
      ],
    },
    server: { host, port: 0, fs: { allow: [ROOT] } },
    optimizeDeps: { exclude: ['idb-sync'], include: ['dexie'] },
  });
  await server.listen();
  const { port } = server.httpServer.address();
  return { url: `http://${host}:${port}/`, close: () => server.close() };
}

/** Opens the page in `context` and waits until the wasm package is initialised. */
export async function openPage(context, url) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e));
  await page.goto(url);
  await page.locator('#state[data-state="ready"]').waitFor({ timeout: 30_000 });
  return page;
}
