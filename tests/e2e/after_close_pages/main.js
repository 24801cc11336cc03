// Test page for after_close.test.mjs: the package as an app loads it, a manager whose
// after-write push is held off (debounce and intervals of an hour), and the app's
// service worker (sw.js) with what it needs to drain the outbox once every tab is
// closed: the database's options and a token, kept in Cache Storage (see sw.js).
import init, { SyncManager, requestBackgroundSync } from 'idb-sync';

const HOUR = 3_600_000;

await init();

/** Opens `window.sync` on `dbName`, its loop running but idle for hours. */
window.openSync = async ({ dbName, endpoint, token }) => {
  window.sync = await SyncManager.open({
    dbName,
    schema: { tasks: 'id, status' },
    endpoint,
    auth: { getToken: async () => token },
    interval: HOUR,
    hiddenInterval: HOUR,
    debounce: HOUR,
    live: false,
  });
  return window.sync.isLeader;
};

/** Writes a task and resolves once the app is told it is pending (`onOutboxChange`). */
window.writeAndSeePending = async (id, title) => {
  await window.sync.table('tasks').put({ id, title, status: 'todo' });
  await new Promise((resolve) => {
    const stop = window.sync.onOutboxChange((entries) => {
      if (entries.some((e) => e.key === id)) {
        queueMicrotask(() => stop());
        resolve();
      }
    });
  });
  return window.sync.pendingChanges();
};

/** Registers sw.js (an ES module) and hands it the database's options and token. */
window.installWorker = async ({ dbName, endpoint, token }) => {
  const cache = await caches.open('after-close-test');
  await cache.put('/config', new Response(JSON.stringify({ dbName, endpoint, token })));
  await navigator.serviceWorker.register('/sw.js', { type: 'module' });
  const registration = await navigator.serviceWorker.ready;
  return { active: !!registration.active, backgroundSync: 'sync' in registration };
};

/** `requestBackgroundSync(window.sync)`: the tag is registered while changes wait. */
window.askForBackgroundSync = async () => {
  await requestBackgroundSync(window.sync);
  const registration = await navigator.serviceWorker.ready;
  // The registration goes out on the outbox's next report: wait until it is there.
  for (let i = 0; i < 100; i += 1) {
    const tags = await registration.sync.getTags();
    if (tags.includes('idb-sync')) return tags;
    await new Promise((r) => setTimeout(r, 50));
  }
  return registration.sync.getTags();
};

document.querySelector('#state').dataset.state = 'ready';
