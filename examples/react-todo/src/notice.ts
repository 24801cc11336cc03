// One line of bad news for the user (a write or a sync that failed), shown above the app.
import { useSyncExternalStore } from 'react';

let message = '';
const listeners = new Set<() => void>();

/** Shows `error`'s message (a SyncError has a `code` too). */
export function notify(error: unknown): void {
  const e = error as { code?: string; message?: string };
  message = e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? error);
  listeners.forEach((listener) => listener());
}

/** Hides the message. */
export function dismiss(): void {
  message = '';
  listeners.forEach((listener) => listener());
}

/** The message shown now ('' for none). */
export function useNotice(): string {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => message,
  );
}
