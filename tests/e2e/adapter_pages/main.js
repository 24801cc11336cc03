// Test page for the protocol adapters' tests (tests/e2e/adapter_*.test.mjs): the
// `idb-sync/adapters` entry as an app imports it, and Dexie, to write a database the
// way a seed's own client did before idb-sync adopts it.
import { SyncManager, SyncError, ready } from 'idb-sync/adapters';
import Dexie from 'dexie';

await ready();
window.SyncManager = SyncManager;
window.SyncError = SyncError;
window.Dexie = Dexie;
document.querySelector('#state').textContent = 'ready';
document.querySelector('#state').dataset.state = 'ready';
