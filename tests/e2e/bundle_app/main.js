// A minimal app for bundle.test.mjs: only `LocalDatabase` is imported, and `init()` is
// never called: `open` must load the module itself in a production bundle too.
import { LocalDatabase } from 'idb-sync';

try {
  const db = await LocalDatabase.open({ dbName: `bundle-${Date.now()}`, schema: { notes: 'id' } });
  const id = await db.table('notes').add({ text: 'from a production bundle' });
  const back = await db.table('notes').get(id);
  db.close();
  document.querySelector('#state').textContent = back.text;
  document.querySelector('#state').dataset.state = 'ready';
} catch (error) {
  document.querySelector('#state').textContent = `${error.name}: ${error.message}`;
  document.querySelector('#state').dataset.state = 'failed';
}
