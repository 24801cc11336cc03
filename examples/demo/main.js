// The demo page: loads the idb-sync wasm package, shows that the sync server answers,
// and runs a small todo app on SyncManager (a demo account is created on first visit
// and remembered in localStorage).
import init, { version, protocolVersion, checkServer, SyncManager } from 'idb-sync';

const serverUrl = __IDB_SYNC_SERVER__;
const show = (id, state, text) => {
  const element = document.getElementById(id);
  element.dataset.state = state;
  element.textContent = text;
};

document.getElementById('server-url').textContent = serverUrl;

try {
  await init();
  show('package', 'ok', `idb-sync ${version()} (protocol v${protocolVersion()})`);
} catch (error) {
  show('package', 'error', `could not load the wasm package: ${error.message}`);
  throw error;
}

try {
  const health = await checkServer(serverUrl);
  show('server', 'ok', `${serverUrl} answers: ${health.status}, server ${health.version}, protocol v${health.protocolVersion}, ${health.database}`);
} catch (error) {
  show('server', 'error', `${serverUrl} does not answer (${error.code ?? error.name}): ${error.message}`);
}

/** The demo account on this server: signed up once, then logged in for each token. */
async function demoAccount() {
  const key = `idb-sync-demo-account:${serverUrl}`;
  let account = JSON.parse(localStorage.getItem(key) ?? 'null');
  const post = (path, body) =>
    fetch(`${serverUrl}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!account) {
    account = { email: `demo-${crypto.randomUUID()}@example.com`, password: crypto.randomUUID() };
    const response = await post('/v1/auth/signup', account);
    if (response.status !== 201) throw new Error(`sign-up failed: HTTP ${response.status}`);
    localStorage.setItem(key, JSON.stringify(account));
  }
  const getToken = async () => {
    const response = await post('/v1/auth/login', account);
    if (!response.ok) throw new Error(`login failed: HTTP ${response.status}`);
    return (await response.json()).token;
  };
  return { ...account, getToken };
}

async function startTodos() {
  const account = await demoAccount();
  const sync = await SyncManager.open({
    dbName: `idb-sync-demo:${account.email}`,
    schema: { todos: 'id, done' },
    endpoint: serverUrl,
    auth: { getToken: account.getToken },
  });
  window.sync = sync;
  const list = document.getElementById('todos');

  async function render() {
    const todos = await sync.table('todos').toArray();
    list.replaceChildren(
      ...todos.map((todo) => {
        const item = document.createElement('li');
        item.className = todo.done ? 'done' : '';
        const box = Object.assign(document.createElement('input'), { type: 'checkbox', checked: todo.done });
        box.addEventListener('change', () => sync.update('todos', todo.id, { done: box.checked }));
        const title = Object.assign(document.createElement('span'), { textContent: todo.title });
        const remove = Object.assign(document.createElement('button'), { textContent: 'Delete' });
        remove.addEventListener('click', () => sync.delete('todos', todo.id));
        item.append(box, title, remove);
        return item;
      }),
    );
  }

  function showStatus(status) {
    const when = status.lastSyncAt ? new Date(status.lastSyncAt).toLocaleTimeString() : 'never';
    const error = status.lastError ? ` — ${status.lastError.code}: ${status.lastError.message}` : '';
    const state = status.phase === 'error' ? 'error' : status.pending + status.inFlight > 0 ? 'pending' : 'ok';
    show('sync-status', state, `${status.phase}, ${status.pending + status.inFlight} to send, last sync ${when}${error}`);
  }

  document.getElementById('add').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = document.getElementById('title');
    await sync.create('todos', { title: input.value, done: false });
    input.value = '';
  });
  document.getElementById('sync-now').addEventListener('click', () => sync.syncNow().catch((e) => console.warn(e.code, e.message)));
  sync.onChange('todos', render);
  sync.subscribe(showStatus);
  showStatus(sync.getSyncStatus());
  await render();
}

startTodos().catch((error) => show('sync-status', 'error', `could not start syncing (${error.code ?? error.name}): ${error.message}`));
