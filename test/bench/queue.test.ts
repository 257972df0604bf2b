/**
 * `onward bench --queue`: a sweep through a real Redis (test/redis.ts) gives the local sweep's results bit
 * for bit even when a worker process is SIGKILLed mid-job; it completes through a Redis restart; a run that
 * fails twice is recorded with its error, an unknown config is refused at once, a worker of another version
 * puts the job back and stops; --status shows progress; the password never shows.
 * Runs are tiny (delayed-xor, a few dozen batches) so the file takes seconds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { runBench } from '../../src/bench/bench.js';
import { planBench, type RunSpec } from '../../src/bench/plan.js';
import {
  jobData,
  jobId,
  onwardVersion,
  parseQueueUrl,
  QueueError,
  queueStatus,
  redactCommand,
  runQueued,
  startConsumer,
} from '../../src/bench/queue.js';
import { configId, readResults, runKey, type BenchRecord } from '../../src/bench/records.js';
import { startRedis } from '../redis.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'onward-queue-'));

/** a worker process (`onward worker`) and its stderr, line by line */
function workerProcess(
  url: string,
  args: string[] = [],
): { proc: ChildProcess; lines: string[]; waitFor: (re: RegExp) => Promise<string> } {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/bin.ts', 'worker', '--queue', url, '--concurrency', '1', '--lock-seconds', '1', ...args],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let rest = '';
  proc.stderr!.on('data', (d: Buffer) => {
    rest += d.toString();
    const parts = rest.split('\n');
    rest = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of waiters.splice(0)) w.re.test(line) ? w.resolve(line) : waiters.push(w);
    }
  });
  const waitFor = (re: RegExp): Promise<string> => {
    const seen = lines.find((l) => re.test(l));
    return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ re, resolve }));
  };
  return { proc, lines, waitFor };
}

function stop(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill(signal);
  });
}

/** a record without what depends on the machine's speed (times); everything else must match bit for bit */
function stable(r: BenchRecord): unknown {
  if (r.kind !== 'eval') return r;
  const { usPerStep: _a, inferenceUsPerStep: _b, seconds: _c, ...rest } = r;
  return rest;
}

const sortKey = (r: BenchRecord): string =>
  'seed' in r ? `${runKey(r)}|${r.kind === 'eval' ? String(r.step).padStart(6, '0') : ''}` : r.learner;

function finalsPerRun(records: readonly BenchRecord[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of records) if ((r.kind === 'eval' && r.final) || r.kind === 'skipped') m.set(runKey(r), (m.get(runKey(r)) ?? 0) + 1);
  return m;
}

test('the queue URL: parsed, its password never shown, bad URLs refused with the fix', () => {
  const u = parseQueueUrl('redis://:hunter2-secret@10.0.0.5:6380/3', {});
  assert.deepEqual(u.connection, { host: '10.0.0.5', port: 6380, db: 3, password: 'hunter2-secret' });
  assert.equal(u.display, 'redis://***@10.0.0.5:6380/3');
  assert.equal(u.redact('WRONGPASS hunter2-secret'), 'WRONGPASS ***');
  assert.deepEqual(parseQueueUrl('redis://h', { ONWARD_QUEUE_PASSWORD: 'from-env' }).connection, {
    host: 'h',
    port: 6379,
    db: 0,
    password: 'from-env',
  });
  assert.equal(parseQueueUrl('redis://h', { ONWARD_QUEUE_PASSWORD: 'from-env' }).redact('x from-env y'), 'x *** y');
  for (const bad of ['http://:pw-1@h', 'redis://:pw-1@h/x', 'not a url :pw-1@']) {
    assert.throws(
      () => parseQueueUrl(bad, {}),
      (e: unknown) => e instanceof QueueError && !e.message.includes('pw-1') && /redis:\/\//.test(e.message),
      bad,
    );
  }
  assert.deepEqual(redactCommand(['--queue', 'redis://:pw@h', '--queue=redis://u:pw@h', '--out', 'x']), [
    '--queue',
    'redis://***@h',
    '--queue=redis://***@h',
    '--out',
    'x',
  ]);
});

test('a sweep over two worker processes, one SIGKILLed mid-job, equals the local sweep bit for bit', async () => {
  const sweep = { suite: 'ci', tasks: ['delayed-xor'], learners: ['rtrl'], steps: 60, seeds: 3 };
  const local = await runBench({ ...sweep, workers: 1, out: join(tmp, 'local') });
  assert.equal(local.failed, 0);
  const redis = await startRedis();
  const a = workerProcess(redis.url),
    b = workerProcess(redis.url);
  try {
    await Promise.all([a.waitFor(/working on/), b.waitFor(/working on/)]);
    const queued = runBench({
      ...sweep,
      workers: 1,
      out: join(tmp, 'queued'),
      queue: { url: redis.url, collect: true, pollSeconds: 0.1, onLog: () => {} },
    });
    // kill a in the middle of its first job: the job must come back (after a's 1 s lock expires) and b run it
    const started = await a.waitFor(/^started /);
    const id = /\(job (\S+),/.exec(started)![1]!;
    await new Promise((r) => setTimeout(r, 200));
    await stop(a.proc, 'SIGKILL');
    assert.ok(!a.lines.some((l) => l.startsWith('finished') && l.includes(id)), 'a was killed before it finished the job');
    const outcome = await queued;
    assert.equal(outcome.failed, 0);
    assert.ok(
      b.lines.some((l) => l.startsWith('started') && l.includes(id)),
      `b took over job ${id}:\n${b.lines.join('\n')}`,
    );
    const got = readResults(outcome.resultsPath),
      want = readResults(local.resultsPath);
    const finals = finalsPerRun(got);
    assert.deepEqual([...finals.keys()].sort(), local.plan.runs.map(runKey).sort(), 'every run is there');
    assert.ok(
      [...finals.values()].every((n) => n === 1),
      'and only once',
    );
    assert.deepEqual(
      got.map(stable).sort((x, y) => sortKey(x as BenchRecord).localeCompare(sortKey(y as BenchRecord))),
      want.map(stable).sort((x, y) => sortKey(x as BenchRecord).localeCompare(sortKey(y as BenchRecord))),
    );
    assert.match(readFileSync(outcome.reportPath, 'utf8'), /queue workers .*-onward-/, 'the report names the workers that ran the sweep');
  } finally {
    await Promise.all([stop(a.proc, 'SIGKILL'), stop(b.proc, 'SIGKILL')]);
    await redis.stop();
  }
});

test('Redis restarting mid-sweep (persistence off: it comes back empty): the worker reconnects and the sweep completes', async () => {
  const sweep = { suite: 'ci', tasks: ['delayed-xor'], learners: ['rtrl'], steps: 40, seeds: 6 };
  const redis = await startRedis();
  const w = workerProcess(redis.url);
  const logs: string[] = [];
  try {
    await w.waitFor(/working on/);
    let restarted: Promise<void> | null = null;
    const outcome = await runBench({
      ...sweep,
      workers: 1,
      out: join(tmp, 'restart'),
      queue: { url: redis.url, collect: true, pollSeconds: 0.1, onLog: (l) => logs.push(l) },
      onProgress: (e) => {
        if (e.done === 1) restarted = redis.restart();
      },
    });
    await restarted;
    assert.ok(restarted, 'redis was restarted');
    assert.equal(outcome.failed, 0);
    const finals = finalsPerRun(readResults(outcome.resultsPath));
    assert.equal(finals.size, 6);
    assert.ok([...finals.values()].every((n) => n === 1));
    assert.ok(
      logs.some((l) => /gone from the queue.*submitting them again/.test(l)),
      logs.join('\n'),
    );
  } finally {
    await stop(w.proc, 'SIGKILL');
    await redis.stop();
  }
});

test('a run failing twice is recorded with its error; an unknown config is refused at once; a worker of another version puts its job back and stops', async () => {
  const redis = await startRedis();
  const queue = new Queue('bench', { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'onward' });
  try {
    const base = planBench({ suite: 'ci', tasks: ['delayed-xor'], learners: ['bptt'], steps: 2, seeds: 1 }).runs[0]!;
    const withConfig = (config: object): RunSpec => ({ ...base, config: config as RunSpec['config'], configId: configId(config) });
    // a setting the task allows, whose sequences do not fit the memory limit: the config is well formed, the run throws when it builds the task
    const failing = withConfig({ ...base.config, task: { ...base.config.task, settings: { delay: 1e9 } } });
    const unknown = withConfig({ ...base.config, someNewKnob: 3 });
    // a setting the task does not have is a config this onward does not know (the task's settings schema refuses it)
    const unknownSetting = withConfig({ ...base.config, task: { ...base.config.task, settings: { nope: 1 } } });
    const results = new Map<string, { error: string; message: string } | null>();
    await runQueued([failing, unknown, unknownSetting], { url: redis.url, threads: 1, pollSeconds: 0.1, onLog: () => {} }, (spec, r) =>
      results.set(spec.configId, r.error),
    );
    assert.equal(results.get(failing.configId)?.error, 'LimitError');
    assert.match(results.get(failing.configId)!.message, /task delayed-xor \(delay 1000000000/);
    assert.equal((await queue.getJob(jobId(failing)))!.attemptsMade, 2, 'tried twice');
    assert.equal(results.get(unknown.configId)?.error, 'UnknownConfig');
    assert.match(results.get(unknown.configId)!.message, /unknown config key 'someNewKnob'/);
    assert.equal((await queue.getJob(jobId(unknown)))!.attemptsMade, 1, 'refused at once');
    assert.equal(results.get(unknownSetting.configId)?.error, 'UnknownConfig');
    assert.match(results.get(unknownSetting.configId)!.message, /unknown setting 'nope'/);
    assert.equal((await queue.getJob(jobId(unknownSetting)))!.attemptsMade, 1, 'refused at once');

    const other = '0.0.0-other';
    await queue.add('run', jobData(base, other), { jobId: jobId(base, other) });
    const consumer = await startConsumer({ url: redis.url, threads: 1, lockSeconds: 1, onLog: () => {} });
    await assert.rejects(
      consumer.done,
      (e: unknown) => e instanceof QueueError && e.message.includes(`onward ${other}, this worker is onward ${onwardVersion}`),
    );
    assert.equal(await queue.getJobState(jobId(base, other)), 'waiting', 'the job is back for a worker of its version');
  } finally {
    await queue.close();
    await redis.stop();
  }
});

test("--status shows the sweep's progress; the password shows nowhere (output, report, Redis), a wrong one is a clear error", async () => {
  const pw = 'pw-7c1e9a';
  const redis = await startRedis(['--requirepass', pw]);
  const url = `redis://:${pw}@127.0.0.1:${redis.port}`;
  const abort = new AbortController();
  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
  try {
    await assert.rejects(
      queueStatus(`redis://:pw-wrong-3@127.0.0.1:${redis.port}`),
      (e: unknown) =>
        e instanceof QueueError &&
        /cannot use the queue at redis:\/\/\*\*\*@127\.0\.0\.1.*WRONGPASS/.test(e.message) &&
        !e.message.includes('pw-wrong-3'),
    );
    const out = join(tmp, 'status');
    const args = ['bench', '--tasks', 'delayed-xor', '--learners', 'bptt', '--steps', '2', '--seeds', '2', '--out', out, '--queue', url];
    // submit and collect only (no worker yet): the status shows the runs waiting
    const submitting = runBench({
      suite: 'ci',
      tasks: ['delayed-xor'],
      learners: ['bptt'],
      steps: 2,
      seeds: 2,
      out,
      command: ['onward', ...redactCommand(args)].join(' '),
      queue: { url, collect: true, pollSeconds: 0.1, onLog: () => {}, signal: abort.signal },
    });
    submitting.catch(() => {});
    let status = await queueStatus(url);
    for (let i = 0; i < 100 && status.sweeps[0]?.waiting !== 2; i++) status = await queueStatus(url);
    assert.equal(status.sweeps.length, 1);
    assert.deepEqual([status.sweeps[0]!.total, status.sweeps[0]!.completed, status.sweeps[0]!.waiting], [2, 0, 2]);
    // the password from the environment, not the command line
    const shown = cli(['bench', '--queue', `redis://127.0.0.1:${redis.port}`, '--status'], { ONWARD_QUEUE_PASSWORD: pw });
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /0\/2 runs done \(0 failed\), 0 running, 2 waiting/);
    assert.match(shown.stdout, /--queue redis:\/\/\*\*\*@127\.0\.0\.1/);
    const consumer = await startConsumer({ url, threads: 1, onLog: () => {} });
    const outcome = await submitting;
    await consumer.close();
    assert.equal(outcome.ran, 2);
    status = await queueStatus(url);
    assert.deepEqual([status.sweeps[0]!.completed, status.sweeps[0]!.waiting], [2, 0]);
    // the whole command through the CLI: everything already collected, nothing printed holds the password
    const again = cli(args);
    assert.equal(again.status, 0, again.stderr);
    for (const text of [
      shown.stdout,
      shown.stderr,
      again.stdout,
      again.stderr,
      readFileSync(join(out, 'report.md'), 'utf8'),
      JSON.stringify(status),
    ]) {
      assert.ok(!text.includes(pw), text);
    }
  } finally {
    abort.abort();
    await redis.stop();
  }
});
