// The two-device demo page: checks that the package loads and the sync server answers
// (the footer), signs up the demo account once, then shows two devices side by side —
// each an iframe of device.html with its own IndexedDB database — and draws each
// device's link to the server from the state its frame posts.
import { ready, version, protocolVersion, checkServer } from 'idb-sync';
import { demoAccount, serverUrl } from './account.js';

const show = (id, state, text) => {
  const element = document.getElementById(id);
  element.dataset.state = state;
  element.textContent = text;
};

document.getElementById('server-url').textContent = serverUrl.replace(/^https?:\/\//, '');

try {
  await ready();
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

window.addEventListener('message', (event) => {
  if (event.origin !== location.origin || typeof event.data?.idbSyncDemo !== 'string') return;
  const link = document.getElementById(`link-${event.data.idbSyncDemo.toLowerCase()}`);
  if (link) link.dataset.state = event.data.state;
});

try {
  await demoAccount({ check: true }); // signed up here once: the two frames do not race
  for (const device of ['Laptop', 'Phone']) {
    document.getElementById(device.toLowerCase()).src = `./device.html?device=${device}`;
  }
} catch (error) {
  // Without a server there is no account to sign up (the footer already says why).
  if (document.getElementById('server').dataset.state === 'ok') {
    show('server', 'error', `could not create the demo account: ${error.message}`);
  }
}
