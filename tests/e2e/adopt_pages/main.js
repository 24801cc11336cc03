// Test page for the adoption end-to-end tests: the built package (pkg/) and the real
// `dexie` npm package side by side, as a Dexie app moving to idb-sync has them.
import init, { SyncManager } from 'idb-sync';
import Dexie from 'dexie';

await init();
window.SyncManager = SyncManager;
window.Dexie = Dexie;
document.querySelector('#state').textContent = 'ready';
document.querySelector('#state').dataset.state = 'ready';
