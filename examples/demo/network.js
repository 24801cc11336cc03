// The device's online/offline switch. A browser cannot take one frame offline alone,
// so the switch does it for this frame's window: while off, `fetch` to the sync server
// fails the way a dropped connection does (a TypeError, which idb-sync reports as
// `network_error`), `navigator.onLine` reads false — the sync loop reads it through
// `globalThis.navigator.onLine` (src/sync/triggers.rs) — and the window hears
// `offline`; switching back dispatches `online`, on which the loop syncs at once.
import { serverUrl } from './account.js';

let switchedOn = true;
const browserOnLine = Object.getOwnPropertyDescriptor(Navigator.prototype, 'onLine').get;
const realFetch = window.fetch.bind(window);

Object.defineProperty(navigator, 'onLine', {
  configurable: true,
  get: () => switchedOn && browserOnLine.call(navigator),
});

window.fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (!switchedOn && url.startsWith(serverUrl)) {
    return Promise.reject(new TypeError('Failed to fetch (this demo device is offline)'));
  }
  return realFetch(input, init);
};

/** Whether the device's network switch is on. */
export const isSwitchedOn = () => switchedOn;

/** Turns the device's network on or off, and tells the window (and so idb-sync). */
export function setOnline(online) {
  if (online === switchedOn) return;
  switchedOn = online;
  window.dispatchEvent(new Event(online ? 'online' : 'offline'));
}
