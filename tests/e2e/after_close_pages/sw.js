// The service worker of after_close.test.mjs, as an app would write it (an ES module;
// docs/SYNC_MANAGER.md, "After the tab closes"): on the `sync` event of idb-sync's
// tag, drain the outbox with the options the pages use. The pages leave the database
// name, endpoint and token in Cache Storage (an app could instead fetch a token from
// its session endpoint with cookies). Each drain is reported to the pages' clients and
// kept in Cache Storage ('/drains') for the test to read.
import { drainOutbox, BACKGROUND_SYNC_TAG } from 'idb-sync';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

async function config() {
  const cache = await caches.open('after-close-test');
  return (await cache.match('/config')).json();
}

async function note(entry) {
  const cache = await caches.open('after-close-test');
  const old = await cache.match('/drains');
  const drains = old ? await old.json() : [];
  drains.push({ ...entry, at: Date.now() });
  await cache.put('/drains', new Response(JSON.stringify(drains)));
}

async function drain(trigger) {
  const { dbName, endpoint, token } = await config();
  await note({ trigger, started: true });
  try {
    const result = await drainOutbox({
      dbName,
      schema: { tasks: 'id, status' },
      endpoint,
      auth: { getToken: async () => token },
    });
    await note({ trigger, result });
  } catch (e) {
    await note({ trigger, error: `${e.code}: ${e.message}` });
    throw e; // the browser retries the sync event later
  }
}

self.addEventListener('sync', (event) => {
  if (event.tag === BACKGROUND_SYNC_TAG) event.waitUntil(drain('sync'));
});
