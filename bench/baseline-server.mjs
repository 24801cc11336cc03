// The server the hand-written Dexie baselines talk to (idb-sync talks to the real
// idb-sync-server). An in-memory Node HTTP server: no disk, no auth, no validation
// beyond JSON parsing — it is cheaper per request than idb-sync-server on SQLite, so
// it flatters the baselines, never us. Each benchmark run uses its own "space" (a URL
// prefix /s/<space>/), so repetitions do not see each other's data.
//
// Endpoints, per space:
// - the seed 001 layer's REST routes (../shared/seeds/001: `api.post('/api/tasks')`,
//   `api.put('/api/tasks/:id')`, `api.delete('/api/tasks/:id')`,
//   `api.get('/api/tasks?since=T')` answering `{ data: [...] }` with every record
//   changed after T);
// - the batched layer's routes: `POST /api/batch` `{ mutations: [{ op, id, data }] }`
//   answering `{ results: [{ id, ok }] }`, and `GET /api/changes?after=<seq>&limit=N`
//   answering `{ changes, cursor, hasMore }` in change order.
import { createServer } from 'node:http';

/** Starts the server on 127.0.0.1; resolves to `{ url, seed(space, records), close }`. */
export async function startBaselineServer() {
  const spaces = new Map();
  let clock = 0;
  const space = (name) => {
    let s = spaces.get(name);
    if (!s) spaces.set(name, (s = { records: new Map(), log: [] }));
    return s;
  };
  // One change stamp per write; `log` lists (seq, id) in change order, so a page is a
  // binary search plus a scan (entries overwritten later are skipped).
  const write = (s, id, data) => {
    clock += 1;
    s.records.set(id, { seq: clock, updatedAt: clock, data });
    s.log.push({ seq: clock, id });
  };
  const json = (res, status, body) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' });
    res.end(text);
  };
  const readBody = (req) =>
    new Promise((resolve, reject) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve(text ? JSON.parse(text) : null);
        } catch (e) {
          reject(e);
        }
      });
      req.on('error', reject);
    });

  const server = createServer(async (req, res) => {
    try {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE',
          'Access-Control-Allow-Headers': 'Content-Type',
          'Access-Control-Max-Age': '86400',
        });
        return res.end();
      }
      const url = new URL(req.url, 'http://x');
      const m = url.pathname.match(/^\/s\/([^/]+)\/api\/([^/]+)(?:\/([^/]+))?$/);
      if (!m) return json(res, 404, { error: 'not_found' });
      const s = space(m[1]);
      const [route, id] = [m[2], m[3] && decodeURIComponent(m[3])];
      if (route === 'tasks' && req.method === 'POST' && !id) {
        const rec = await readBody(req);
        write(s, rec.id, rec);
        return json(res, 201, { data: rec });
      }
      if (route === 'tasks' && req.method === 'PUT' && id) {
        const rec = await readBody(req);
        write(s, id, rec);
        return json(res, 200, { data: rec });
      }
      if (route === 'tasks' && req.method === 'DELETE' && id) {
        write(s, id, null);
        return json(res, 204);
      }
      if (route === 'tasks' && req.method === 'GET' && !id) {
        const since = Number(url.searchParams.get('since') ?? 0);
        const data = [];
        for (const r of s.records.values()) if (r.updatedAt > since && r.data) data.push(r.data);
        return json(res, 200, { data });
      }
      if (route === 'batch' && req.method === 'POST') {
        const { mutations } = await readBody(req);
        const results = mutations.map((mu) => {
          write(s, mu.id, mu.op === 'delete' ? null : mu.data);
          return { id: mu.id, ok: true };
        });
        return json(res, 200, { results });
      }
      if (route === 'changes' && req.method === 'GET') {
        const after = Number(url.searchParams.get('after') ?? 0);
        const limit = Math.min(Number(url.searchParams.get('limit') ?? 1000), 1000);
        const changes = [];
        let hasMore = false;
        let lo = 0;
        let hi = s.log.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (s.log[mid].seq <= after) lo = mid + 1;
          else hi = mid;
        }
        for (let i = lo; i < s.log.length; i++) {
          const { seq, id: key } = s.log[i];
          const r = s.records.get(key);
          if (r.seq !== seq) continue;
          if (changes.length === limit) {
            hasMore = true;
            break;
          }
          changes.push({ id: key, seq, deleted: r.data === null, data: r.data });
        }
        const cursor = changes.length ? changes[changes.length - 1].seq : after;
        return json(res, 200, { changes, cursor, hasMore });
      }
      return json(res, 404, { error: 'not_found' });
    } catch (e) {
      return json(res, 500, { error: String(e) });
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    /** Stores `records` in `name` as if written by another device. */
    seed(name, records) {
      const s = space(name);
      for (const r of records) write(s, r.id, r);
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
