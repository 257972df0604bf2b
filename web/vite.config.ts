/**
 * The playground's build: web/ → dist/web (static files: index.html, the page, the worker with the library and
 * its wasm kernels inlined as base64). Node-only modules have browser stand-ins (browser-substitutes.ts), and the
 * build fails if anything still reaches for a Node built-in, so the page can never depend on one by accident.
 */
import { builtinModules } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { browserSubstitutes } from './browser-substitutes.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

function browserOnly(): Plugin {
  return {
    name: 'onward-browser-only',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (builtins.has(source) || source.startsWith('node:')) {
        throw new Error(
          `the playground imports the Node built-in '${source}' (from ${importer}); give that module a browser stand-in in web/browser-substitutes.ts`,
        );
      }
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      if (!resolved) return null;
      const rel = resolved.id.startsWith(root) ? resolved.id.slice(root.length + 1) : null;
      const swap = rel ? browserSubstitutes[rel] : undefined;
      return swap ? resolve(root, swap) : resolved;
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  plugins: [browserOnly()],
  // keepNames: the bundle keeps class names, so an error's type reads as itself, not as a minified letter
  worker: { format: 'es', plugins: () => [browserOnly()], rolldownOptions: { output: { keepNames: true } } },
  build: {
    rolldownOptions: { output: { keepNames: true } },
    outDir: resolve(root, 'dist', 'web'),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
});
