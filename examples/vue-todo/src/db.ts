// The app's records and its database: one IndexedDB database per signed-in user,
// synced to the server by idb-sync.
import { SyncManager, type DeadLetter, type LocalChange } from 'idb-sync';
import { serverUrl, type Session } from './session';

/** A task, in a project or in none. */
export interface Task {
  id: string;
  title: string;
  done: boolean;
  projectId: string | null;
  createdAt: number;
}

/** A project groups tasks. */
export interface Project {
  id: string;
  name: string;
  createdAt: number;
}

/** The synced tables and their records. */
export type Schema = {
  tasks: Task;
  projects: Project;
};

/** The app's sync manager, typed by its tables. */
export type TodoSync = SyncManager<Schema>;

/** Opens the user's database and starts syncing it. */
export function openSync(session: Session): Promise<TodoSync> {
  return SyncManager.open<Schema>({
    // One database per user: another user on this browser gets their own.
    dbName: `idb-sync-todo:${session.email}`,
    schema: { tasks: 'id, projectId, createdAt', projects: 'id, createdAt' },
    endpoint: serverUrl,
    auth: { getToken: () => session.token },
    // Two devices editing the same task while apart: the user decides (the conflict
    // list). Projects merge field by field.
    conflict: { default: 'fieldMerge', tables: { tasks: 'manual' } },
    // Look for other devices' changes every 5 s while the page is visible.
    interval: 5000,
  });
}

/** What a rejected change was, in words: `Adding the task “Buy milk”`. */
export function describeChange(letter: DeadLetter): string {
  const op = letter.op as LocalChange; // { kind, record } or { kind, patch } or { kind }
  const fields = 'record' in op ? op.record : 'patch' in op ? op.patch : {};
  const name = String(fields.title ?? fields.name ?? letter.key);
  const short = name.length > 30 ? `${name.slice(0, 30)}…` : name;
  const verb = { create: 'Adding', put: 'Saving', update: 'Editing', delete: 'Deleting' }[op.kind];
  return `${verb} the ${letter.table === 'tasks' ? 'task' : 'project'} “${short}”`;
}
