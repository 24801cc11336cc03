// Counts the IndexedDB work a page does: every request an object store or index
// issues (by kind, and by store) and every transaction, by wrapping the prototypes of
// IDBObjectStore, IDBIndex and IDBDatabase in the page — and every JavaScript `Error`
// object made by calling the global `Error` (what the wasm-bindgen glue calls), by
// wrapping it. Counts are deterministic, so tests may assert budgets on them
// (tests/e2e/idb_budget.test.mjs); timings never.

/** The request methods counted, and whether each reads or writes. */
const KINDS = {
  get: 'read', getKey: 'read', getAll: 'read', getAllKeys: 'read', count: 'read',
  openCursor: 'read', openKeyCursor: 'read',
  put: 'write', add: 'write', delete: 'write', clear: 'write',
};

/** Installs the counters in `page` (idempotent). */
export async function installIdbCounter(page) {
  await page.evaluate((kinds) => {
    if (window.__idbCounts) return;
    const counts = { transactions: 0, readwrite: 0, requests: {}, stores: {}, errors: 0 };
    window.__idbCounts = counts;
    // The glue looks `Error` up on the global object at every call.
    window.Error = new Proxy(window.Error, {
      apply(target, self, args) {
        counts.errors += 1;
        return Reflect.apply(target, self, args);
      },
      construct(target, args, newTarget) {
        counts.errors += 1;
        return Reflect.construct(target, args, newTarget);
      },
    });
    const wrap = (proto, owner) => {
      for (const [name, kind] of Object.entries(kinds)) {
        const original = proto[name];
        if (typeof original !== 'function') continue;
        proto[name] = function (...args) {
          const store = owner === 'index' ? this.objectStore.name : this.name;
          counts.requests[name] = (counts.requests[name] ?? 0) + 1;
          const perStore = (counts.stores[store] ??= { read: 0, write: 0 });
          perStore[kind] += 1;
          return original.apply(this, args);
        };
      }
    };
    wrap(IDBObjectStore.prototype, 'store');
    wrap(IDBIndex.prototype, 'index');
    const transaction = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (stores, mode, ...rest) {
      counts.transactions += 1;
      if (mode === 'readwrite') counts.readwrite += 1;
      return transaction.call(this, stores, mode, ...rest);
    };
  }, KINDS);
}

/**
 * The counts since the last reset, then resets them: `{ transactions, readwrite,
 * requests: { get, put, ... }, stores: { name: { read, write } }, reads, writes,
 * errors }` (`errors`: `Error` objects made through the global `Error`).
 */
export async function takeIdbCounts(page) {
  return page.evaluate(() => {
    const c = window.__idbCounts;
    const out = JSON.parse(JSON.stringify(c));
    out.reads = Object.values(c.stores).reduce((n, s) => n + s.read, 0);
    out.writes = Object.values(c.stores).reduce((n, s) => n + s.write, 0);
    c.transactions = 0;
    c.readwrite = 0;
    c.requests = {};
    c.stores = {};
    c.errors = 0;
    return out;
  });
}
