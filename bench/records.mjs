// The benchmark's records, shared by the page (bench/main.js) and the Node side
// (bench/run.mjs seeds both servers with them): ~250 bytes of JSON each, one in ten
// with status 'blocked', so `where('status').equals('blocked')` returns n / 10 rows.

/** The benchmark's schema (Dexie syntax), the same for idb-sync and the baselines. */
export const SCHEMA = { tasks: 'id, status, priority, updatedAt' };

/** `n` task records whose keys start with `tag`. */
export function makeRecords(n, tag, from = 0) {
  const out = new Array(n);
  for (let j = 0; j < n; j++) {
    const i = from + j;
    out[j] = {
      id: `${tag}-${String(i).padStart(8, '0')}-5f1c6a2e`,
      title: `Task number ${i} with a reasonably descriptive title`,
      status: i % 10 === 0 ? 'blocked' : ['todo', 'doing', 'done'][i % 3],
      priority: ['low', 'medium', 'high'][i % 3],
      tags: ['work', 'home'].slice(0, i % 3),
      createdAt: 1_700_000_000_000 + i,
      updatedAt: 1_700_000_000_000 + i,
      notes: 'Lorem ipsum dolor sit amet, consectetur adipiscing',
    };
  }
  return out;
}
