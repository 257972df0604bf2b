/**
 * `onward bench` beyond one machine: the runs of a plan as BullMQ jobs on a Redis server.
 *
 * - Submitting: one job per run. The job id starts with the run's config hash and ends with a hash of the
 *   whole run spec and the onward version, so submitting a sweep again (or a sweep that shares runs)
 *   never puts a run on the queue twice, and a finished job's records are collected instead of rerun.
 * - Working (`onward worker`, and the submitting process by default): a BullMQ worker whose jobs run on
 *   RunThread, the very code of the local pool, so a run's records do not depend on where it ran. The
 *   run computes on a worker thread while this thread renews the job's lock; a worker killed mid-job
 *   stops renewing, and after the lock expires another worker's stalled-job check puts the job back.
 *   A job whose run throws is tried `attempts` times (default 2), then stays failed with its error.
 * - Collecting: the submitting side polls the states of its jobs, appends each finished run's records
 *   (or its error) once, and resubmits jobs that vanished (a Redis restarted without persistence).
 * - Refusals: a worker of another onward version puts the job back for the others and stops; a job whose
 *   config this onward does not know (keys, names, values, or a config hash that does not match) fails
 *   at once with the reason, since every worker of this version would refuse it the same way.
 *
 * The queue URL may hold a password; it is never printed: every message names the server by
 * `displayUrl` and passes through the password's redaction.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Job, Queue, UnrecoverableError, WaitingError, Worker, type ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { OnwardError } from '../core/errors.js';
import { learnerTable } from '../learners/index.js';
import { readRunConfig, resolveRunConfig, type RunConfig } from '../train/config.js';
import type { RunSpec } from './plan.js';
import { configId, runKey, type BenchRecord } from './records.js';
import { RunThread, type Outcome } from './threads.js';

/** the queue cannot be reached, refuses us, or holds something this onward cannot use */
export class QueueError extends OnwardError {
  override readonly code = 'QUEUE';
}

export const onwardVersion: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const QUEUE_NAME = 'bench';
const PREFIX = 'onward';
/** a hash: sweep id → {command, version, total, created}; per sweep a set of its job ids */
const SWEEPS_KEY = `${PREFIX}:${QUEUE_NAME}:sweeps`;
const sweepJobsKey = (sweep: string): string => `${PREFIX}:${QUEUE_NAME}:sweep:${sweep}`;

// ---------------------------------------------------------------------------------------------------
// the URL and its secret

export interface QueueUrl {
  connection: { host: string; port: number; db: number; username?: string; password?: string; tls?: object };
  /** the URL with any user name and password replaced by *** */
  display: string;
  /** removes the password from any text (an error message of the Redis client, say) */
  redact: (text: string) => string;
}

/**
 * `redis://[[user]:password@]host[:port][/db]` (or `rediss://` for TLS). Without a password in the URL,
 * ONWARD_QUEUE_PASSWORD is used when set, so the password need not appear on a command line.
 */
export function parseQueueUrl(text: string, env: NodeJS.ProcessEnv = process.env): QueueUrl {
  let u: URL;
  const hint = 'expected redis://[:password@]host[:port][/db], e.g. redis://10.0.0.5:6379/0';
  try {
    u = new URL(text);
  } catch {
    throw new QueueError(`--queue: '${redactUrlText(text)}' is not a URL; ${hint}`);
  }
  const display = redactUrlText(text);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new QueueError(`--queue: '${display}' is not a redis:// URL; ${hint}`);
  if (!u.hostname) throw new QueueError(`--queue: '${display}' names no host; ${hint}`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0)
    throw new QueueError(`--queue: '${display}': the database must be a number ≥ 0, got '${dbText}'; ${hint}`);
  const password = u.password ? decodeURIComponent(u.password) : env.ONWARD_QUEUE_PASSWORD || undefined;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const secrets = [password, u.password].filter((s): s is string => !!s);
  const redact = (t: string): string => secrets.reduce((acc, s) => acc.split(s).join('***'), t);
  return {
    connection: {
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port,
      db,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    },
    display: redact(display),
    redact,
  };
}

/** a URL-ish text with everything up to its last @ (after the scheme) replaced by *** (works on text that does not parse) */
export function redactUrlText(text: string): string {
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? '';
  return `${scheme}***${text.slice(at)}`;
}

/** the --queue URL inside a command line, redacted (the command is written to report.md and to Redis) */
export function redactCommand(argv: readonly string[]): string[] {
  return argv.map((a, i) =>
    argv[i - 1] === '--queue' ? redactUrlText(a) : a.startsWith('--queue=') ? `--queue=${redactUrlText(a.slice(8))}` : a,
  );
}

/** connect once with a short timeout: a wrong host, port or password is an error now, not an endless retry */
async function probe(q: QueueUrl): Promise<void> {
  const client = new Redis({
    ...q.connection,
    lazyConnect: true,
    connectTimeout: 5000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // the server's own answer (WRONGPASS, NOAUTH, ECONNREFUSED) comes as an error event; connect() only says "closed"
  let cause: Error | null = null;
  client.on('error', (e: Error) => {
    cause ??= e;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new QueueError(
      `cannot use the queue at ${q.display}: ${q.redact((cause ?? (e as Error)).message)}; check the host, port and password (and that redis-server is running)`,
    );
  } finally {
    client.disconnect();
  }
}

/** connections that wait through a Redis restart: commands are queued until the server is back */
const lasting = (q: QueueUrl): ConnectionOptions & RedisOptions => ({
  ...q.connection,
  maxRetriesPerRequest: null,
  retryStrategy: (n: number) => Math.min(200 * n, 2000),
});

/** a logger that says a repeated problem (Redis down: an error every retry) once every few seconds */
function throttled(log: (line: string) => void, q: QueueUrl): (what: string, e: unknown) => void {
  const last = new Map<string, number>();
  return (what, e) => {
    const text = `${what}: ${q.redact(e instanceof Error ? e.message : String(e))}`;
    const now = Date.now();
    if ((last.get(text) ?? 0) > now - 5000) return;
    last.set(text, now);
    log(`${text} (queue ${q.display}; retrying)`);
  };
}

// ---------------------------------------------------------------------------------------------------
// jobs

/** a run spec as JSON holds it (JSON has no Infinity: an unlimited budget is null) */
type WireSpec = Omit<RunSpec, 'macBudget'> & { macBudget: number | null };

export interface JobData {
  version: string;
  spec: WireSpec;
}

export interface JobResult {
  records: BenchRecord[];
  worker: string;
}

export function jobData(spec: RunSpec, version = onwardVersion): JobData {
  return { version, spec: { ...spec, macBudget: Number.isFinite(spec.macBudget) ? spec.macBudget : null } };
}

export function jobId(spec: RunSpec, version = onwardVersion): string {
  const full = createHash('sha256')
    .update(JSON.stringify(jobData(spec, version)))
    .digest('hex');
  return `${spec.configId}-${full.slice(0, 16)}`;
}

const describe = (s: RunSpec): string => `${s.task} ${s.model} ${s.learner} seed ${s.seed}`;

/**
 * The run a job asks for, rebuilt from this onward's own defaults and checks; a job of another version is
 * `{ version }`, a config this onward does not know is `{ unknown: reason }`.
 */
export function readJob(data: unknown): { spec: RunSpec } | { version: string } | { unknown: string } {
  if (!data || typeof data !== 'object') return { unknown: 'the job holds no run' };
  const { version, spec } = data as Partial<JobData>;
  if (version !== onwardVersion) return { version: String(version) };
  if (!spec || typeof spec !== 'object' || !spec.config || typeof spec.config !== 'object')
    return { unknown: 'the job holds no run config' };
  const c = spec.config as unknown as Record<string, unknown>;
  let config: RunConfig;
  try {
    const learner = (c.learner as { name?: unknown } | undefined)?.name;
    if (!learnerTable.some((l) => l.name === learner)) throw new QueueError(`unknown learner '${String(learner)}'`);
    config = resolveRunConfig(readRunConfig(c, "the job's run config"));
  } catch (e) {
    return { unknown: e instanceof Error ? e.message : String(e) };
  }
  if (configId(config) !== spec.configId)
    return { unknown: `its config does not hash to its config id ${String(spec.configId)} (it was changed on the way)` };
  const key = {
    task: config.task.name,
    model: config.model.name,
    learner: config.learner.name,
    seed: config.train.seed,
    steps: config.train.steps,
  };
  for (const [k, v] of Object.entries(key)) {
    if ((spec as unknown as Record<string, unknown>)[k] !== v)
      return { unknown: `its ${k} (${String((spec as unknown as Record<string, unknown>)[k])}) is not its config's (${String(v)})` };
  }
  if (typeof spec.suite !== 'string' || typeof spec.probeSeconds !== 'number' || !(spec.probeSeconds > 0))
    return { unknown: 'its suite or probe time limit is missing' };
  const macBudget = spec.macBudget === null ? Infinity : spec.macBudget;
  if (!(typeof macBudget === 'number' && macBudget > 0))
    return { unknown: `its budget ${String(spec.macBudget)} is not a positive number` };
  return { spec: { ...spec, config, macBudget } };
}

// ---------------------------------------------------------------------------------------------------
// working on the queue

export interface ConsumerOptions {
  url: string;
  /** runs at a time, each on its own worker thread */
  threads: number;
  /** how long a job's lock lasts without renewal: a killed worker's job is retried after about this long (default 30) */
  lockSeconds?: number;
  /** a line per queue problem and refusal (default: stderr) */
  onLog?: (line: string) => void;
  /** a line per job started, finished or failed */
  onJob?: (line: string) => void;
}

export interface Consumer {
  /** this worker's name on the queue */
  name: string;
  /** settles when the consumer has stopped: rejects with a QueueError when it refused to work (another version) */
  done: Promise<void>;
  /** stop taking jobs; waits for the running ones unless `force` (theirs then go back to the queue when their locks expire) */
  close(force?: boolean): Promise<void>;
}

export async function startConsumer(options: ConsumerOptions): Promise<Consumer> {
  const q = parseQueueUrl(options.url);
  if (!Number.isInteger(options.threads) || options.threads < 1)
    throw new QueueError(`--concurrency must be a positive integer, got ${options.threads}`);
  const lockSeconds = options.lockSeconds ?? 30;
  if (!(lockSeconds > 0)) throw new QueueError(`--lock-seconds must be a positive number, got ${lockSeconds}`);
  await probe(q);
  const log = options.onLog ?? ((line: string) => console.error(line));
  const problem = throttled(log, q);
  const onJob = options.onJob ?? ((): void => {});
  const name = `${hostname()}-${process.pid}-onward-${onwardVersion}`.replace(/[^A-Za-z0-9._-]/g, '_');
  const free = Array.from({ length: options.threads }, () => new RunThread());
  let refusal: QueueError | null = null;
  let worker: Worker<JobData, JobResult> | null = null;
  const processJob = async (job: Job<JobData, JobResult>, token?: string): Promise<JobResult> => {
    const read = readJob(job.data);
    if ('version' in read) {
      // put the job back for a worker of the sweep's version, and stop taking jobs here
      await job.moveToWait(token);
      refusal ??= new QueueError(
        `refused job ${job.id}: it belongs to a sweep of onward ${read.version}, this worker is onward ${onwardVersion}; ` +
          `run the same onward version on every machine of a sweep`,
      );
      log(`onward worker: ${refusal.message}`);
      void worker?.close(true);
      throw new WaitingError();
    }
    if ('unknown' in read) {
      log(`refused job ${job.id}: unknown config: ${read.unknown}`);
      throw new UnrecoverableError(`UnknownConfig: this onward ${onwardVersion} does not know the job's config: ${read.unknown}`);
    }
    const spec = read.spec;
    const thread = free.pop();
    if (!thread) throw new QueueError('no free run thread: the worker took more jobs at once than its --concurrency; please report');
    onJob(`started ${describe(spec)} (job ${job.id}, attempt ${job.attemptsMade + 1})`);
    let outcome: Outcome;
    try {
      outcome = await thread.run(spec);
    } finally {
      free.push(thread);
    }
    if (outcome.error) {
      onJob(`failed ${describe(spec)}: ${outcome.error.error}: ${outcome.error.message}`);
      throw new QueueError(`${outcome.error.error}: ${outcome.error.message}`); // the run's own error name leads: the record keeps it
    }
    onJob(`finished ${describe(spec)} (job ${job.id})`);
    return { records: outcome.records, worker: name };
  };
  worker = new Worker<JobData, JobResult>(QUEUE_NAME, processJob, {
    connection: lasting(q),
    prefix: PREFIX,
    name,
    concurrency: options.threads,
    lockDuration: lockSeconds * 1000,
    stalledInterval: lockSeconds * 1000,
    maxStalledCount: 1,
  });
  worker.on('error', (e) => problem('queue worker', e));
  const done = new Promise<void>((resolve, reject) => {
    worker!.on('closed', () => {
      void Promise.all(free.map((t) => t.close())).then(() => (refusal ? reject(refusal) : resolve()));
    });
  });
  await worker.waitUntilReady();
  return {
    name,
    done,
    close: async (force = false) => {
      await worker!.close(force);
      await done.catch(() => {});
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// submitting and collecting

export interface QueueSweepOptions {
  url: string;
  /** threads working on the queue in this process; 0: submit and collect only (`--collect`) */
  threads: number;
  lockSeconds?: number;
  /** tries per run before it is recorded as failed (default 2) */
  attempts?: number;
  /** seconds between looks at the jobs' states (default 1) */
  pollSeconds?: number;
  /** the (redacted) command, shown by --status */
  command?: string;
  onLog?: (line: string) => void;
  /** stops waiting (the jobs stay on the queue; a later run collects them) */
  signal?: AbortSignal;
}

/** a run as it came back, with the name of the worker that sent it */
type RunResult = Pick<Outcome, 'records' | 'error'> & { worker?: string };

/** records sent back for a run: they must be bench records of that very run */
function checkRecords(spec: RunSpec, value: unknown): BenchRecord[] | null {
  const records = (value as Partial<JobResult> | null)?.records;
  if (!Array.isArray(records) || records.length === 0) return null;
  for (const r of records as BenchRecord[]) {
    if (!r || typeof r !== 'object' || (r.kind !== 'eval' && r.kind !== 'skipped') || runKey(r) !== runKey(spec)) return null;
  }
  return records as BenchRecord[];
}

/** "Name: message" as the worker threw it */
function parseFailure(reason: string | undefined): { error: string; message: string } {
  const m = /^([A-Za-z_$][\w$]*): ([\s\S]*)$/.exec(reason ?? '');
  return m ? { error: m[1]!, message: m[2]! } : { error: 'Error', message: reason || 'the job failed without a reason' };
}

async function submit(
  queue: Queue<JobData, JobResult>,
  specs: ReadonlyMap<string, RunSpec>,
  attempts: number,
  retryFailed: boolean,
): Promise<number> {
  const ids = [...specs.keys()];
  const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
  const toAdd: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (states[i] === 'unknown') toAdd.push(ids[i]!);
    else if (states[i] === 'failed' && retryFailed) await (await Job.fromId<JobData, JobResult>(queue, ids[i]!))?.retry('failed');
  }
  await queue.addBulk(
    toAdd.map((id) => ({
      name: 'run',
      data: jobData(specs.get(id)!),
      opts: { jobId: id, attempts, removeOnComplete: false, removeOnFail: false },
    })),
  );
  return toAdd.length;
}

async function register(client: Redis, ids: string[], command: string): Promise<string> {
  const sweep = createHash('sha256')
    .update([...ids].sort().join(','))
    .digest('hex')
    .slice(0, 12);
  const known = await client.hget(SWEEPS_KEY, sweep);
  const created = known ? (JSON.parse(known) as { created: string }).created : new Date().toISOString();
  await client.hset(SWEEPS_KEY, sweep, JSON.stringify({ command, version: onwardVersion, total: ids.length, created }));
  if (ids.length) await client.sadd(sweepJobsKey(sweep), ...ids);
  return sweep;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `specs` through the queue: submits them, works on the queue here with `threads` threads, and calls
 * `onRun` once per run as its records (or its failure) come back. Returns when every run has come back.
 */
export async function runQueued(
  specs: readonly RunSpec[],
  options: QueueSweepOptions,
  onRun: (spec: RunSpec, result: RunResult) => void,
): Promise<void> {
  const q = parseQueueUrl(options.url);
  const attempts = options.attempts ?? 2;
  if (!Number.isInteger(attempts) || attempts < 1) throw new QueueError(`attempts must be a positive integer, got ${attempts}`);
  const pollMs = (options.pollSeconds ?? 1) * 1000;
  const log = options.onLog ?? ((line: string) => console.error(line));
  const problem = throttled(log, q);
  await probe(q);
  const byId = new Map(specs.map((s) => [jobId(s), s] as const));
  const queue = new Queue<JobData, JobResult>(QUEUE_NAME, { connection: lasting(q), prefix: PREFIX });
  queue.on('error', (e) => problem('queue', e));
  const client = new Redis(lasting(q));
  client.on('error', (e) => problem('queue', e));
  let consumer: Consumer | null = null;
  const stopReason = new QueueError(
    `stopped waiting; the runs stay on the queue at ${q.display}, and running the same command again collects them`,
  );
  const stopped = new Promise<never>((_, reject) => {
    if (options.signal?.aborted) reject(stopReason);
    options.signal?.addEventListener('abort', () => reject(stopReason), { once: true });
  });
  stopped.catch(() => {});
  try {
    const command = options.command ?? 'onward bench';
    await submit(queue, byId, attempts, true);
    await register(client, [...byId.keys()], command);
    if (options.threads > 0)
      consumer = await startConsumer({ url: options.url, threads: options.threads, lockSeconds: options.lockSeconds, onLog: log });
    const outstanding = new Map(byId);
    const collectOnce = async (): Promise<void> => {
      const ids = [...outstanding.keys()];
      const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
      const missing = new Map<string, RunSpec>();
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!,
          spec = outstanding.get(id)!,
          state = states[i];
        if (state === 'unknown') missing.set(id, spec);
        if (state !== 'completed' && state !== 'failed') continue;
        const job = await Job.fromId<JobData, JobResult>(queue, id);
        if (!job || !outstanding.has(id)) continue;
        let result: RunResult;
        if (state === 'completed') {
          const records = checkRecords(spec, job.returnvalue);
          result = records
            ? { records, error: null, worker: job.returnvalue.worker }
            : {
                records: [],
                error: { error: 'QueueError', message: `the worker ${job.processedBy ?? ''} sent back records that are not this run's` },
              };
        } else {
          result = { records: [], error: parseFailure(job.failedReason), worker: job.processedBy };
        }
        outstanding.delete(id);
        onRun(spec, result);
      }
      if (missing.size > 0) {
        log(`${missing.size} job(s) of this sweep are gone from the queue (Redis restarted without persistence?); submitting them again`);
        await submit(queue, missing, attempts, false);
        await register(client, [...byId.keys()], command);
      }
    };
    while (outstanding.size > 0) {
      try {
        await Promise.race([collectOnce(), stopped]);
      } catch (e) {
        if (e === stopReason) throw e;
        problem('collecting results', e);
      }
      if (outstanding.size > 0) await Promise.race([sleep(pollMs), stopped]);
    }
  } finally {
    if (options.signal?.aborted) {
      // Redis may be unreachable: do not wait for it
      await consumer?.close(true);
      await queue.disconnect();
    } else {
      await consumer?.close();
      await queue.close();
    }
    client.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------
// status

export interface SweepStatus {
  sweep: string;
  command: string;
  version: string;
  created: string;
  total: number;
  completed: number;
  failed: number;
  active: number;
  waiting: number;
  /** jobs of the sweep the queue no longer holds (the submitting side puts them back while it runs) */
  missing: number;
  /** worker names of the running jobs */
  runningOn: string[];
}

export interface QueueStatus {
  queue: string;
  workers: string[];
  sweeps: SweepStatus[];
}

export async function queueStatus(url: string): Promise<QueueStatus> {
  const q = parseQueueUrl(url);
  await probe(q);
  const queue = new Queue<JobData, JobResult>(QUEUE_NAME, { connection: { ...q.connection, maxRetriesPerRequest: 1 }, prefix: PREFIX });
  queue.on('error', () => {
    /* the calls below fail with it */
  });
  const client = new Redis({ ...q.connection, maxRetriesPerRequest: 1 });
  client.on('error', () => {
    /* the calls below fail with it */
  });
  try {
    const sweeps: SweepStatus[] = [];
    for (const [sweep, text] of Object.entries(await client.hgetall(SWEEPS_KEY))) {
      const meta = JSON.parse(text) as { command: string; version: string; total: number; created: string };
      const ids = await client.smembers(sweepJobsKey(sweep));
      const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
      const count = (s: string): number => states.filter((x) => x === s).length;
      const runningOn = new Set<string>();
      for (let i = 0; i < ids.length; i++) {
        if (states[i] !== 'active') continue;
        const job = await Job.fromId(queue, ids[i]!);
        if (job?.processedBy) runningOn.add(job.processedBy);
      }
      sweeps.push({
        sweep,
        command: meta.command,
        version: meta.version,
        created: meta.created,
        total: meta.total,
        completed: count('completed'),
        failed: count('failed'),
        active: count('active'),
        waiting: count('waiting') + count('delayed') + count('prioritized') + count('waiting-children'),
        missing: count('unknown'),
        runningOn: [...runningOn],
      });
    }
    sweeps.sort((a, b) => a.created.localeCompare(b.created));
    const workers = (await queue.getWorkers()).map((w) => (w.name ?? '').replace(/^.*?:w:/, '') || 'unnamed');
    return { queue: q.display, workers, sweeps };
  } catch (e) {
    throw new QueueError(`cannot read the queue at ${q.display}: ${q.redact((e as Error).message)}`);
  } finally {
    await queue.close();
    client.disconnect();
  }
}

/** the status as lines of text */
export function statusText(s: QueueStatus): string {
  const lines = [`queue ${s.queue}: ${s.workers.length} worker(s) connected${s.workers.length ? `: ${s.workers.join(', ')}` : ''}`];
  if (s.sweeps.length === 0) lines.push('no sweeps submitted');
  for (const w of s.sweeps) {
    lines.push(
      `sweep ${w.sweep} (onward ${w.version}, submitted ${w.created.slice(0, 16).replace('T', ' ')} UTC): ${w.completed + w.failed}/${w.total} runs done` +
        ` (${w.failed} failed), ${w.active} running${w.runningOn.length ? ` on ${w.runningOn.join(', ')}` : ''}, ${w.waiting} waiting` +
        (w.missing ? `, ${w.missing} missing (resubmitted while the submitting side runs)` : '') +
        `\n  ${w.command}`,
    );
  }
  return lines.join('\n');
}
