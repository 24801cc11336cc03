// The entry point `idb-sync/adapters`: the same API as `idb-sync` (js/index.js), over
// the build that also holds the protocol adapters for servers an app already has
// (`options.protocol: { kind: 'pushPull' | … }`, docs/ADAPTERS.md). A separate build
// so that apps speaking protocol v1 do not load the adapters' code.
import init, * as wasm from '../pkg-adapters/idb_sync.js';
import { loader } from './load.js';

export * from '../pkg-adapters/idb_sync.js';
export { default } from '../pkg-adapters/idb_sync.js';
export { liveQuery } from './live_query.js';
export { SyncError } from './load.js';

const { ready, loadingOnOpen } = loader(init, 'pkg-adapters');

/** Loads the WebAssembly module once (see index.d.ts). */
export { ready };
/** The sync engine of one database (see index.d.ts). */
export const SyncManager = loadingOnOpen(wasm.SyncManager);
/** An IndexedDB database with idb-sync's outbox and no server (see index.d.ts). */
export const LocalDatabase = loadingOnOpen(wasm.LocalDatabase);
