// The package in a dedicated worker, as an app that syncs off the main thread would
// use it. Each step answers `{ id, ok, value }` or `{ id, ok: false, code, message }`.
import init, { SyncManager } from 'idb-sync';

await init();
let sync;

const steps = {
  async open({ dbName, endpoint, token }) {
    sync = await SyncManager.open({
      dbName,
      schema: { tasks: 'id, status' },
      endpoint,
      auth: { getToken: async () => token },
      autoSync: false,
    });
    return { isLeader: sync.isLeader, clientId: typeof sync.clientId };
  },
  async write({ id, title }) {
    await sync.table('tasks').put({ id, title, status: 'todo' });
    return sync.getSyncStatus().pending;
  },
  async syncNow() {
    const result = await sync.syncNow();
    return { result, status: sync.getSyncStatus() };
  },
  async read({ id }) {
    return (await sync.table('tasks').get(id)) ?? null;
  },
  close() {
    sync.close();
    return true;
  },
};

self.onmessage = async ({ data: { id, step, args } }) => {
  try {
    self.postMessage({ id, ok: true, value: await steps[step](args) });
  } catch (e) {
    self.postMessage({ id, ok: false, code: e?.code, message: String(e?.message ?? e) });
  }
};
self.postMessage('ready');
