// Test page for the value and argument tests (values.test.mjs, arguments.test.mjs):
// the built package as an app imports it, plus the values JSON cannot carry, built
// here because Node cannot pass functions, symbols or Blobs to page.evaluate().
import init, { SyncManager, LocalDatabase, checkServer } from 'idb-sync';

await init();
window.SyncManager = SyncManager;
window.LocalDatabase = LocalDatabase;
window.checkServer = checkServer;

/** An object nested `depth` levels deep: `{ next: { next: ... } }`. */
window.nested = (depth) => {
  let value = { leaf: true };
  for (let i = 0; i < depth; i++) value = { next: value };
  return value;
};

/** A record whose field `meta.self` points back at `meta`. */
window.circular = () => {
  const meta = { size: 1 };
  meta.self = meta;
  return meta;
};

/**
 * Every kind of value a synced record cannot hold, each as `{ name, field, value,
 * path }`: `field` is the record's top-level field to set to `value`, `path` the
 * field path the refusal must name.
 */
window.refusedValues = () => {
  const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
  return [
    { name: 'Map', field: 'meta', value: { m: new Map([['a', 1]]) }, path: 'meta.m' },
    { name: 'Set', field: 'tags', value: ['a', 'b', new Set([1])], path: 'tags[2]' },
    { name: 'BigInt', field: 'meta', value: { size: 10n }, path: 'meta.size' },
    { name: 'Uint8Array', field: 'bytes', value: new Uint8Array([1, 2]), path: 'bytes' },
    { name: 'ArrayBuffer', field: 'buffer', value: new ArrayBuffer(4), path: 'buffer' },
    { name: 'Blob', field: 'file', value: new Blob(['x']), path: 'file' },
    { name: 'File', field: 'files', value: [new File(['x'], 'a.txt')], path: 'files[0]' },
    { name: 'function', field: 'meta', value: { fn: () => 1 }, path: 'meta.fn' },
    { name: 'Symbol', field: 'kind', value: Symbol('s'), path: 'kind' },
    { name: 'NaN', field: 'meta', value: { size: NaN }, path: 'meta.size' },
    { name: 'Infinity', field: 'score', value: Infinity, path: 'score' },
    { name: '-Infinity', field: 'scores', value: [1, -Infinity], path: 'scores[1]' },
    { name: 'invalid Date', field: 'due', value: new Date('not a date'), path: 'due' },
    { name: 'RegExp', field: 'pattern', value: /a+/, path: 'pattern' },
    { name: 'circular reference', field: 'meta', value: window.circular(), path: 'meta.self' },
    { name: 'deep nesting', field: 'deep', value: window.nested(100), path: 'deep' },
    { name: 'sparse array', field: 'tags', value: sparse, path: 'tags[1]' },
    { name: 'undefined in an array', field: 'tags', value: ['a', undefined], path: 'tags[1]' },
    { name: 'lone surrogate', field: 'title', value: 'broken \ud800 text', path: 'title' },
    { name: 'U+0000', field: 'title', value: 'nul \u0000 inside', path: 'title' },
  ];
};

/**
 * Runs `fn` and describes what happened: `'ok'`, or the thrown/rejected error's
 * `{ name, code, message, path, how }` (a trap shows as `name: 'RuntimeError'`);
 * `how` is `'threw'` (synchronously) or `'rejected'` (a promise the call returned).
 */
window.outcome = async (fn) => {
  const describe = (e, how) => ({ name: e?.name, code: e?.code, message: String(e?.message ?? e), path: e?.path, how });
  let result;
  try {
    result = fn();
  } catch (e) {
    return describe(e, 'threw');
  }
  try {
    if (result && typeof result.then === 'function') await result;
    return 'ok';
  } catch (e) {
    return describe(e, 'rejected');
  }
};

document.querySelector('#state').textContent = 'ready';
document.querySelector('#state').dataset.state = 'ready';
