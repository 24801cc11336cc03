// An example service worker that drains idb-sync's outbox after the last tab closed
// (docs/SYNC_MANAGER.md, "After the tab closes"). Register it as an ES module:
//   navigator.serviceWorker.register('/sw.js', { type: 'module' });
// and, in the page, after `SyncManager.open`:
//   await requestBackgroundSync(sync);
// Where the browser has Background Sync (Chromium), it fires `sync` once the device is
// online, also with every tab closed; `drainOutbox` pushes what is pending and rejects
// if changes are still pending after two minutes, so the browser tries again later.
import { drainOutbox, BACKGROUND_SYNC_TAG } from 'idb-sync';

// The options the pages open the database with (the same dbName, schema, endpoint).
const options = {
  dbName: 'todos',
  schema: { todos: 'id, done' },
  endpoint: 'https://sync.example.com',
  // The worker cannot see the page's memory: it asks the app's session endpoint for
  // a token, with the cookies it has (or read one the page left in Cache Storage).
  auth: {
    getToken: async () => {
      const response = await fetch('/session/token', { credentials: 'include' });
      if (!response.ok) throw new Error(`no token: HTTP ${response.status}`);
      return response.text();
    },
  },
};

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('sync', (event) => {
  if (event.tag === BACKGROUND_SYNC_TAG) event.waitUntil(drainOutbox(options));
});
