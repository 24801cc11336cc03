// The app's composables over idb-sync/vue: live lists as refs that update on every
// change (this tab's writes, other tabs', changes pulled from other devices).
import { onScopeDispose, ref, type Ref } from 'vue';
import { useLiveQuery, useSyncManager, useSyncStatus } from 'idb-sync/vue';
import type { Conflict, DeadLetter } from 'idb-sync';
import type { Project, Schema, Task, TodoSync } from './db';

/** `undefined`: every task; `null`: tasks in no project; else a project's id. */
export type Selection = string | null | undefined;

/** The manager provided by `provideSync`, typed by the app's tables. */
export function useSync(): TodoSync {
  return useSyncManager<Schema>();
}

/** `{ tasks, loading }`: the tasks of the selected project, oldest first. */
export function useTasks(selection: () => Selection) {
  const sync = useSync();
  const { result: tasks, loading } = useLiveQuery(
    async () => {
      const projectId = selection();
      const tasks = await sync.table('tasks').orderBy('createdAt').toArray();
      return projectId === undefined ? tasks : tasks.filter((task) => task.projectId === projectId);
    },
    [selection],
    [] as Task[],
  );
  return { tasks, loading };
}

/** `{ projects, loading }`: every project, oldest first. */
export function useProjects() {
  const sync = useSync();
  const { result: projects, loading } = useLiveQuery(() => sync.table('projects').orderBy('createdAt').toArray(), [], [] as Project[]);
  return { projects, loading };
}

/** Open conflicts (tasks edited on two devices while apart), read again when their
 * count in the status changes. */
export function useConflicts() {
  const sync = useSync();
  const { status } = useSyncStatus(sync);
  return useLiveQuery(() => sync.conflicts(), [() => status.value.conflicts], [] as Conflict[]).result;
}

/** Changes the server rejected, read again when their count in the status changes. */
export function useDeadLetters() {
  const sync = useSync();
  const { status } = useSyncStatus(sync);
  return useLiveQuery(() => sync.deadLetters(), [() => status.value.deadLetters], [] as DeadLetter[]).result;
}

/** Whether this tab runs the sync loop (one tab per browser does; the others follow).
 * idb-sync has no event for it, so it is read twice a second. */
export function useIsLeader(): Readonly<Ref<boolean>> {
  const sync = useSync();
  const leader = ref(sync.isLeader);
  const timer = setInterval(() => (leader.value = sync.isLeader), 500);
  onScopeDispose(() => clearInterval(timer));
  return leader;
}
