// End-to-end: a live stream that goes silent is given up (issue 14). The real server on
// 127.0.0.1 runs with a short keepalive interval (its `ready` says 200 ms, so the client
// calls three silent intervals, floored at 1 s, dead); the page talks to it through a
// small relay in this process that can stop passing a stream's bytes while keeping its
// connection open (a half-open connection: nothing ends, nothing arrives) or answer
// nothing at all. The client must leave 'push', drop the dead stream, reopen one after
// its backoff and be pushed to again. Intervals are hours: no timer runs a round.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { openPage } from './pages/server.mjs';
import { startStack } from './harness.mjs';

let stack;
let relay;
before(async () => {
  process.env.IDB_SYNC_EVENTS_KEEPALIVE_MS = '200';
  stack = await startStack('live-silence', { pagesDir: 'sync_pages' });
  relay = await startRelay(stack.server.url);
});
after(async () => {
  await relay?.close();
  await stack?.stop();
});

/**
 * An HTTP relay to `upstream`. Every `/v1/events` stream is recorded in `streams`
 * (`muted`: its bytes are no longer passed on; `closed`: the client hung up). With
 * `answerNothing` set, new event streams get no response at all.
 */
async function startRelay(upstream) {
  const target = new URL(upstream);
  const state = { streams: [], answerNothing: false };
  const server = http.createServer((req, res) => {
    const events = req.url.endsWith('/v1/events') && req.method === 'GET';
    const stream = { muted: false, closed: false };
    if (events) {
      state.streams.push(stream);
      res.on('close', () => {
        stream.closed = true;
      });
      if (state.answerNothing) return;
    }
    const forward = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.on('data', (chunk) => {
          if (!stream.muted) res.write(chunk);
        });
        answer.on('end', () => res.end());
      },
    );
    forward.on('error', () => res.destroy());
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    state,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const name = (label) => `live-silence-${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

/** Opens `window.sync` on `endpoint` with hour-long intervals; `window.modes` records
 * status.live as it changes. */
async function openManager(page, { dbName, token, endpoint }) {
  await page.evaluate(
    async ({ dbName, token, endpoint }) => {
      window.modes = [];
      window.sync = await window.SyncManager.open({
        dbName,
        schema: { tasks: 'id, status' },
        endpoint,
        auth: { getToken: async () => token },
        interval: 3_600_000,
        hiddenInterval: 3_600_000,
      });
      window.sync.subscribe((status) => {
        if (window.modes.at(-1) !== status.live) window.modes.push(status.live);
      });
    },
    { dbName, token, endpoint },
  );
}

/** Waits until `check()` (awaited) holds. */
async function until(what, check, timeout = 30_000) {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const live = (page) => page.evaluate(() => window.sync.getSyncStatus().live);

test('a stream gone silent (half-open) leaves push, is dropped, reopened, and pushes again', async () => {
  const token = await stack.signUp();
  const a = await openPage(await stack.browser.newContext(), stack.pages.url);
  const b = await openPage(await stack.browser.newContext(), stack.pages.url);
  await openManager(a, { dbName: name('a'), token, endpoint: stack.server.url });
  await openManager(b, { dbName: name('b'), token, endpoint: relay.url });
  await until('B is pushed to', async () => (await live(b)) === 'push');
  // The server's keepalives keep a healthy stream: past the silence limit, still one.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  assert.equal(await live(b), 'push');
  assert.equal(relay.state.streams.length, 1, 'keepalives kept the stream');

  const [first] = relay.state.streams;
  first.muted = true; // the connection stays open; nothing more arrives
  await until('B gives the stream up', async () => (await live(b)) !== 'push');
  await until('B drops the dead connection', async () => first.closed);
  await until('B is pushed to again', async () => (await live(b)) === 'push');
  assert.ok(relay.state.streams.length >= 2, 'a new stream was opened');
  const modes = await b.evaluate(() => window.modes);
  assert.deepEqual(modes.slice(-3), ['push', 'polling', 'push'], JSON.stringify(modes));

  await a.evaluate(() => window.sync.create('tasks', { id: 'after', title: 'after silence', status: 'todo' }));
  await until('the new stream pokes B', () =>
    b.evaluate(() => window.sync.table('tasks').get('after').then((r) => r !== undefined)),
  );
  await b.evaluate(() => window.sync.close());
  await a.evaluate(() => window.sync.close());
});

test('a reopened stream that never answers is given up too, and tried again', async () => {
  const token = await stack.signUp();
  relay.state.streams = [];
  const b = await openPage(await stack.browser.newContext(), stack.pages.url);
  await openManager(b, { dbName: name('mute'), token, endpoint: relay.url });
  await until('B is pushed to', async () => (await live(b)) === 'push');
  relay.state.answerNothing = true; // new streams get no response at all
  relay.state.streams[0].muted = true;
  await until('B gave up a stream that never answered', async () => relay.state.streams.length >= 3);
  assert.ok(relay.state.streams[1].closed, 'the unanswered request was abandoned');
  assert.equal(await live(b), 'polling');
  relay.state.answerNothing = false;
  await until('B is pushed to once the server answers', async () => (await live(b)) === 'push', 60_000);
  await b.evaluate(() => window.sync.close());
});
