// What both entry points (`idb-sync`: js/index.js, `idb-sync/adapters`:
// js/adapters.js) add around their WebAssembly build: loading the module once, on
// first use, and `SyncError`. Each entry passes its own generated glue.
import { watchChanges } from './changes.js';

/**
 * The loader of one build: `ready()` loads its WebAssembly module once (what `init()`
 * does, shared; a load that fails, the network say, is tried again by the next
 * call), and `loadingOnOpen(cls)` makes `cls.open` load it first and feed the opened
 * database's change events to `liveQuery`.
 * @param {(input?: object) => Promise<unknown>} init the glue's default export
 * @param {string} dir the build's folder in the package (`pkg`, `pkg-adapters`)
 */
export function loader(init, dir) {
  let loading = null;
  function ready() {
    const url = moduleUrlInDevCache(dir);
    loading ??= init(url && { module_or_path: url }).catch((error) => {
      loading = null;
      throw error;
    });
    return loading;
  }
  /* The class stays the generated one, so `instanceof` keeps working. (The patched
   * class is what the entry exports, so a bundler that drops unused modules cannot
   * drop the patch and keep the class.) */
  function loadingOnOpen(cls) {
    const open = cls.open;
    cls.open = async function openAfterLoading(options) {
      await ready();
      const opened = await open.call(cls, options);
      watchChanges(opened);
      return opened;
    };
    return cls;
  }
  return { ready, loadingOnOpen };
}

/**
 * Where the WebAssembly module is when a dev server pre-bundled this package into its
 * cache (Vite's `node_modules/.vite/deps/`): the glue looks for the module beside
 * itself, but the cache holds only JavaScript, so it is read from the installed
 * package instead (vitejs/vite#8427). `undefined` elsewhere: beside the glue, where
 * bundlers put it for production builds.
 */
function moduleUrlInDevCache(dir) {
  const cache = /^(.*\/node_modules\/)\.vite\/deps\//.exec(import.meta.url);
  return cache ? new URL(`${cache[1]}idb-sync/${dir}/idb_sync_bg.wasm`) : undefined;
}

/**
 * The class of every error idb-sync throws or rejects with: `err instanceof SyncError`
 * is true for an `Error` whose `name` is 'SyncError' (it carries a stable `code`; see
 * docs/ERRORS.md). The errors themselves are created by the WebAssembly module.
 */
export class SyncError extends Error {
  /** @param {unknown} value */
  static [Symbol.hasInstance](value) {
    return value instanceof Error && value.name === 'SyncError' && typeof value.code === 'string';
  }
}
