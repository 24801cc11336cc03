// One line of bad news for the user (a write or a sync that failed), shown above the app.
import { ref } from 'vue';

/** The message shown now ('' for none). */
export const notice = ref('');

/** Shows `error`'s message (a SyncError has a `code` too). */
export function notify(error: unknown): void {
  const e = error as { code?: string; message?: string };
  notice.value = e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? error);
}

/** Hides the message. */
export function dismiss(): void {
  notice.value = '';
}
