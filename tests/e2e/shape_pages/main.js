// Test page of types_runtime.test.mjs and live_query.test.mjs: the package as an app imports it (no `init()`:
// `open` loads the module), and the checkers of tests/types/shapes.ts, compiled by the
// test into ./generated/ before the page is served.
import { SyncManager, SyncError, errorCodes, liveQuery, ready } from 'idb-sync';
import { shapes } from './generated/shapes.js';

await ready();
window.SyncManager = SyncManager;
window.SyncError = SyncError;
window.liveQuery = liveQuery;
window.shapes = shapes(errorCodes());

/** What `check` finds wrong with `value`, as the declared type `name` (empty: none). */
window.problems = (name, value, path = name) => window.shapes[name](value, path);

document.querySelector('#state').textContent = 'ready';
document.querySelector('#state').dataset.state = 'ready';
