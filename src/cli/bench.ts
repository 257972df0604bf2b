/**
 * `onward bench [--suite ci|paper] [--learners a,b] [--tasks x,y] [--seeds N] [--steps N] [--budget MACS|none] [--out DIR] [--workers N]`:
 * every learner on every task, side by side → DIR/results.jsonl, DIR/report.md and SVG charts. Rerunning
 * it finishes only the runs the results file does not hold yet.
 *
 * `--queue redis://[:password@]HOST[:PORT][/DB]`: the runs become jobs on that Redis server for `onward worker`
 * processes anywhere; this process works on them too (`--workers` threads) unless `--collect` is given, and
 * writes the same results, report and charts. `--status`: the progress of the sweeps on the queue.
 */
import { ConfigError } from '../core/errors.js';
import { runBench } from '../bench/bench.js';
import { parseQueueUrl, queueStatus, redactCommand, statusText } from '../bench/queue.js';
import { parse } from './args.js';
import { printResult } from './json.js';

export async function benchCommand(argv: string[]): Promise<void> {
  const { values } = parse('bench', argv, {
    suite: { type: 'string' },
    learners: { type: 'string' },
    tasks: { type: 'string' },
    seeds: { type: 'string' },
    steps: { type: 'string' },
    budget: { type: 'string' },
    out: { type: 'string' },
    workers: { type: 'string' },
    quiet: { type: 'boolean' },
    json: { type: 'boolean' },
    queue: { type: 'string' },
    collect: { type: 'boolean' },
    status: { type: 'boolean' },
    'lock-seconds': { type: 'string' },
    experiments: { type: 'string' },
    stage: { type: 'string' },
  });
  const queueUrl = typeof values.queue === 'string' ? values.queue : undefined;
  if (queueUrl === undefined && (values.collect || values.status || values['lock-seconds'] !== undefined)) {
    throw new ConfigError('--collect, --status and --lock-seconds work on a queue: pass --queue redis://HOST:PORT[/DB] too');
  }
  if (queueUrl !== undefined) {
    const url = parseQueueUrl(queueUrl);
    process.title = `onward bench --queue ${url.display}`;
  }
  if (queueUrl !== undefined && values.status) {
    const status = await queueStatus(queueUrl);
    if (values.json) printResult('bench', status);
    else console.log(statusText(status));
    return;
  }
  const lockSeconds = values['lock-seconds'] === undefined ? undefined : Number(values['lock-seconds']);
  if (lockSeconds !== undefined && !(Number.isFinite(lockSeconds) && lockSeconds > 0)) {
    throw new ConfigError(`--lock-seconds must be a positive number, got '${String(values['lock-seconds'])}'`);
  }
  const list = (v: unknown): string[] | undefined =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
  const count = (flag: string, v: unknown): number | undefined => {
    if (typeof v !== 'string') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--${flag} must be a positive integer, got '${v}'`);
    return n;
  };
  const budget = (v: unknown): number | undefined => {
    if (typeof v !== 'string') return undefined;
    if (v === 'none') return Infinity;
    const n = Number(v);
    if (!(Number.isFinite(n) && n > 0))
      throw new ConfigError(`--budget must be a positive number of multiply-accumulates (e.g. 1e12) or 'none', got '${v}'`);
    return n;
  };
  const stage = (v: unknown): 1 | 2 | undefined => {
    if (typeof v !== 'string') return undefined;
    if (v !== '1' && v !== '2') throw new ConfigError(`--stage must be 1 (the reduced scale) or 2 (the authors' settings), got '${v}'`);
    return v === '1' ? 1 : 2;
  };
  const suite = typeof values.suite === 'string' ? values.suite : 'ci';
  const out = typeof values.out === 'string' ? values.out : `bench-results/${suite}`;
  const quiet = values.quiet === true || values.json === true;
  const started = performance.now();
  const outcome = await runBench({
    suite,
    learners: list(values.learners),
    tasks: list(values.tasks),
    seeds: count('seeds', values.seeds),
    steps: count('steps', values.steps),
    budget: budget(values.budget),
    workers: count('workers', values.workers),
    experiments: list(values.experiments),
    stage: stage(values.stage),
    out,
    command: ['onward', 'bench', ...redactCommand(argv)].join(' '),
    queue:
      queueUrl === undefined
        ? undefined
        : {
            url: queueUrl,
            collect: values.collect === true,
            lockSeconds,
            onLog: (line) => {
              if (!quiet) console.error(line);
            },
          },
    onProgress: (e) => {
      if (quiet) return;
      const { task, model, learner, seed } = e.spec;
      const final = e.records.find((r) => r.kind === 'eval' && r.final);
      const what = e.error
        ? `failed: ${e.error.error}: ${e.error.message}`
        : final && final.kind === 'eval'
          ? `${final.metric} ${final.value === null ? 'not finite' : final.value.toPrecision(3)}, ${final.seconds.toFixed(1)} s`
          : e.records[0]?.kind === 'skipped'
            ? 'over budget'
            : 'done';
      console.error(`[${e.done}/${e.total}] ${task} ${model} ${learner} seed ${seed}: ${what}`);
    },
  });
  const seconds = (performance.now() - started) / 1000;
  if (values.json) {
    printResult('bench', {
      results: outcome.resultsPath,
      report: outcome.reportPath,
      charts: outcome.charts,
      ran: outcome.ran,
      reused: outcome.reused,
      failed: outcome.failed,
      seconds,
    });
  } else if (!values.quiet) {
    console.log(
      `onward bench ${outcome.plan.suite.name}: ${outcome.ran} runs done, ${outcome.reused} already in ${outcome.resultsPath}, ${outcome.failed} failed, ` +
        `${outcome.plan.notApplicable.length} pairs not applicable` +
        (outcome.plan.taskProblems.length
          ? `, tasks that could not be set up: ${outcome.plan.taskProblems.map((p) => p.task).join(', ')}`
          : '') +
        `; ${seconds.toFixed(1)} s → ${outcome.reportPath}`,
    );
  }
  if (outcome.failed > 0) process.exitCode = 1;
}
