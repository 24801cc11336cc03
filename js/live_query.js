// `liveQuery(querier)`: an observable of a query's result that re-runs the query after
// every change of a database opened in this page (see ./changes.js). The shape is
// Dexie's (`subscribe(observer)` returning `{ unsubscribe }`), so code written for
// Dexie's `liveQuery` keeps working.
import { subscribeChanges } from './changes.js';

/**
 * @template T
 * @param {() => T | Promise<T>} querier
 */
export function liveQuery(querier) {
  return {
    subscribe(observerOrNext, error) {
      const observer =
        typeof observerOrNext === 'function' ? { next: observerOrNext, error } : observerOrNext ?? {};
      let closed = false;
      let running = false;
      let again = false;
      const run = async () => {
        if (running) {
          again = true; // a change arrived while the query ran: run once more after it
          return;
        }
        running = true;
        do {
          again = false;
          // Each result is shown, even when a change arrived meanwhile (the query then
          // runs again at once): a stream of changes, as during a long pull, never
          // starves the view.
          try {
            const result = await querier();
            if (!closed) observer.next?.(result);
          } catch (e) {
            if (!closed) observer.error?.(e);
          }
        } while (again && !closed);
        running = false;
      };
      const stop = subscribeChanges(run);
      run();
      const subscription = {
        closed: false,
        unsubscribe() {
          closed = true;
          subscription.closed = true;
          stop();
        },
      };
      return subscription;
    },
  };
}
