// The app's hooks over idb-sync/react: live lists that re-render on every change
// (this tab's writes, other tabs', changes pulled from other devices).
import { useEffect, useState } from 'react';
import { useLiveQuery, useSyncManager, useSyncStatus } from 'idb-sync/react';
import type { Conflict, DeadLetter } from 'idb-sync';
import type { Project, Schema, Task, TodoSync } from './db';

/** The manager given to `<SyncProvider>`, typed by the app's tables. */
export function useSync(): TodoSync {
  return useSyncManager<Schema>();
}

/** The tasks of a project (every task when `projectId` is undefined), oldest first. */
export function useTasks(projectId?: string | null): Task[] {
  const sync = useSync();
  return useLiveQuery(
    async () => {
      const tasks = await sync.table('tasks').orderBy('createdAt').toArray();
      return projectId === undefined ? tasks : tasks.filter((task) => task.projectId === projectId);
    },
    [sync, projectId],
    [] as Task[],
  );
}

/** Every project, oldest first. */
export function useProjects(): Project[] {
  const sync = useSync();
  return useLiveQuery(() => sync.table('projects').orderBy('createdAt').toArray(), [sync], [] as Project[]);
}

/** Open conflicts (tasks edited on two devices while apart), read again when their
 * count in the status changes. */
export function useConflicts(): Conflict[] {
  const sync = useSync();
  const { conflicts } = useSyncStatus();
  return useLiveQuery(() => sync.conflicts(), [sync, conflicts], [] as Conflict[]);
}

/** Changes the server rejected, read again when their count in the status changes. */
export function useDeadLetters(): DeadLetter[] {
  const sync = useSync();
  const { deadLetters } = useSyncStatus();
  return useLiveQuery(() => sync.deadLetters(), [sync, deadLetters], [] as DeadLetter[]);
}

/** Whether this tab runs the sync loop (one tab per browser does; the others follow).
 * idb-sync has no event for it, so it is read twice a second. */
export function useIsLeader(): boolean {
  const sync = useSync();
  const [leader, setLeader] = useState(sync.isLeader);
  useEffect(() => {
    const timer = setInterval(() => setLeader(sync.isLeader), 500);
    return () => clearInterval(timer);
  }, [sync]);
  return leader;
}
