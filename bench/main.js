// Benchmark page: idb-sync (LocalDatabase and SyncManager, talking to the real
// idb-sync-server) and hand-written Dexie layers (talking to bench/baseline-server.mjs)
// side by side in one page. bench/run.mjs drives it one measurement at a time:
// `window.bench.run(name, params)` resolves to `{ ms, ...extra }`. Every measurement
// opens a fresh database and deletes it afterwards.
import init, { LocalDatabase, SyncManager } from 'idb-sync';
import Dexie from 'dexie';
import { SCHEMA, makeRecords } from './records.mjs';
import { SeedLayer, BatchedLayer, DEXIE_SCHEMA, queueItem } from './layers.js';

const wasm = await init();
let env = {};
// The second half of a case measured in two parts (the push after N updates), so
// run.mjs can count that push's requests alone.
let finish = null;

const fresh = () => `bench-${Date.now()}-${Math.random().toString(36).slice(2)}`;
const now = () => performance.now();
const tick = () => new Promise((r) => setTimeout(r, 0));

async function openDexie(name = fresh()) {
  const db = new Dexie(name);
  db.version(1).stores(DEXIE_SCHEMA);
  await db.open();
  return db;
}
const openOurs = (dbName = fresh()) => LocalDatabase.open({ dbName, version: 1, schema: SCHEMA });
const openManager = (dbName = fresh(), token = env.token) =>
  SyncManager.open({ dbName, version: 1, schema: SCHEMA, endpoint: env.idbUrl, auth: { getToken: async () => token }, autoSync: false });

async function drop(db) {
  if (db instanceof Dexie) return db.delete();
  const name = db.name;
  db.close();
  await LocalDatabase.delete(name);
}

/**
 * `open()` of a database holding `n` records: fills one with `create` (through the
 * table `tableOf` gives), closes it, then times `reopen` of the same name.
 */
async function timeReopen(n, create, tableOf, reopen) {
  const name = fresh();
  const db = await create(name);
  await tableOf(db).bulkPut(makeRecords(n, 'o'));
  db.close();
  await tick();
  const t0 = now();
  const again = await reopen(name);
  const ms = now() - t0;
  await drop(again);
  return { ms };
}

/** Long tasks (PerformanceObserver 'longtask') seen while `f` runs. */
async function watchLongTasks(f) {
  const seen = [];
  const obs = new PerformanceObserver((list) => seen.push(...list.getEntries()));
  obs.observe({ type: 'longtask' });
  const out = await f();
  await new Promise((r) => setTimeout(r, 50));
  seen.push(...obs.takeRecords());
  obs.disconnect();
  return { ...out, longTasks: seen.length, longestTask: Math.round(Math.max(0, ...seen.map((e) => e.duration))) };
}

/** Runs rounds until the outbox is empty; resolves to the number of rounds. */
async function pushAll(sm) {
  let rounds = 0;
  for (;;) {
    await sm.syncNow();
    rounds += 1;
    const s = sm.getSyncStatus();
    if (s.lastError) throw new Error(`sync failed: ${JSON.stringify(s.lastError)}`);
    if (s.pending === 0 && s.inFlight === 0) return rounds;
    if (rounds > 10_000) throw new Error('outbox does not drain');
  }
}

/** Runs rounds until `n` records were pulled. */
async function pullAll(sm, n) {
  let pulled = 0;
  for (let rounds = 0; pulled < n; rounds++) {
    const r = await sm.syncNow();
    pulled += r.pulled;
    if (r.pulled === 0 && rounds > 2) throw new Error(`pulled ${pulled} of ${n}`);
  }
  return pulled;
}

const cases = {
  // --- bulk write of n records ---
  async 'bulk/ours'({ n }) {
    const db = await openOurs();
    const recs = makeRecords(n, 'b');
    const t0 = now();
    await db.table('tasks').bulkPut(recs);
    const ms = now() - t0;
    await drop(db);
    return { ms };
  },
  async 'bulk/dexie'({ n }) {
    const db = await openDexie();
    const recs = makeRecords(n, 'b');
    const t0 = now();
    await db.tasks.bulkPut(recs);
    const ms = now() - t0;
    await drop(db);
    return { ms };
  },
  async 'bulk/dexieQueue'({ n }) {
    const db = await openDexie();
    const recs = makeRecords(n, 'b');
    const t0 = now();
    await db.transaction('rw', db.tasks, db.syncQueue, async () => {
      await db.tasks.bulkPut(recs);
      await db.syncQueue.bulkAdd(recs.map((r) => queueItem('create', r)));
    });
    const ms = now() - t0;
    await drop(db);
    return { ms };
  },

  // --- single awaited writes (ms per write) ---
  async 'put/ours'({ singles }) {
    const db = await openOurs();
    const t = db.table('tasks');
    const recs = makeRecords(singles, 's');
    const t0 = now();
    for (const r of recs) await t.put(r);
    const ms = (now() - t0) / singles;
    await drop(db);
    return { ms };
  },
  async 'put/manager'({ singles }) {
    const sm = await openManager();
    const t = sm.table('tasks');
    const recs = makeRecords(singles, 's');
    const t0 = now();
    for (const r of recs) await t.put(r);
    const ms = (now() - t0) / singles;
    await drop(sm);
    return { ms };
  },
  async 'put/dexie'({ singles }) {
    const db = await openDexie();
    const recs = makeRecords(singles, 's');
    const t0 = now();
    for (const r of recs) await db.tasks.put(r);
    const ms = (now() - t0) / singles;
    await drop(db);
    return { ms };
  },
  async 'put/dexieQueue'({ singles }) {
    const db = await openDexie();
    const recs = makeRecords(singles, 's');
    const t0 = now();
    for (const r of recs) {
      await db.transaction('rw', db.tasks, db.syncQueue, async () => {
        await db.tasks.put(r);
        await db.syncQueue.add(queueItem('update', r));
      });
    }
    const ms = (now() - t0) / singles;
    await drop(db);
    return { ms };
  },
  async 'put/seed'({ singles }) {
    const layer = await SeedLayer.open(fresh(), null, { autoPush: false });
    const recs = makeRecords(singles, 's');
    const t0 = now();
    for (const r of recs) await layer.create('tasks', r);
    const ms = (now() - t0) / singles;
    await drop(layer.db);
    return { ms };
  },

  // --- concurrent writes: `concurrent` unawaited puts, then wait for all ---
  async 'concurrent/manager'({ concurrent }) {
    const sm = await openManager();
    const t = sm.table('tasks');
    const recs = makeRecords(concurrent, 'c');
    const t0 = now();
    await Promise.all(recs.map((r) => t.put(r)));
    const ms = now() - t0;
    await drop(sm);
    return { ms };
  },
  async 'concurrent/dexieQueue'({ concurrent }) {
    const db = await openDexie();
    const recs = makeRecords(concurrent, 'c');
    const t0 = now();
    await Promise.all(
      recs.map((r) =>
        db.transaction('rw', db.tasks, db.syncQueue, async () => {
          await db.tasks.put(r);
          await db.syncQueue.add(queueItem('update', r));
        }),
      ),
    );
    const ms = now() - t0;
    await drop(db);
    return { ms };
  },

  // --- N awaited updates of one key; `finish` pushes them (bytes counted by run.mjs) ---
  async 'updates/manager'({ updates }) {
    const sm = await openManager();
    const t = sm.table('tasks');
    const [r] = makeRecords(1, 'u');
    await t.put(r);
    await pushAll(sm);
    const t0 = now();
    for (let i = 0; i < updates; i++) await t.update(r.id, { title: `Edited ${i}`, updatedAt: Date.now() });
    const ms = now() - t0;
    finish = async () => {
      const pushT0 = now();
      await pushAll(sm);
      const pushMs = now() - pushT0;
      await drop(sm);
      return { pushMs };
    };
    return { ms };
  },
  async 'updates/dexieQueue'({ updates, space }) {
    const layer = new BatchedLayer(await openDexie(), `${env.baseUrl}/s/${space}`);
    const [r] = makeRecords(1, 'u');
    await layer.write([r]);
    await layer.push();
    const t0 = now();
    for (let i = 0; i < updates; i++) await layer.update(r.id, { title: `Edited ${i}`, updatedAt: Date.now() });
    const ms = now() - t0;
    finish = async () => {
      const pushT0 = now();
      await layer.push();
      const pushMs = now() - pushT0;
      await drop(layer.db);
      return { pushMs };
    };
    return { ms };
  },
  async 'updates/seed'({ updates, space }) {
    const layer = await SeedLayer.open(fresh(), `${env.baseUrl}/s/${space}`, { autoPush: false });
    const [r] = makeRecords(1, 'u');
    await layer.create('tasks', r);
    await layer.processQueue();
    const t0 = now();
    for (let i = 0; i < updates; i++) await layer.update('tasks', r.id, { title: `Edited ${i}`, updatedAt: Date.now() });
    const ms = now() - t0;
    finish = async () => {
      const pushT0 = now();
      await layer.processQueue();
      const pushMs = now() - pushT0;
      await drop(layer.db);
      return { pushMs };
    };
    return { ms };
  },

  // --- reads of a table of n records (written first, not timed) ---
  async 'reads/ours'({ n }) {
    const db = await openOurs();
    const t = db.table('tasks');
    await t.bulkPut(makeRecords(n, 'r'));
    let t0 = now();
    const all = await t.toArray();
    const toArrayMs = now() - t0;
    t0 = now();
    const some = await t.where('status').equals('blocked').toArray();
    const whereMs = now() - t0;
    await drop(db);
    return { ms: toArrayMs, whereMs, rows: all.length, whereRows: some.length };
  },
  async 'reads/dexie'({ n }) {
    const db = await openDexie();
    await db.tasks.bulkPut(makeRecords(n, 'r'));
    let t0 = now();
    const all = await db.tasks.toArray();
    const toArrayMs = now() - t0;
    t0 = now();
    const some = await db.tasks.where('status').equals('blocked').toArray();
    const whereMs = now() - t0;
    await drop(db);
    return { ms: toArrayMs, whereMs, rows: all.length, whereRows: some.length };
  },

  // --- open() of a database holding n records ---
  'open/ours': ({ n }) =>
    timeReopen(n, openOurs, (db) => db.table('tasks'), openOurs),
  'open/manager': ({ n }) =>
    timeReopen(n, openOurs, (db) => db.table('tasks'), openManager),
  // open() resolves before the adoption scan it starts (every key, in the
  // background) is over; getPendingCount() waits for it: the whole of open's work.
  'open/managerScan': ({ n }) =>
    timeReopen(n, openOurs, (db) => db.table('tasks'), async (name) => {
      const sm = await openManager(name);
      await sm.getPendingCount();
      return sm;
    }),
  'open/dexie': ({ n }) => timeReopen(n, openDexie, (db) => db.tasks, openDexie),

  // --- push: writes of n records until the last push is acknowledged ---
  async 'push/manager'({ n, token }) {
    const sm = await openManager(fresh(), token);
    const recs = makeRecords(n, 'p');
    const t0 = now();
    await sm.table('tasks').bulkPut(recs);
    const rounds = await pushAll(sm);
    const ms = now() - t0;
    await drop(sm);
    return { ms, rounds, n, msPerRecord: ms / n };
  },
  async 'push/batched'({ n, space }) {
    const layer = new BatchedLayer(await openDexie(), `${env.baseUrl}/s/${space}`);
    const recs = makeRecords(n, 'p');
    const t0 = now();
    await layer.write(recs);
    await layer.push();
    const ms = now() - t0;
    await drop(layer.db);
    return { ms, n, msPerRecord: ms / n };
  },
  async 'push/seed'({ n, space }) {
    const layer = await SeedLayer.open(fresh(), `${env.baseUrl}/s/${space}`);
    const recs = makeRecords(n, 'p');
    const t0 = now();
    for (const r of recs) await layer.create('tasks', r);
    await layer.drain();
    const ms = now() - t0;
    await drop(layer.db);
    return { ms, n, msPerRecord: ms / n };
  },

  // --- pull n records into an empty database (servers seeded by run.mjs) ---
  async 'pull/manager'({ n, token }) {
    const sm = await openManager(fresh(), token);
    const out = await watchLongTasks(async () => {
      const t0 = now();
      const pulled = await pullAll(sm, n);
      return { ms: now() - t0, pulled };
    });
    out.rows = await sm.table('tasks').count();
    out.wasmBytes = wasm.memory.buffer.byteLength;
    await drop(sm);
    if (out.rows !== n) throw new Error(`idb-sync pull stored ${out.rows} of ${n}`);
    return out;
  },
  async 'pull/dexie'({ n, tag }) {
    const db = await openDexie();
    const recs = makeRecords(n, tag);
    const out = await watchLongTasks(async () => {
      const t0 = now();
      await db.tasks.bulkPut(recs);
      return { ms: now() - t0 };
    });
    await drop(db);
    return out;
  },
  async 'pull/batched'({ n, space }) {
    const layer = new BatchedLayer(await openDexie(), `${env.baseUrl}/s/${space}`);
    const out = await watchLongTasks(async () => {
      const t0 = now();
      const pulled = await layer.pull();
      return { ms: now() - t0, pulled };
    });
    out.rows = await layer.db.tasks.count();
    await drop(layer.db);
    if (out.rows !== n) throw new Error(`batched pull stored ${out.rows} of ${n}`);
    return out;
  },
  async 'pull/seed'({ n, space }) {
    const layer = await SeedLayer.open(fresh(), `${env.baseUrl}/s/${space}`);
    const out = await watchLongTasks(async () => {
      const t0 = now();
      await layer.fullSync('tasks');
      return { ms: now() - t0 };
    });
    out.rows = await layer.db.tasks.count();
    await drop(layer.db);
    if (out.rows !== n) throw new Error(`seed pull stored ${out.rows} of ${n}`);
    return out;
  },
};

/** Stores a few records with both libraries and keeps them, so run.mjs can look at the profile's IndexedDB folder. */
async function leaveOnDisk() {
  const db = await openOurs('bench-on-disk-ours');
  await db.table('tasks').bulkPut(makeRecords(1000, 'd'));
  db.close();
  const dx = await openDexie('bench-on-disk-dexie');
  await dx.tasks.bulkPut(makeRecords(1000, 'd'));
  dx.close();
}

window.bench = {
  setEnv: (e) => void (env = e),
  names: () => Object.keys(cases),
  run: (name, params) => cases[name]({ ...params }).then((r) => ({ ...r, finish: finish != null })),
  finish: () => {
    const f = finish;
    finish = null;
    return f();
  },
  leaveOnDisk,
  userAgent: navigator.userAgent,
};

document.querySelector('#state').dataset.state = 'ready';
document.querySelector('#state').textContent = 'ready';
