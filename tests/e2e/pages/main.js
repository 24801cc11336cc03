// Test page for the storage end-to-end tests and the benchmark: the built package
// (pkg/, as an app imports it) and the real `dexie` npm package, side by side.
import init, { LocalDatabase } from 'idb-sync';
import Dexie, { liveQuery } from 'dexie';

await init();
window.LocalDatabase = LocalDatabase;
window.Dexie = Dexie;
window.liveQuery = liveQuery;
document.querySelector('#state').textContent = 'ready';
document.querySelector('#state').dataset.state = 'ready';
