// Serves a built example (its dist/ folder) over HTTP on 127.0.0.1, as any static
// host would: files by path, index.html for the rest, WebAssembly as application/wasm,
// and every file cacheable for 10 minutes (so a page opened again while offline comes
// from the browser's cache, as it would from a service worker's).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** Starts serving `root`; resolves to `{ url, root, close }`. */
export async function serveStatic(root) {
  const server = createServer(async (request, response) => {
    const { body, contentType } = await staticFile(root, `http://localhost${request.url}`);
    response.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'max-age=600' });
    response.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    root,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The body and content type `serveStatic` would answer for `url`'s path. */
export async function staticFile(root, url) {
  const pathname = decodeURIComponent(new URL(url).pathname);
  let file = path.join(root, path.normalize(pathname));
  if (!file.startsWith(root) || pathname.endsWith('/')) file = path.join(root, 'index.html');
  const body = await readFile(file).catch(() => readFile((file = path.join(root, 'index.html'))));
  return { body, contentType: TYPES[path.extname(file)] ?? 'application/octet-stream' };
}
