// Type-checked by `tsc --noEmit` (tests/e2e/typescript.test.mjs): the React hooks and
// Vue composables as an app calls them, in the shapes of seed 001's hooks.
import { SyncManager } from 'idb-sync';
import { SyncProvider, useLiveQuery, useNetworkStatus, useSyncStatus } from 'idb-sync/react';
import * as vue from 'idb-sync/vue';
import type { Ref } from 'vue';

interface Task {
  id: string;
  title: string;
  status: 'todo' | 'done';
}

declare const sync: SyncManager<{ tasks: Task }>;

export function useTasks(status?: Task['status']): Task[] {
  return useLiveQuery(
    () => (status ? sync.table('tasks').where('status').equals(status).toArray() : sync.table('tasks').toArray()),
    [status],
    [] as Task[],
  );
}

export function useTask(id: string): Task | undefined {
  return useLiveQuery(() => sync.table('tasks').get(id), [id]);
}

export function StatusBar() {
  const { pending, phase, lastSyncAt, sync: syncNow } = useSyncStatus();
  const online: boolean = useNetworkStatus();
  const tasks = useTasks('todo');
  // @ts-expect-error: useNetworkStatus returns a boolean, as the seed's hook does
  void useNetworkStatus().isOnline;
  return (
    <p>
      {online ? 'online' : 'offline'} {phase} {pending} {lastSyncAt} {tasks.length}
      <button onClick={() => void syncNow().then((r) => r.pushed)}>Sync now</button>
    </p>
  );
}

export function App() {
  return (
    <SyncProvider sync={sync}>
      <StatusBar />
    </SyncProvider>
  );
}

export function vueSetup() {
  const { status, sync: syncNow } = vue.useSyncStatus(sync);
  const { isOnline } = vue.useNetworkStatus();
  const { result: tasks, loading } = vue.useLiveQuery(() => sync.table('tasks').toArray(), [], [] as Task[]);
  const online: Ref<boolean> | Readonly<Ref<boolean>> = isOnline;
  const first: Task | undefined = tasks.value[0];
  const pending: number = status.value.pending;
  void [online, first, pending, loading.value, syncNow];
  return { tasks, loading };
}
