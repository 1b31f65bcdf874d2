/**
 * The studio's production build: clients/studio -> dist/studio, which the API serves at `/`
 * (src/api/studio/studio-route.ts). Hashed files go under /assets so they can be cached for good;
 * index.html is the only file that changes name-stable between builds.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  // Nothing copied verbatim: every file the page loads goes through the build.
  publicDir: false,
  build: {
    outDir: resolve(here, '../../dist/studio'),
    // Outside the root, vite only empties it when told; stale hashed files would pile up otherwise.
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
    // Without it, small assets become data: URLs inside the CSS and JS; all stay plain files.
    assetsInlineLimit: 0,
  },
});
