/**
 * A real redis-server for the queue tests: on 127.0.0.1, on a free port, persistence off (no dump.rdb, no
 * append-only file: a restart starts empty, the harshest case for a sweep), stopped by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:PORT, without the password */
  url: string;
  /** stop the server (SIGTERM) and wait for it to exit */
  stop(): Promise<void>;
  /** stop it and start it again on the same port (empty: persistence is off) */
  restart(): Promise<void>;
}

const redisServer = process.env.REDIS_SERVER ?? 'redis-server';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** true when the server answers PING (a NOAUTH answer counts: it is up, it wants the password) */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('error', () => resolve(false));
    c.once('data', (d) => {
      c.destroy();
      resolve(/^(\+PONG|-NOAUTH)/.test(d.toString()));
    });
    c.once('connect', () => c.write('PING\r\n'));
  });
}

async function launch(port: number, extra: string[]): Promise<ChildProcess> {
  const proc = spawn(
    redisServer,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const failed = new Promise<never>((_, reject) => {
    proc.once('error', (e) =>
      reject(new Error(`cannot start ${redisServer} (install Debian's redis-server, or set REDIS_SERVER): ${e.message}`)),
    );
    proc.once('exit', (code) => reject(new Error(`${redisServer} exited with code ${code} before answering`)));
  });
  failed.catch(() => {});
  const deadline = Date.now() + 20_000;
  while (!(await Promise.race([answers(port), failed]))) {
    if (Date.now() > deadline) throw new Error(`${redisServer} did not answer on port ${port} within 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}

function stopped(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

/** `extra`: more redis-server arguments, e.g. ['--requirepass', 'secret'] */
export async function startRedis(extra: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  let proc = await launch(port, extra);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => stopped(proc),
    restart: async () => {
      await stopped(proc);
      proc = await launch(port, extra);
    },
  };
}
