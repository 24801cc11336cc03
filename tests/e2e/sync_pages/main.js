// Test page for the SyncManager end-to-end tests: the built package (pkg/), as an app
// imports it. Tests drive it with page.evaluate().
import init, { SyncManager } from 'idb-sync';

await init();
window.SyncManager = SyncManager;
document.querySelector('#state').textContent = 'ready';
document.querySelector('#state').dataset.state = 'ready';
