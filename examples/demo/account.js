// The demo account on this server, shared by the demo's devices: signed up once (by
// whichever page needs it first) and remembered in localStorage, which every frame of
// the demo's origin shares. Each device logs in with it for its tokens.

/** The sync server the demo talks to (set by vite.config.js / scripts/lib/stack.mjs). */
export const serverUrl = __IDB_SYNC_SERVER__;

const storageKey = `idb-sync-demo-account:${serverUrl}`;

// `fetch` is looked up at each call, so a device switched offline cannot log in
// either (see network.js).
const post = (path, body) =>
  fetch(`${serverUrl}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

async function signUp() {
  const account = { email: `demo-${crypto.randomUUID()}@example.com`, password: crypto.randomUUID() };
  const response = await post('/v1/auth/signup', account);
  if (response.status !== 201) throw new Error(`sign-up failed: HTTP ${response.status}`);
  localStorage.setItem(storageKey, JSON.stringify(account));
  return account;
}

/**
 * The demo account: `{ email, password, getToken }`, signed up on first use. With
 * `check`, a remembered account the server does not know (its data folder was
 * deleted since) is replaced by a new one; the devices' databases are named after
 * the account, so they start afresh too.
 */
export async function demoAccount({ check = false } = {}) {
  let account = JSON.parse(localStorage.getItem(storageKey) ?? 'null');
  if (account && check && (await post('/v1/auth/login', account)).status === 401) account = null;
  account ??= await signUp();
  const getToken = async () => {
    const response = await post('/v1/auth/login', account);
    if (!response.ok) throw new Error(`login failed: HTTP ${response.status}`);
    return (await response.json()).token;
  };
  return { ...account, getToken };
}
