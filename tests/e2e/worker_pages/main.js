// Test page for worker.test.mjs: runs the package in dedicated module workers (no
// `window`, no `document`) and relays scripted steps to them. The page itself loads
// the package too (`window.SyncManager`), to play a second device.
import init, { SyncManager } from 'idb-sync';

const pageReady = init().then(() => {
  window.SyncManager = SyncManager;
});
const workers = [];
let next = 0;
const waiting = new Map();

/** Starts worker number `n` (once); resolves when its package is initialised. */
function start(n) {
  if (!workers[n]) {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    workers[n] = new Promise((ready) => {
      worker.onmessage = ({ data }) => {
        if (data === 'ready') return ready(worker);
        const settle = waiting.get(data.id);
        waiting.delete(data.id);
        settle?.(data);
      };
    });
    worker.onerror = (e) => console.error('worker error', e.message);
  }
  return workers[n];
}

/** Runs `step` (see worker.js) with `args` in worker `n`; resolves to its answer. */
window.inWorker = async (step, args, n = 0) => {
  const worker = await start(n);
  return new Promise((resolve) => {
    next += 1;
    waiting.set(next, resolve);
    worker.postMessage({ id: next, step, args });
  });
};

Promise.all([pageReady, start(0)]).then(() => {
  document.getElementById('state').dataset.state = 'ready';
});
