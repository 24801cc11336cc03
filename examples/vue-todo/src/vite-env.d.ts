/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The idb-sync server the app syncs with (default http://127.0.0.1:8787). */
  readonly VITE_IDB_SYNC_SERVER?: string;
}
