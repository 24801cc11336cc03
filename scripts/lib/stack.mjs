// Starts the pieces of a running idb-sync stack — the reference server and the demo
// page's Vite server — for `npm start` and for the end-to-end tests, so both run the
// stack the same way.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository's root folder. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Starts the idb-sync-server binary and resolves once it listens.
 * @param {object} options
 * @param {string} options.binary    path to the idb-sync-server executable
 * @param {string} options.database  SQLite file path (or database URL)
 * @param {string} [options.listen]  address to listen on; port 0 picks a free port
 * @param {(line: string) => void} [options.log]  receives every line the server prints
 * @returns {Promise<{ url: string, child: import('node:child_process').ChildProcess, stop: () => Promise<void> }>}
 */
export function startServer({ binary, database, listen = '127.0.0.1:0', log = () => {} }) {
  const child = spawn(binary, ['--listen', listen, '--database', database], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info' },
  });
  const recent = [];
  const remember = (line) => {
    recent.push(line);
    if (recent.length > 20) recent.shift();
    log(line);
  };
  createInterface({ input: child.stderr }).on('line', remember);
  const stdout = createInterface({ input: child.stdout });

  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => {
      stop();
      reject(new Error(`idb-sync-server did not start within 30 s:\n${recent.join('\n')}`));
    }, 30_000);
    child.once('error', (error) => {
      clearTimeout(timeout);
      reject(new Error(`cannot run ${binary}: ${error.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timeout);
      reject(new Error(`idb-sync-server exited (code ${code}, signal ${signal}) before listening:\n${recent.join('\n')}`));
    });
    stdout.on('line', (line) => {
      remember(line);
      const match = line.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timeout);
        resolve({ url: match[1], child, stop, exited });
      }
    });
  });
}

/**
 * Starts the demo page (examples/demo) on a Vite dev server.
 * @param {object} options
 * @param {string} options.serverUrl  the sync server the page talks to
 * @param {number} [options.port]     0 picks a free port
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function startDemo({ serverUrl, port = 0, host = '127.0.0.1' }) {
  const { createServer } = await import('vite');
  const server = await createServer({
    configFile: path.join(ROOT, 'examples/demo/vite.config.js'),
    logLevel: 'warn',
    server: { host, port, strictPort: port !== 0 },
    define: { __IDB_SYNC_SERVER__: JSON.stringify(serverUrl) },
  });
  await server.listen();
  const address = server.httpServer.address();
  return { url: `http://${host}:${address.port}/`, close: () => server.close() };
}
