// What needs the user: tasks edited on two devices while apart (keep mine or keep the
// server's) and changes the server rejected (retry or discard).
import type { Conflict } from 'idb-sync';
import { describeChange } from './db';
import { useConflicts, useDeadLetters, useSync } from './hooks';
import { notify } from './notice';

const describe = (record: Record<string, unknown> | null) =>
  record === null ? '(deleted)' : `${String(record.title ?? record.name ?? '')}${record.done ? ' ✓' : ''}`;

export function Conflicts() {
  const sync = useSync();
  const conflicts = useConflicts();
  const keep = (conflict: Conflict, side: 'local' | 'server') =>
    sync.resolveConflict('tasks', String(conflict.key), side).catch(notify);
  return (
    <section className="card" data-testid="conflicts">
      <h2>Conflicts</h2>
      {conflicts.length === 0 && <p className="empty">No conflicts.</p>}
      {conflicts.map((conflict) => (
        <div className="problem" data-testid="conflict" key={`${conflict.table}/${conflict.key}`}>
          Edited on two devices:
          <div className="versions">
            <span>Mine</span>
            <span data-testid="conflict-local">{describe(conflict.local)}</span>
            <span>Server</span>
            <span data-testid="conflict-server">{describe(conflict.remote)}</span>
          </div>
          <div className="actions">
            <button data-testid="keep-local" onClick={() => keep(conflict, 'local')}>Keep mine</button>
            <button data-testid="keep-server" onClick={() => keep(conflict, 'server')}>Keep server's</button>
          </div>
        </div>
      ))}
    </section>
  );
}

export function DeadLetters() {
  const sync = useSync();
  const deadLetters = useDeadLetters();
  return (
    <section className="card" data-testid="dead-letters">
      <h2>Rejected changes</h2>
      {deadLetters.length === 0 && <p className="empty">None.</p>}
      {deadLetters.map((letter) => (
        <div className="problem" data-testid="dead-letter" key={letter.id}>
          <div>
            {describeChange(letter)} was rejected{' '}
            <span className="code" data-testid="dead-letter-code">{letter.code}</span>
          </div>
          <div className="reason">{letter.reason}</div>
          <div className="actions">
            <button data-testid="retry" onClick={() => sync.retryDeadLetter(letter.id).catch(notify)}>Retry</button>
            <button data-testid="discard" onClick={() => sync.discardDeadLetter(letter.id).catch(notify)}>Discard</button>
          </div>
        </div>
      ))}
    </section>
  );
}
