// The hand-written Dexie sync layers idb-sync is compared with, talking to
// bench/baseline-server.mjs:
// - SeedLayer: the seed 001 document's SyncManager ("Offline Data Sync with Dexie.js",
//   ../shared/seeds/001), transcribed faithfully: per-record create/update that write
//   the record, look up / merge a syncQueue entry and count the queue; processQueue()
//   sending one HTTP request per queue entry and marking each record synced; and
//   fullSync() fetching everything changed since the last sync in one response and
//   applying it record by record (get, then add or put) in one transaction.
//   One change: the seed queries `where(['table', 'recordId'])` without declaring the
//   compound index, which Dexie refuses; its schema here declares `[table+recordId]`.
// - BatchedLayer: what a careful developer writes instead: writes go to the table and
//   the queue in one transaction, the queue is POSTed in batches of 1,000 and deleted
//   when acknowledged; pull fetches pages of 1,000 and bulkPuts each page with its
//   cursor in one transaction.
import Dexie from 'dexie';
import { SCHEMA } from './records.mjs';

/** Schema of the plain-Dexie and batched baselines: the app table plus a queue. */
export const DEXIE_SCHEMA = { ...SCHEMA, syncQueue: '++id, table, recordId, createdAt', syncMeta: 'key' };

/** The seed's schema: its sync fields are indexed, its queue has a retry count. */
const SEED_SCHEMA = {
  tasks: `${SCHEMA.tasks}, _synced, _localUpdatedAt, _deleted`,
  syncQueue: '++id, table, recordId, createdAt, retryCount, [table+recordId]',
  syncMeta: 'key',
};

/** A queue entry as the seed stores it. */
export const queueItem = (operation, r) => ({ operation, table: 'tasks', recordId: r.id, data: r, createdAt: Date.now(), retryCount: 0 });

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status}`);
  return response.status === 204 ? null : response.json();
}

/** The seed 001 layer (see the file comment). */
export class SeedLayer {
  /** Opens a fresh seed database `name` syncing with `base` (`…/s/<space>`). */
  static async open(name, base, { autoPush = true } = {}) {
    const db = new Dexie(name);
    db.version(1).stores(SEED_SCHEMA);
    db.tasks.hook('creating', (_key, obj) => {
      obj._localUpdatedAt = Date.now();
      obj._synced = false;
    });
    db.tasks.hook('updating', (modifications) => ({ ...modifications, _localUpdatedAt: Date.now(), _synced: false }));
    await db.open();
    return new SeedLayer(db, base, autoPush);
  }

  constructor(db, base, autoPush) {
    this.db = db;
    this.base = base;
    this.autoPush = autoPush;
    this.isSyncing = false;
    this.running = null;
    this.pending = 0;
  }

  async create(tableName, data) {
    const record = { ...data, _synced: false, _localUpdatedAt: Date.now(), _version: 1 };
    await this.db.table(tableName).add(record);
    await this.queueOperation('create', tableName, record);
    if (this.autoPush && navigator.onLine) this.processQueue();
    return record;
  }

  async update(tableName, id, changes) {
    const table = this.db.table(tableName);
    const existing = await table.get(id);
    if (!existing) throw new Error(`Record ${id} not found in ${tableName}`);
    const updated = { ...existing, ...changes, _synced: false, _localUpdatedAt: Date.now(), _version: (existing._version || 0) + 1 };
    await table.put(updated);
    await this.queueOperation('update', tableName, updated);
    if (this.autoPush && navigator.onLine) this.processQueue();
    return updated;
  }

  async queueOperation(operation, table, data) {
    const existing = await this.db.syncQueue.where(['table', 'recordId']).equals([table, data.id]).first();
    if (existing) {
      await this.db.syncQueue.update(existing.id, {
        operation: mergeOperations(existing.operation, operation),
        data,
        createdAt: Date.now(),
        retryCount: 0,
      });
    } else {
      await this.db.syncQueue.add({ operation, table, recordId: data.id, data, createdAt: Date.now(), retryCount: 0 });
    }
    this.pending = await this.db.syncQueue.count(); // notifyListeners({ pending })
  }

  processQueue() {
    if (this.isSyncing || !navigator.onLine) return Promise.resolve({ success: false });
    this.isSyncing = true;
    this.running = this.#process().finally(() => {
      this.isSyncing = false;
    });
    return this.running;
  }

  async #process() {
    const result = { success: true, synced: 0, failed: 0, errors: [] };
    try {
      const items = await this.db.syncQueue.orderBy('createdAt').toArray();
      for (const item of items) {
        try {
          await this.syncItem(item);
          await this.db.syncQueue.delete(item.id);
          const table = this.db.table(item.table);
          if (item.operation !== 'delete') await table.update(item.recordId, { _synced: true, _syncedAt: Date.now() });
          else await table.delete(item.recordId);
          result.synced++;
        } catch (error) {
          result.failed++;
          result.errors.push(`${item.table}/${item.recordId}: ${error}`);
          await this.db.syncQueue.update(item.id, { retryCount: item.retryCount + 1, lastError: String(error) });
          if (item.retryCount >= 5) await this.db.syncQueue.delete(item.id);
        }
      }
      result.success = result.failed === 0;
    } finally {
      this.pending = await this.db.syncQueue.count();
    }
    return result;
  }

  syncItem(item) {
    const endpoint = `${this.base}/api/${item.table}`;
    if (item.operation === 'create') return api('POST', endpoint, item.data);
    if (item.operation === 'update') return api('PUT', `${endpoint}/${encodeURIComponent(item.recordId)}`, item.data);
    return api('DELETE', `${endpoint}/${encodeURIComponent(item.recordId)}`);
  }

  /** Not in the seed: waits until its queue is empty (what "last push acknowledged" means). */
  async drain() {
    for (let i = 0; i < 1000; i++) {
      if (this.running) await this.running;
      if ((await this.db.syncQueue.count()) === 0) return;
      const r = await this.processQueue();
      if (r.failed) throw new Error(r.errors[0]);
    }
    throw new Error('seed queue does not drain');
  }

  async fullSync(tableName) {
    const meta = await this.db.syncMeta.get(`lastSync_${tableName}`);
    const lastSync = meta ? Number(meta.value) : 0;
    const { data: serverRecords } = await api('GET', `${this.base}/api/${tableName}?since=${lastSync}`);
    const table = this.db.table(tableName);
    await this.db.transaction('rw', table, this.db.syncQueue, async () => {
      for (const serverRecord of serverRecords) {
        const local = await table.get(serverRecord.id);
        const synced = { ...serverRecord, _synced: true, _syncedAt: Date.now(), _localUpdatedAt: serverRecord.updatedAt };
        if (!local) await table.add(synced);
        else if (!local._synced) {
          if ((local._localUpdatedAt || 0) > (serverRecord.updatedAt || 0)) await this.queueOperation('update', tableName, local);
          else await table.put(synced);
        } else await table.put(synced);
      }
    });
    await this.db.syncMeta.put({ key: `lastSync_${tableName}`, value: Date.now() });
    return serverRecords.length;
  }
}

function mergeOperations(existing, incoming) {
  if (existing === 'create' && incoming === 'update') return 'create';
  if (existing === 'create' && incoming === 'delete') return 'delete';
  return incoming;
}

/** The batched layer (see the file comment). */
export class BatchedLayer {
  constructor(db, base) {
    this.db = db;
    this.base = base;
  }

  /** Stores records and queues them, in one transaction. */
  write(records) {
    const { db } = this;
    return db.transaction('rw', db.tasks, db.syncQueue, async () => {
      await db.tasks.bulkPut(records);
      await db.syncQueue.bulkAdd(records.map((r) => queueItem('put', r)));
    });
  }

  /** Updates one record and queues the new version, in one transaction. */
  update(id, changes) {
    const { db } = this;
    return db.transaction('rw', db.tasks, db.syncQueue, async () => {
      const updated = { ...(await db.tasks.get(id)), ...changes };
      await db.tasks.put(updated);
      await db.syncQueue.add(queueItem('put', updated));
    });
  }

  /** POSTs the queue in batches of 1,000, deleting each batch once acknowledged. */
  async push() {
    for (;;) {
      const items = await this.db.syncQueue.orderBy(':id').limit(1000).toArray();
      if (!items.length) return;
      const mutations = items.map((i) => ({ op: i.operation, id: i.recordId, data: i.data }));
      const { results } = await api('POST', `${this.base}/api/batch`, { mutations });
      if (results.length !== items.length) throw new Error('batch answer does not match');
      await this.db.syncQueue.bulkDelete(items.map((i) => i.id));
    }
  }

  /** Fetches pages of 1,000 and stores each with its cursor in one transaction. */
  async pull() {
    const { db } = this;
    let cursor = (await db.syncMeta.get('cursor'))?.value ?? 0;
    let pulled = 0;
    for (;;) {
      const page = await api('GET', `${this.base}/api/changes?after=${cursor}&limit=1000`);
      await db.transaction('rw', db.tasks, db.syncMeta, async () => {
        const live = page.changes.filter((c) => !c.deleted);
        await db.tasks.bulkPut(live.map((c) => c.data));
        const gone = page.changes.filter((c) => c.deleted).map((c) => c.id);
        if (gone.length) await db.tasks.bulkDelete(gone);
        await db.syncMeta.put({ key: 'cursor', value: page.cursor });
      });
      pulled += page.changes.length;
      cursor = page.cursor;
      if (!page.hasMore) return pulled;
    }
  }
}
