// The top bar: online or offline, what is waiting to sync, when the last sync was,
// which tab runs the sync loop, and "Sync now".
import { useNetworkStatus, useSyncStatus } from 'idb-sync/react';
import { useIsLeader } from './hooks';
import { notify } from './notice';

export function StatusBar({ email, onSignOut }: { email: string; onSignOut: () => void }) {
  const { pending, inFlight, lastSyncAt, syncing, lastError, sync } = useSyncStatus();
  const online = useNetworkStatus();
  const leader = useIsLeader();
  const waiting = pending + inFlight;

  return (
    <header className="topbar">
      <div className="brand">
        Todo <small>idb-sync + React</small>
      </div>
      <span className={`pill ${online ? 'ok' : 'bad'}`} data-testid="network">
        {online ? 'Online' : 'Offline'}
      </span>
      <span className={`pill ${waiting ? 'warn' : 'ok'}`} data-testid="pending">
        {waiting === 0 ? 'All changes synced' : `${waiting} ${waiting === 1 ? 'change' : 'changes'} to sync`}
      </span>
      {lastError && online && (
        <span className="pill bad" data-testid="sync-error" title={lastError.message}>
          {lastError.code}
        </span>
      )}
      <span className="pill plain" data-testid="last-sync" data-at={lastSyncAt ?? 0}>
        {lastSyncAt ? `Last sync ${new Date(lastSyncAt).toLocaleTimeString()}` : 'Not synced yet'}
      </span>
      <span className="pill plain" data-testid="tab-role" title="One tab per browser runs the sync loop">
        {leader ? 'Leader tab' : 'Follower tab'}
      </span>
      <button className="primary" data-testid="sync-now" disabled={!online || syncing} onClick={() => sync().catch(notify)}>
        {syncing ? 'Syncing…' : 'Sync now'}
      </button>
      <span className="user" data-testid="user">{email}</span>
      <button className="link" data-testid="signout" onClick={onSignOut}>
        Sign out
      </button>
    </header>
  );
}
