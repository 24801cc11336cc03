// The demo page: loads the idb-sync wasm package and shows that the sync server answers.
import init, { version, protocolVersion, checkServer } from 'idb-sync';

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
