// Browser-storage benchmark page: idb-sync's LocalDatabase and Dexie side by side in
// the same page and run. `window.runBench({ n, reps, singles })` returns every timing
// (ms); bench/run.mjs drives it and computes medians and ratios.
import init, { LocalDatabase } from 'idb-sync';
import Dexie from 'dexie';

await init();

const SCHEMA = { tasks: 'id, status, priority, updatedAt' };
const DEXIE_SCHEMA = { ...SCHEMA, syncQueue: '++id, table, recordId, createdAt' };

// ~240 bytes of JSON each.
function makeRecords(n, tag) {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push({
      id: `${tag}-${String(i).padStart(8, '0')}-5f1c6a2e`,
      title: `Task number ${i} with a reasonably descriptive title`,
      status: ['todo', 'doing', 'done'][i % 3],
      priority: ['low', 'medium', 'high'][i % 3],
      tags: ['work', 'home'].slice(0, i % 3),
      createdAt: 1_700_000_000_000 + i,
      updatedAt: 1_700_000_000_000 + i,
      notes: 'Lorem ipsum dolor sit amet, consectetur adipiscing',
    });
  }
  return out;
}

const fresh = () => `bench-${Date.now()}-${Math.random().toString(36).slice(2)}`;

async function timed(f) {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

async function openDexie() {
  const db = new Dexie(fresh());
  db.version(1).stores(DEXIE_SCHEMA);
  await db.open();
  return db;
}

async function openOurs() {
  return LocalDatabase.open({ dbName: fresh(), version: 1, schema: SCHEMA });
}

async function drop(db) {
  if (db instanceof Dexie) {
    await db.delete();
  } else {
    const name = db.name;
    db.close();
    await LocalDatabase.delete(name);
  }
}

const queueItem = (r, now) => ({ operation: 'update', table: 'tasks', recordId: r.id, data: r, createdAt: now, retryCount: 0 });

const cases = {
  async dexieBulkPut(n) {
    const db = await openDexie();
    const recs = makeRecords(n, 'a');
    const ms = await timed(() => db.tasks.bulkPut(recs));
    await drop(db);
    return ms;
  },
  async dexieBulkPutWithQueue(n) {
    const db = await openDexie();
    const recs = makeRecords(n, 'a');
    const ms = await timed(() =>
      db.transaction('rw', db.tasks, db.syncQueue, async () => {
        const now = Date.now();
        await db.tasks.bulkPut(recs);
        await db.syncQueue.bulkAdd(recs.map((r) => queueItem(r, now)));
      }),
    );
    await drop(db);
    return ms;
  },
  async oursBulkPut(n) {
    const db = await openOurs();
    const recs = makeRecords(n, 'a');
    const ms = await timed(() => db.table('tasks').bulkPut(recs));
    await drop(db);
    return ms;
  },
  async dexiePutWithQueue(_n, singles) {
    const db = await openDexie();
    const recs = makeRecords(singles, 's');
    const ms = await timed(async () => {
      for (const r of recs) {
        await db.transaction('rw', db.tasks, db.syncQueue, async () => {
          await db.tasks.put(r);
          await db.syncQueue.add(queueItem(r, Date.now()));
        });
      }
    });
    await drop(db);
    return ms / singles;
  },
  async dexiePut(_n, singles) {
    const db = await openDexie();
    const recs = makeRecords(singles, 's');
    const ms = await timed(async () => {
      for (const r of recs) await db.tasks.put(r);
    });
    await drop(db);
    return ms / singles;
  },
  async oursPut(_n, singles) {
    const db = await openOurs();
    const t = db.table('tasks');
    const recs = makeRecords(singles, 's');
    const ms = await timed(async () => {
      for (const r of recs) await t.put(r);
    });
    await drop(db);
    return ms / singles;
  },
  async dexieToArray(n) {
    const db = await openDexie();
    await db.tasks.bulkPut(makeRecords(n, 'a'));
    const ms = await timed(() => db.tasks.toArray());
    await drop(db);
    return ms;
  },
  async oursToArray(n) {
    const db = await openOurs();
    await db.table('tasks').bulkPut(makeRecords(n, 'a'));
    const ms = await timed(() => db.table('tasks').toArray());
    await drop(db);
    return ms;
  },
};

window.runBench = async ({ n = 10_000, reps = 5, singles = 200 } = {}) => {
  const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  // Warm-up (JIT, wasm, IndexedDB backend), not recorded.
  for (const f of Object.values(cases)) await f(500, 10);
  // Interleaved repetitions, so drift hits every case alike.
  for (let rep = 0; rep < reps; rep++) {
    for (const [name, f] of Object.entries(cases)) results[name].push(await f(n, singles));
  }
  return { results, recordBytes: JSON.stringify(makeRecords(1, 'a')[0]).length, userAgent: navigator.userAgent };
};

document.querySelector('#state').dataset.state = 'ready';
document.querySelector('#state').textContent = 'ready';
