import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  plugins: [vue()],
  // idb-sync loads its WebAssembly module with `new URL(…, import.meta.url)`: keep it
  // out of dependency pre-bundling (vite dev) so that URL stays valid.
  optimizeDeps: { exclude: ['idb-sync'] },
});
