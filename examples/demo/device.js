// One device of the demo (device.html?device=Laptop): a task list on its own IndexedDB
// database, synced through the demo account, with the device's network switch, its
// sync status and its conflict log. The two-device page (index.html) shows two of them.
import './network.js'; // first: the switch must wrap `fetch` before anything syncs
import { SyncManager } from 'idb-sync';
import { demoAccount, serverUrl } from './account.js';
import { isSwitchedOn, setOnline } from './network.js';
import { describeConflict } from './conflicts.js';

const device = new URLSearchParams(location.search).get('device') ?? 'This device';
const $ = (id) => document.getElementById(id);
$('device-name').textContent = device;
document.title = `${device} · idb-sync demo`;

const timeOf = (ms) =>
  new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The device's state in a word for the status pill: `[state, text]`. */
function stateOf(status) {
  const waiting = status.pending + status.inFlight;
  if (!isSwitchedOn() || !status.online) return ['offline', 'Offline'];
  if (status.phase === 'error') return ['error', `Sync failed: ${status.lastError?.message ?? 'unknown error'}`];
  if (status.phase === 'pushing') return ['syncing', 'Sending changes…'];
  if (status.phase === 'pulling' || status.syncing) return ['syncing', 'Getting changes…'];
  if (waiting > 0) return ['waiting', 'Changes waiting'];
  return ['synced', 'Up to date'];
}

function showStatus(sync, status) {
  const waiting = status.pending + status.inFlight;
  const [state, text] = stateOf(status);
  $('status').dataset.state = state;
  $('status').textContent = text;
  $('status').title = text;
  $('pending').textContent = plural(waiting, 'change');
  $('pending').dataset.state = waiting > 0 ? 'waiting' : 'none';
  $('last-sync').textContent = status.lastSyncAt ? timeOf(status.lastSyncAt) : 'never';
  $('leader').textContent = sync.isLeader ? 'this tab' : 'another tab';
  $('sync-now').disabled = !isSwitchedOn();
  $('offline-note').hidden = state !== 'offline';
  parent.postMessage({ idbSyncDemo: device, state, pending: waiting }, location.origin);
}

/** Keyed rendering, so a title being edited is not overwritten under the cursor. */
function renderTasks(sync, tasks) {
  const list = $('tasks');
  const items = new Map([...list.children].map((li) => [li.dataset.id, li]));
  const wanted = tasks.map((task) => {
    const item = items.get(task.id) ?? taskItem(sync, task.id);
    const [box, title] = [item.querySelector('input[type=checkbox]'), item.querySelector('input.title')];
    box.checked = task.done;
    item.classList.toggle('done', task.done);
    if (document.activeElement !== title) title.value = task.title;
    item.querySelector('.edited').textContent = task.editedOn === device ? '' : `edited on ${task.editedOn}`;
    return item;
  });
  list.replaceChildren(...wanted);
  $('empty').hidden = tasks.length > 0;
}

function taskItem(sync, id) {
  const item = document.createElement('li');
  item.dataset.id = id;
  item.innerHTML = `<input type="checkbox" aria-label="Done" />
    <div class="text"><input class="title" aria-label="Title" /><span class="edited"></span></div>
    <button type="button" class="delete" aria-label="Delete" title="Delete">×</button>`;
  const [box, title] = [item.querySelector('input[type=checkbox]'), item.querySelector('input.title')];
  const edit = (changes) => sync.update('tasks', id, { ...changes, editedOn: device });
  box.addEventListener('change', () => edit({ done: box.checked }));
  title.addEventListener('change', () => title.value.trim() && edit({ title: title.value.trim() }));
  title.addEventListener('keydown', (event) => event.key === 'Enter' && title.blur());
  item.querySelector('.delete').addEventListener('click', () => sync.delete('tasks', id));
  return item;
}

function renderConflicts(entries) {
  const rows = entries
    .filter((entry) => entry.table === 'tasks')
    .map((entry) => describeConflict(entry, device))
    .reverse() // newest first
    .map(({ task, lines, reason, at }) => {
      const item = document.createElement('li');
      const head = Object.assign(document.createElement('div'), { className: 'head' });
      head.append(Object.assign(document.createElement('strong'), { textContent: task }));
      head.append(Object.assign(document.createElement('time'), { textContent: timeOf(at) }));
      item.append(head, ...lines.map((line) => Object.assign(document.createElement('p'), { textContent: line })));
      item.append(Object.assign(document.createElement('p'), { className: 'reason', textContent: `Resolved automatically: ${reason}` }));
      return item;
    });
  $('conflict-log').replaceChildren(...rows);
  $('conflict-count').textContent = rows.length;
  $('no-conflicts').hidden = rows.length > 0;
}

async function start() {
  const account = await demoAccount();
  const sync = await SyncManager.open({
    dbName: `idb-sync-demo:${account.email}:${device}`,
    schema: { tasks: 'id, createdAt' },
    endpoint: serverUrl,
    auth: { getToken: account.getToken },
    // Short timings, so the other device's edits show up within a couple of seconds.
    interval: 1500,
    debounce: 100,
    // The later edit wins, and every conflict is logged (docs/SYNC_MANAGER.md).
    conflict: 'lastWriteWins',
  });
  window.sync = sync;

  const refresh = async () => {
    renderTasks(sync, await sync.table('tasks').orderBy('createdAt').toArray());
    renderConflicts(await sync.conflictLog());
  };
  let lastSyncAt = null;
  sync.onChange('tasks', refresh);
  sync.subscribe((status) => {
    showStatus(sync, status);
    if (status.lastSyncAt !== lastSyncAt) {
      lastSyncAt = status.lastSyncAt;
      refresh(); // a round can log a conflict without changing what this device shows
    }
  });
  setInterval(() => showStatus(sync, sync.getSyncStatus()), 1000); // `isLeader` can change

  $('add').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('new-title');
    const title = input.value.trim();
    input.value = '';
    if (title) await sync.create('tasks', { title, done: false, createdAt: Date.now(), editedOn: device });
  });
  $('sync-now').addEventListener('click', () => sync.syncNow().catch(() => {})); // the status shows why
  $('network').addEventListener('change', () => {
    setOnline($('network').checked);
    showStatus(sync, sync.getSyncStatus());
  });
  showStatus(sync, sync.getSyncStatus());
  await refresh();
}

start().catch((error) => {
  $('status').dataset.state = 'error';
  $('status').textContent = `Could not start: ${error.message}`;
});
