/**
 * `onward playground [--port N] [--rebuild]`: serve the browser playground (dist/web, built from web/ by Vite) on
 * 127.0.0.1 with a small static file server. The page trains in the browser; this server only hands out files.
 * The build comes from `npm install` (npm run build:web); when it is missing (or with --rebuild) it is made here,
 * if Vite is installed. Every response carries the cross-origin isolation headers (COOP same-origin, COEP
 * require-corp), so the page is `crossOriginIsolated` and may use SharedArrayBuffer and wasm threads.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, relative, resolve, sep } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { parse } from './args.js';
import { defineCommand, type OptionTable } from './command.js';
import { packageRoot } from './package-info.js';

export { packageRoot };
export const playgroundDir = join(packageRoot, 'dist', 'web');

/** cross-origin isolation: the page and its workers may share memory (SharedArrayBuffer, wasm threads) */
export const isolationHeaders: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

/** build dist/web with Vite (a devDependency), or say how to get it */
export function buildPlayground(): void {
  const require = createRequire(join(packageRoot, 'package.json'));
  let vite: string;
  try {
    vite = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  } catch {
    throw new ConfigError(
      `the playground is not built (${playgroundDir} is missing) and Vite is not installed to build it; ` +
        "run 'npm install' in the project folder (it builds the playground), or 'npm run build:web'",
    );
  }
  const config = join(packageRoot, 'web', 'vite.config.ts');
  if (!existsSync(config)) throw new ConfigError(`the playground sources are missing (${config}); reinstall onward`);
  execFileSync(process.execPath, [vite, 'build', '--config', config], { stdio: 'inherit', cwd: packageRoot });
}

/** serve the files of `dir` on 127.0.0.1 (port 0: any free port); resolves when listening */
export function servePlayground(dir: string, port: number): Promise<{ server: Server; url: string }> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    const file = resolve(root, '.' + normalize(path.endsWith('/') ? `${path}index.html` : path));
    const inside = relative(root, file);
    if (inside.startsWith('..') || inside.includes(`..${sep}`) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, {
      'Content-Type': types[extname(file)] ?? 'application/octet-stream',
      'Content-Length': body.length,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      ...isolationHeaders,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE' ? new ConfigError(`port ${port} is in use; choose another with --port N (0: any free port)`) : e);
    });
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      resolvePromise({ server, url: `http://127.0.0.1:${actual}/` });
    });
  });
}

const playgroundOptions = {
  port: { type: 'string', value: 'N', help: 'the port on 127.0.0.1 (0: any free port)', default: '5173' },
  rebuild: { type: 'boolean', help: 'rebuild dist/web with Vite first' },
} as const satisfies OptionTable;

export const playgroundCommand = defineCommand({
  name: 'playground',
  summary: 'serve the browser playground on 127.0.0.1 (the page trains in the browser)',
  options: playgroundOptions,
  run: playgroundRun,
});

async function playgroundRun(argv: string[]): Promise<void> {
  const { values } = parse('playground', argv, playgroundOptions);
  const port = values.port === undefined ? 5173 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`--port must be an integer in 0–65535, got '${String(values.port)}'`);
  if (values.rebuild === true || !existsSync(join(playgroundDir, 'index.html'))) buildPlayground();
  const { server, url } = await servePlayground(playgroundDir, port);
  console.log(`onward playground: ${url}  (serving ${relative(process.cwd(), playgroundDir) || '.'} on this machine only; Ctrl-C stops)`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      server.close(() => done());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
