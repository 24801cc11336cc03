// Signing up and logging in against the idb-sync reference server (its /v1/auth
// endpoints), and remembering who is signed in. The app gives idb-sync a function that
// returns the token (`auth: { getToken }`); idb-sync calls it when it needs one.

/** The sync server, from `VITE_IDB_SYNC_SERVER` at build time. */
export const serverUrl: string = import.meta.env.VITE_IDB_SYNC_SERVER ?? 'http://127.0.0.1:8787';

/** Who is signed in on this browser. */
export interface Session {
  email: string;
  token: string;
}

const KEY = `idb-sync-todo:session:${serverUrl}`;

/** The session remembered from an earlier visit, if any. */
export function savedSession(): Session | null {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Session | null;
    return saved && typeof saved.email === 'string' && typeof saved.token === 'string' ? saved : null;
  } catch {
    return null;
  }
}

/** Forgets the session (the user's data stays in this browser's database for them). */
export function forgetSession(): void {
  localStorage.removeItem(KEY);
}

/** Creates an account (`signup`) or logs in (`login`); remembers and returns the session. */
export async function authenticate(kind: 'signup' | 'login', email: string, password: string): Promise<Session> {
  let response: Response;
  try {
    response = await fetch(`${serverUrl}/v1/auth/${kind}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
  } catch {
    throw new Error(`Cannot reach the sync server at ${serverUrl}. Are you online?`);
  }
  const body = (await response.json().catch(() => ({}))) as { token?: string; error?: { code: string; message: string } };
  if (!response.ok || !body.token) {
    throw new Error(body.error?.message ?? `The server answered HTTP ${response.status}`);
  }
  const session = { email: email.trim().toLowerCase(), token: body.token };
  localStorage.setItem(KEY, JSON.stringify(session));
  return session;
}
