// The app: the login screen, or the signed-in user's synced todo list.
import { useEffect, useState } from 'react';
import { SyncProvider } from 'idb-sync/react';
import { openSync, type TodoSync } from './db';
import { Login } from './Login';
import { dismiss, notify, useNotice } from './notice';
import { Conflicts, DeadLetters } from './Problems';
import { Projects, type Selection } from './Projects';
import { forgetSession, savedSession, type Session } from './session';
import { StatusBar } from './StatusBar';
import { Tasks } from './Tasks';

export function App() {
  const [session, setSession] = useState<Session | null>(savedSession);
  const [sync, setSync] = useState<TodoSync | null>(null);
  const notice = useNotice();

  // Open the user's database when someone signs in; close it when they sign out.
  useEffect(() => {
    if (!session) return;
    let closed = false;
    let opened: TodoSync | null = null;
    openSync(session).then(
      (manager) => {
        if (closed) return manager.close();
        opened = manager;
        setSync(manager);
      },
      (error) => notify(error),
    );
    return () => {
      closed = true;
      opened?.close();
      setSync(null);
    };
  }, [session]);

  const signOut = () => {
    forgetSession();
    setSession(null);
  };

  return (
    <>
      {notice && (
        <div className="notice" data-testid="notice">
          {notice}
          <button className="link" onClick={dismiss}>Dismiss</button>
        </div>
      )}
      {!session ? (
        <Login onSession={setSession} />
      ) : !sync ? (
        <p className="empty" style={{ padding: 24 }}>Opening your tasks…</p>
      ) : (
        <SyncProvider sync={sync}>
          <TodoApp email={session.email} onSignOut={signOut} />
        </SyncProvider>
      )}
    </>
  );
}

function TodoApp({ email, onSignOut }: { email: string; onSignOut: () => void }) {
  const [selected, setSelected] = useState<Selection>(undefined);
  return (
    <>
      <StatusBar email={email} onSignOut={onSignOut} />
      <div className="layout">
        <Projects selected={selected} onSelect={setSelected} />
        <Tasks selected={selected} />
        <aside>
          <Conflicts />
          <DeadLetters />
        </aside>
      </div>
    </>
  );
}
