// Test page of types_runtime.test.mjs: the package as an app imports it (no `init()`:
// `open` loads the module), and the checkers of tests/types/shapes.ts, compiled by the
// test into ./generated/ before the page is served.
import { SyncManager, SyncError, errorCodes, ready } from 'idb-sync';
import { shapes } from './generated/shapes.js';

await ready();
window.SyncManager = SyncManager;
window.SyncError = SyncError;
window.shapes = shapes(errorCodes());

/** What `check` finds wrong with `value`, as the declared type `name` (empty: none). */
window.problems = (name, value, path = name) => window.shapes[name](value, path);

document.querySelector('#state').textContent = 'ready';
document.querySelector('#state').dataset.state = 'ready';
