// `idb-sync/adapters`: the same API and types as `idb-sync` (index.d.ts), from the
// build that also holds the protocol adapters (docs/ADAPTERS.md).
export * from './index.js';
export { default } from './index.js';
