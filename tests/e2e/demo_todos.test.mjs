// End-to-end: the two-device demo driven like a user would. The page (examples/demo)
// frames two devices, Laptop and Phone, each with its own IndexedDB database and the
// same demo account: a task added on one shows up on the other; both switched offline
// and editing the same task converge, once back online, to the later edit, and the
// conflict log says so; the pending count goes up offline and back to 0. The passing
// run's mid-demo state is saved as target/demo.png, and as docs/demo.png (the README
// shows it) when IDB_SYNC_UPDATE_SCREENSHOT=1, so a test run leaves the tree clean (the
// page shows the test server's random port). A second test
// runs one device page in each of two browser profiles.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ROOT } from '../../scripts/lib/stack.mjs';
import { startDemoStack } from './demo_stack.mjs';
import { eventually } from './harness.mjs';

let stack, demo, browser;

before(async () => {
  stack = await startDemoStack('idb-sync-e2e-demo-');
  ({ demo, browser } = stack);
});

after(async () => {
  await stack?.stop();
});

/** What a user sees on one device. */
const device = (frame) => ({
  titles: () => frame.locator('#tasks input.title').evaluateAll((inputs) => inputs.map((input) => input.value)),
  status: () => frame.locator('#status').textContent(),
  pending: () => frame.locator('#pending').textContent(),
  log: () => frame.locator('#conflict-log li').allInnerTexts(),
  add: async (title) => {
    await frame.locator('#new-title').fill(title);
    await frame.locator('#new-title').press('Enter');
  },
  rename: async (from, to) => {
    const titles = await frame.locator('#tasks input.title').evaluateAll((inputs) => inputs.map((i) => i.value));
    assert.ok(titles.includes(from), `no task "${from}" in ${JSON.stringify(titles)}`);
    const input = frame.locator('#tasks input.title').nth(titles.indexOf(from));
    await input.fill(to);
    await input.press('Enter');
  },
  toggleNetwork: () => frame.locator('label.switch').click(),
});

const same = (expected) => (value) => JSON.stringify(value) === JSON.stringify(expected);

test('two devices side by side: sync, offline edits, a resolved conflict in the log', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 960 } });
  try {
    await page.goto(demo.url);
    const laptop = device(page.frameLocator('#laptop'));
    const phone = device(page.frameLocator('#phone'));
    for (const d of [laptop, phone]) await eventually(d.status, (s) => s === 'Up to date', 'status at start');
    assert.equal(await page.frameLocator('#laptop').locator('#leader').textContent(), 'this tab');

    // Added on the Laptop, shown on the Phone after its next sync.
    for (const title of ['Buy milk', 'Book the dentist', 'Water the plants']) await laptop.add(title);
    const all = ['Buy milk', 'Book the dentist', 'Water the plants'];
    await eventually(phone.titles, same(all), 'Phone tasks');
    await page.frameLocator('#phone').locator('#tasks li').nth(2).locator('input[type=checkbox]').check();
    await eventually(
      () => page.frameLocator('#laptop').locator('#tasks li.done input.title').evaluateAll((i) => i.map((e) => e.value)),
      same(['Water the plants']),
      'done on the Laptop',
    );
    await eventually(laptop.pending, (p) => p === '0 changes', 'Laptop pending');

    // Both offline: edits stay local and count as pending.
    await laptop.toggleNetwork();
    await phone.toggleNetwork();
    for (const d of [laptop, phone]) await eventually(d.status, (s) => s === 'Offline', 'status offline');
    // The switch cuts the device off for idb-sync too: its own status says offline,
    // and `syncNow()` (which reads navigator.onLine) refuses with `offline`.
    for (const name of ['Laptop', 'Phone']) {
      const frame = page.frame({ url: new RegExp(`device=${name}`) });
      const status = await frame.evaluate(() => window.sync.getSyncStatus());
      assert.equal(status.online, false, `${name} status.online`);
      assert.equal(status.phase, 'offline', `${name} status.phase`);
      const code = await frame.evaluate(() => window.sync.syncNow().then(() => 'synced', (error) => error.code));
      assert.equal(code, 'offline', `${name} syncNow()`);
    }
    assert.equal(await page.frameLocator('#phone').locator('#offline-note').isVisible(), true);
    assert.equal(await page.frameLocator('#phone').locator('#sync-now').isDisabled(), true);
    await laptop.rename('Buy milk', 'Buy oat milk');
    await eventually(laptop.pending, (p) => p === '1 change', 'Laptop pending offline');
    await phone.rename('Buy milk', 'Buy soy milk');
    await eventually(phone.pending, (p) => p === '1 change', 'Phone pending offline');
    // Offline means offline: two sync intervals later neither has the other's edit.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.deepEqual(await laptop.titles(), ['Buy oat milk', 'Book the dentist', 'Water the plants']);
    assert.deepEqual(await phone.titles(), ['Buy soy milk', 'Book the dentist', 'Water the plants']);

    // Back online, the Laptop first: its rename reaches the server.
    await laptop.toggleNetwork();
    await eventually(laptop.pending, (p) => p === '0 changes', 'Laptop pending online');
    await eventually(laptop.status, (s) => s === 'Up to date', 'Laptop status online');
    // Then the Phone: its rename is the later edit, so it wins on both devices.
    await phone.toggleNetwork();
    const converged = ['Buy soy milk', 'Book the dentist', 'Water the plants'];
    await eventually(phone.titles, same(converged), 'Phone tasks after the conflict');
    await eventually(laptop.titles, same(converged), 'Laptop tasks after the conflict');
    for (const d of [laptop, phone]) await eventually(d.pending, (p) => p === '0 changes', 'pending after');
    const [entry] = await eventually(phone.log, (log) => log.length === 1, 'Phone conflict log');
    assert.match(entry, /^Buy soy milk\n/);
    assert.match(entry, /Title: kept “Buy soy milk” from Phone, over “Buy oat milk” from Laptop/);
    assert.match(entry, /Resolved automatically: the later edit wins/);
    assert.deepEqual(await laptop.log(), []); // the Laptop synced first: no conflict there
    assert.equal(await page.frameLocator('#phone').locator('#conflict-count').textContent(), '1');
    assert.equal(
      await page.frameLocator('#laptop').locator('#tasks li', { hasText: 'edited on Phone' }).count(),
      2, // the renamed task and the one ticked on the Phone
    );
    for (const d of [laptop, phone]) await eventually(d.status, (s) => s === 'Up to date', 'status after');

    const screenshot = process.env.IDB_SYNC_UPDATE_SCREENSHOT === '1' ? 'docs/demo.png' : 'target/demo.png';
    await page.screenshot({ path: path.join(ROOT, screenshot) });
  } finally {
    await page.close();
  }
});

test('one device page per browser profile: a task reaches the second device', async () => {
  const first = await browser.newContext();
  const second = await browser.newContext();
  try {
    const page = await first.newPage();
    await page.goto(`${demo.url}device.html?device=Laptop`);
    await eventually(() => page.locator('#status').textContent(), (s) => s === 'Up to date', 'first status');
    await device(page).add('Buy bread');
    await page.waitForFunction(() => {
      const s = window.sync.getSyncStatus();
      return s.pending + s.inFlight === 0 && s.lastSyncAt !== null && !s.syncing;
    });
    // The second device signs in to the same account.
    const account = await page.evaluate(() => {
      const key = Object.keys(localStorage).find((k) => k.startsWith('idb-sync-demo-account:'));
      return [key, localStorage.getItem(key)];
    });
    const other = await second.newPage();
    await other.addInitScript(([key, value]) => localStorage.setItem(key, value), account);
    await other.goto(`${demo.url}device.html?device=Phone`);
    await eventually(device(other).titles, (titles) => titles.includes('Buy bread'), 'second device tasks');
    await eventually(device(other).status, (s) => s === 'Up to date', 'second status');
    assert.equal(await device(other).pending(), '0 changes');
  } finally {
    await first.close();
    await second.close();
  }
});
