// Words for the conflict log: turns a `conflictLog()` entry into what happened to the
// task, in the terms a user of the demo knows ("Title: kept “Buy soy milk” from Phone,
// over “Buy oat milk” from Laptop — the later edit wins"). Every task records the
// device that last edited it (`editedOn`), so both sides can be named.

const FIELDS = { title: 'Title', done: 'Done' };

const quote = (field, value) =>
  field === 'done' ? (value ? 'done' : 'not done') : `“${value ?? ''}”`;

const REASONS = {
  lastWriteWins: 'the later edit wins',
  serverWins: 'the server’s copy wins',
  clientWins: 'this device’s copy wins',
  fieldMerge: 'fields merged',
  custom: 'decided by the app',
};

/**
 * Describes one conflict log entry.
 * @param {import('idb-sync').ConflictLogEntry} entry
 * @param {string} thisDevice  the name of the device showing the log
 * @returns {{ task: string, lines: string[], reason: string, at: number }}
 */
export function describeConflict(entry, thisDevice) {
  const { local, remote, resolved } = entry;
  const task = (resolved ?? remote ?? local)?.title ?? String(entry.key);
  const localWon = entry.outcome.startsWith('kept local');
  const localName = local?.editedOn ?? thisDevice;
  const remoteName = remote?.editedOn ?? 'the server';
  const [winner, loser] = localWon ? [local, remote] : [remote, local];
  const [winnerName, loserName] = localWon ? [localName, remoteName] : [remoteName, localName];
  const reason = REASONS[entry.policy] ?? entry.outcome;

  if (!winner && !loser) return { task, lines: [entry.outcome], reason, at: entry.at };
  if (!winner) return { task, lines: [`Deleted on ${winnerName}, over the edit on ${loserName}`], reason, at: entry.at };
  if (!loser) return { task, lines: [`Kept the edit from ${winnerName}, over the delete on ${loserName}`], reason, at: entry.at };

  const lines = Object.keys(FIELDS)
    .filter((field) => winner[field] !== loser[field])
    .map(
      (field) =>
        `${FIELDS[field]}: kept ${quote(field, winner[field])} from ${winnerName}, over ${quote(field, loser[field])} from ${loserName}`,
    );
  if (lines.length === 0) lines.push(`Both devices made the same edit (kept ${winnerName}’s)`);
  return { task, lines, reason, at: entry.at };
}
