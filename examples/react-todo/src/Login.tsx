// Sign up or log in: the reference server's accounts (email + password).
import { useState, type FormEvent } from 'react';
import { authenticate, serverUrl, type Session } from './session';

export function Login({ onSession }: { onSession: (session: Session) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(kind: 'signup' | 'login', event?: FormEvent) {
    event?.preventDefault();
    setBusy(true);
    setError('');
    try {
      onSession(await authenticate(kind, email, password));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login card">
      <h1>Todo, offline-first</h1>
      <p>Your tasks live in this browser and sync through {serverUrl}.</p>
      <form onSubmit={(event) => submit('login', event)}>
        <input type="email" data-testid="email" placeholder="Email" value={email} onChange={(e) => setEmail(e.target.value)} required />
        <input
          type="password"
          data-testid="password"
          placeholder="Password (8 characters or more)"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
        {error && <p className="error" data-testid="auth-error">{error}</p>}
        <div className="buttons">
          <button type="submit" data-testid="login" disabled={busy}>Log in</button>
          <button type="button" className="primary" data-testid="signup" disabled={busy} onClick={() => submit('signup')}>
            Sign up
          </button>
        </div>
      </form>
    </main>
  );
}
