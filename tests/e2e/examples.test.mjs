// The example apps (examples/react-todo, examples/vue-todo) as a user meets them: each
// installs the packed package (scripts/pack, `npm install --no-save <tarball>`), passes
// its strict type check (tsc / vue-tsc) and builds with Vite; then the built app,
// served as static files, runs in headless Chromium against the reference server on
// 127.0.0.1. Every check reads what the user sees (the DOM), on two "devices" (two
// browser contexts signed in to one account) or two tabs of one device.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, startServer } from '../../scripts/lib/stack.mjs';
import { launchBrowser } from './browser.mjs';
import { serveStatic } from './examples/static.mjs';
import { Device, waitForText } from './examples/device.mjs';

const run = promisify(execFile);
const SERVER_BINARY = process.env.IDB_SYNC_SERVER_BIN ?? path.join(ROOT, 'target/debug/idb-sync-server');
/** Records above this many bytes of JSON are rejected by the server (dead letters). */
const MAX_RECORD_BYTES = 4096;

const EXAMPLES = [
  { name: 'react-todo', check: 'tsc' },
  { name: 'vue-todo', check: 'vue-tsc' },
];

let dir, server, browser, tarball;

/** Runs `command` in `cwd`, failing with its output. */
async function sh(cwd, command, args, env = {}) {
  try {
    return await run(command, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 16 << 20 });
  } catch (error) {
    assert.fail(`${command} ${args.join(' ')} (in ${path.relative(ROOT, cwd)}) failed:\n${error.stdout}${error.stderr}`);
  }
}

before(async () => {
  // The package as a user gets it, then installed into each example as the READMEs say.
  const packed = await sh(ROOT, 'scripts/pack', []);
  tarball = packed.stdout.trim().split('\n').pop();
  for (const { name } of EXAMPLES) {
    const cwd = path.join(ROOT, 'examples', name);
    if (!existsSync(path.join(cwd, 'node_modules'))) await sh(cwd, 'npm', ['ci', '--no-audit', '--no-fund']);
    await sh(cwd, 'npm', ['install', '--no-save', '--no-audit', '--no-fund', tarball]);
  }
  dir = await mkdtemp(path.join(tmpdir(), 'idb-sync-e2e-examples-'));
  // The server reads its settings from the environment it inherits: a small record
  // limit (to get a rejected change) and room for the many logins of these tests.
  process.env.IDB_SYNC_MAX_RECORD_BYTES = String(MAX_RECORD_BYTES);
  process.env.IDB_SYNC_RATE_LIMIT_AUTH = '10000';
  server = await startServer({ binary: SERVER_BINARY, database: path.join(dir, 'server.sqlite3') });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

for (const example of EXAMPLES) {
  describe(example.name, () => {
    const cwd = path.join(ROOT, 'examples', example.name);
    const bin = (name) => path.join(cwd, 'node_modules/.bin', name);
    let site;
    let building;
    /** Builds the app once (for whichever test asks first) and serves dist/. */
    const built = () =>
      (building ??= sh(cwd, bin('vite'), ['build', '--logLevel', 'warn'], { VITE_IDB_SYNC_SERVER: server.url }).then(
        async () => (site = await serveStatic(path.join(cwd, 'dist'))),
      ));
    let users = 0;
    /** A new account's credentials (unique per test). */
    const account = () => ({ email: `${example.name}-${++users}-${Date.now()}@example.com`, password: 'correct horse battery' });
    /** A device (a browser context of its own) showing the built app. */
    const device = async (label) => Device.open(browser, await built(), label);
    /** Runs `body(a, b)` on two devices signed in to one new account, then closes both. */
    const withTwoDevices = async (body) => {
      const user = account();
      const a = await device('A');
      const b = await device('B');
      try {
        await a.signUp(user);
        await b.logIn(user);
        await body(a, b);
      } finally {
        await a.close();
        await b.close();
      }
    };

    after(() => site?.close());

    test(`the strict type check passes (${example.check} --noEmit, skipLibCheck false)`, async () => {
      await sh(cwd, bin(example.check), ['--noEmit', '-p', '.']);
    });

    test('vite build bundles the app with the installed package', async () => {
      await built();
    });

    test('a task created, edited and deleted on one device does the same on another', async () => {
      await withTwoDevices(async (a, b) => {
      await a.addProject('Home');
      await a.addTask('Buy milk');
      await a.syncNow();
      await b.syncNow();
      await b.showProject('Home');
      await b.expectTasks(['Buy milk']);

      await a.renameTask('Buy milk', 'Buy oat milk');
      await a.syncNow();
      await b.syncNow();
      await b.expectTasks(['Buy oat milk']);

      await b.toggleTask('Buy oat milk');
      await b.syncNow();
      await a.syncNow();
      await a.expectDone('Buy oat milk', true);

      await a.deleteTask('Buy oat milk');
      await a.syncNow();
      await b.syncNow();
      await b.expectTasks([]);
      });
    });

    test('edits made offline survive a reload and sync when back online', async () => {
      await withTwoDevices(async (a, b) => {
      await a.addTask('Call the plumber');
      await a.syncNow();

      await a.goOffline();
      await waitForText(a.page.getByTestId('network'), /^Offline$/);
      await a.renameTask('Call the plumber', 'Call the plumber at 9');
      await a.addTask('Pay the bill');
      await waitForText(a.page.getByTestId('pending'), /^2 changes to sync$/);

      await a.reload();
      await a.expectTasks(['Call the plumber at 9', 'Pay the bill']);
      await waitForText(a.page.getByTestId('pending'), /^2 changes to sync$/);
      await waitForText(a.page.getByTestId('network'), /^Offline$/);

      await a.goOnline();
      await waitForText(a.page.getByTestId('network'), /^Online$/);
      await waitForText(a.page.getByTestId('pending'), /^All changes synced$/);
      await b.syncNow();
      await b.expectTasks(['Call the plumber at 9', 'Pay the bill']);
      });
    });

    test('two tabs of one device: one leads the sync loop, both show every change', async () => {
      const user = account();
      const a = await device('A');
      const b = await device('B');
      try {
        await a.signUp(user);
        const second = await a.openTab();
        const deadline = Date.now() + 15_000;
        let roles;
        while ((roles = [await a.tabRole(), await second.tabRole()].sort()).join() !== 'Follower tab,Leader tab') {
          if (Date.now() > deadline) assert.deepEqual(roles, ['Follower tab', 'Leader tab'], 'one tab leads');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }

        await second.addTask('Written in the second tab');
        await a.expectTasks(['Written in the second tab']);
        await a.addTask('Written in the first tab');
        await second.expectTasks(['Written in the second tab', 'Written in the first tab']);
        await waitForText(second.page.getByTestId('pending'), /^All changes synced$/);

        await b.logIn(user);
        await b.expectTasks(['Written in the second tab', 'Written in the first tab']);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('a change pulled from another device re-renders the open list (useLiveQuery), with no action on it', async () => {
      await withTwoDevices(async (a, b) => {
      await a.expectTasks([]);
      await b.addTask('Pulled by the other device');
      await b.syncNow();
      // A only waits: its automatic loop (every 5 s) pulls, the list re-renders.
      await a.expectTasks(['Pulled by the other device'], 20_000);
      });
    });

    test('a task edited on both devices while apart is a conflict: keep mine, or keep the server’s', async () => {
      await withTwoDevices(async (a, b) => {
      await a.addTask('Water plants');
      await a.addTask('Walk the dog');
      await a.syncNow();
      await b.syncNow();
      await b.expectTasks(['Water plants', 'Walk the dog']);

      await a.goOffline();
      await b.goOffline();
      await a.renameTask('Water plants', 'Water plants (A)');
      await a.renameTask('Walk the dog', 'Walk the dog (A)');
      await b.renameTask('Water plants', 'Water plants (B)');
      await b.renameTask('Walk the dog', 'Walk the dog (B)');
      await a.goOnline();
      await a.syncNow();
      await b.goOnline();
      await b.syncNow();

      const conflicts = b.page.getByTestId('conflict');
      await waitForCount(conflicts, 2);
      const plants = conflicts.filter({ hasText: 'Water plants (B)' });
      assert.equal(await plants.getByTestId('conflict-local').textContent(), 'Water plants (B)');
      assert.equal(await plants.getByTestId('conflict-server').textContent(), 'Water plants (A)');
      await plants.getByTestId('keep-local').click();
      await conflicts.filter({ hasText: 'Walk the dog (B)' }).getByTestId('keep-server').click();
      await waitForCount(conflicts, 0);
      await b.expectTasks(['Water plants (B)', 'Walk the dog (A)']);
      await b.syncNow();
      await a.syncNow();
      await a.expectTasks(['Water plants (B)', 'Walk the dog (A)']);
      });
    });

    test('a change the server rejects is listed with its code, and can be retried or discarded', async () => {
      const user = account();
      const a = await device('A');
      try {
        await a.signUp(user);
        await a.addTask('A normal task');
        const huge = `Too long ${'x'.repeat(MAX_RECORD_BYTES)}`;
        await a.addTask(huge);
        await a.syncNow();
        const letters = a.page.getByTestId('dead-letter');
        await waitForCount(letters, 1);
        assert.equal(await letters.getByTestId('dead-letter-code').textContent(), 'record_too_large');
        await a.expectTasks(['A normal task']); // rolled back: the server never had it

        await letters.getByTestId('retry').click();
        await a.syncNow();
        await waitForCount(letters, 1);
        await letters.getByTestId('discard').click();
        await waitForCount(letters, 0);
        await waitForText(a.page.getByTestId('dead-letters'), /None\./);
        await a.expectTasks(['A normal task']);
      } finally {
        await a.close();
      }
    });
  });
}

/** Waits until `locator` matches `n` elements. */
async function waitForCount(locator, n, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  let count;
  while ((count = await locator.count()) !== n) {
    if (Date.now() > deadline) assert.fail(`expected ${n} of ${locator}, found ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
