// `npm start`: builds the npm package (release) and the server, starts the server on
// 127.0.0.1:8787 over an SQLite file in ./data/ (created on first run), serves the
// two-device demo page (examples/demo) on 127.0.0.1:5173, prints both URLs, and stops
// both on Ctrl-C.
// (`npm start` runs scripts/setup first, which installs the toolchain.)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, startServer, startDemo } from './lib/stack.mjs';

const SERVER_LISTEN = process.env.IDB_SYNC_LISTEN ?? '127.0.0.1:8787';
const DEMO_PORT = Number(process.env.DEMO_PORT ?? 5173);
const DATABASE = process.env.DATABASE_URL ?? 'data/idb-sync.sqlite3';

function run(label, command, args) {
  console.log(`[start] ${label}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`[start] ${label} failed`);
    process.exit(result.status ?? 1);
  }
}

run('building the npm package', 'scripts/build-wasm', []);
run('building the server', 'cargo', ['build', '--profile', 'server', '-p', 'idb-sync-server']);

const server = await startServer({
  binary: path.join(ROOT, 'target/server/idb-sync-server'),
  database: DATABASE,
  listen: SERVER_LISTEN,
  log: (line) => console.log(`[server] ${line}`),
});
let demo;
try {
  demo = await startDemo({ serverUrl: server.url, port: DEMO_PORT });
} catch (error) {
  console.error(`[start] cannot serve the demo on 127.0.0.1:${DEMO_PORT}: ${error.message}`);
  await server.stop();
  process.exit(1);
}

console.log('');
console.log(`  sync server  ${server.url}   (database: ${DATABASE})`);
console.log(`  demo page    ${demo.url}   (two devices side by side: Laptop and Phone)`);
console.log(`  one device   ${demo.url}device.html?device=Tablet   (a third device of the same account: open it in another tab)`);
console.log('');
console.log('  Ctrl-C stops both.');

let stopping = false;
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  console.log('\n[start] stopping…');
  await Promise.allSettled([demo.close(), server.stop()]);
  process.exit(code);
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
server.exited.then(({ code, signal }) => {
  if (!stopping) {
    console.error(`[start] the server stopped unexpectedly (code ${code}, signal ${signal})`);
    stopAll(1);
  }
});
