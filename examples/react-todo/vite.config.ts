import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  // idb-sync loads its WebAssembly module with `new URL(…, import.meta.url)`: keep it
  // out of dependency pre-bundling (vite dev) so that URL stays valid.
  optimizeDeps: { exclude: ['idb-sync'] },
});
