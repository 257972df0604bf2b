/**
 * `report.md` of a bench suite: where it ran, the final metric of every learner on every task, cost per
 * step against inference, alignment with BPTT (whole gradient and per layer), what could not run and
 * why, and the charts. The summary table sits between marker comments so scripts/readme-results.mjs can
 * copy it into the README unchanged.
 */
import { cpus, availableParallelism, totalmem, platform, arch } from 'node:os';
import type { BenchSummary, Cell, ExperimentSummary, Stats, TaskSummary } from './summary.js';
import type { Chart } from './charts.js';

export const SUMMARY_START = '<!-- bench-summary:start -->';
export const SUMMARY_END = '<!-- bench-summary:end -->';

export function machineDescription(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${arch()}, Node ${process.version}`;
}

/** a number with three significant digits (integers from 1000 up in full) */
export function num(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(digits - 1);
  if (a >= 1000) return v.toFixed(0);
  return v.toPrecision(digits);
}

function bytes(v: number | null): string {
  if (v === null) return '–';
  if (v >= 2 ** 20) return `${(v / 2 ** 20).toFixed(2)} MiB`;
  return `${(v / 1024).toFixed(1)} KiB`;
}

const ratio = (a: number | null, b: number | null): string => (a !== null && b ? `${num(a / b)}×` : '–');

function table(header: string[], rows: string[][]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** the text of a cell that has no number: why */
function statusText(c: Cell): string | null {
  if (c.status === 'n/a') return 'n/a';
  if (c.final) return null;
  if (c.status === 'over budget') return 'over budget';
  if (c.status === 'error') return 'error';
  if (c.diverged > 0) return 'diverged';
  return 'not run';
}

function finalText(c: Cell, best: number | null): string {
  const s = statusText(c);
  if (s) return s;
  const f = c.final!;
  let text = f.n > 1 ? `${num(f.mean)} ± ${num(f.sd, 2)}` : num(f.mean);
  // ties (exact learners follow the same trajectory up to rounding) are all best
  if (best !== null && Math.abs(f.mean - best) <= 1e-6 * Math.abs(best)) text = `**${text}**`;
  const notes: string[] = [];
  if (c.diverged) notes.push(`${c.diverged} diverged`);
  if (c.seeds < c.planned) notes.push(`${c.seeds}/${c.planned} seeds`);
  return notes.length ? `${text} (${notes.join(', ')})` : text;
}

function bestOf(t: TaskSummary): number | null {
  const means = t.cells.filter((c) => c.final).map((c) => c.final!.mean);
  if (means.length === 0) return null;
  return t.higherIsBetter ? Math.max(...means) : Math.min(...means);
}

const taskHeader = (t: TaskSummary): string => `${t.task} (${t.model}) ${t.metric} ${t.higherIsBetter ? '↑' : '↓'}`;

export function finalTable(s: BenchSummary): string {
  const best = s.tasks.map(bestOf);
  return table(
    ['learner', ...s.tasks.map(taskHeader)],
    s.learners.map((l) => [l, ...s.tasks.map((t, i) => finalText(t.cells.find((c) => c.learner === l)!, best[i] ?? null))]),
  );
}

function crossTable(s: BenchSummary, value: (c: Cell, t: TaskSummary) => string): string {
  return table(
    ['learner', ...s.tasks.map((t) => `${t.task} (${t.model})`)],
    s.learners.map((l) => [
      l,
      ...s.tasks.map((t) => {
        const c = t.cells.find((x) => x.learner === l)!;
        return c.evals.length ? value(c, t) : (statusText(c) ?? '–');
      }),
    ]),
  );
}

function taskCostTable(t: TaskSummary): string {
  const rows = t.cells.map((c) => {
    if (!c.evals.length) return [c.learner, statusText(c) ?? '–', '', '', '', '', '', ''];
    return [
      c.learner,
      num(c.usPerStep),
      ratio(c.usPerStep, t.inferenceUsPerStep),
      num(c.macsPerStep),
      ratio(c.macsPerStep, t.inferenceMacsPerStep),
      bytes(c.stateBytes),
      ratio(c.stateBytes, c.paramBytes),
      statusText(c) ?? num(c.final?.mean ?? null),
    ];
  });
  return table(['learner', 'µs/step', '× inference', 'MACs/step', '× inference', 'learner state', '× params', `final ${t.metric}`], rows);
}

function layerTable(t: TaskSummary): string {
  const layers = [...new Set(t.cells.flatMap((c) => Object.keys(c.finalCosine)))];
  const rows = t.cells.filter((c) => c.evals.length).map((c) => [c.learner, ...layers.map((l) => num(c.finalCosine[l] ?? null))]);
  return table(['learner', ...layers], rows);
}

function reasons(s: BenchSummary): string[] {
  const out: string[] = [];
  for (const t of s.tasks)
    for (const c of t.cells) if (c.status !== 'ok' && c.reason) out.push(`- ${t.task} × ${c.learner} (${c.status}): ${c.reason}`);
  for (const p of s.problems) out.push(`- task ${p.task} could not be set up: ${p.message}`);
  return out;
}

export interface ReportContext {
  command: string;
  machine: string;
  date: string;
  backend: string;
  workers: number;
}

export function reportMarkdown(s: BenchSummary, charts: Chart[], ctx: ReportContext): string {
  if (s.experiments) return paperReportMarkdown(s, charts, ctx);
  const cells = s.tasks.flatMap((t) => t.cells);
  const count = (st: Cell['status']): number => cells.filter((c) => c.status === st).length;
  const lines: string[] = [
    `# onward bench: ${s.suite} suite`,
    '',
    `Produced by \`${ctx.command}\` on ${ctx.machine}, ${ctx.date}; backend ${ctx.backend}, ${ctx.workers} worker thread${ctx.workers === 1 ? '' : 's'} ` +
      `(timings of runs that shared the machine; the multiply-accumulate counts do not depend on it).`,
    '',
    `${s.tasks.length} tasks × ${s.learners.length} learners, ${s.seeds} seed${s.seeds === 1 ? '' : 's'} each: ${count('ok')} pairs finished, ` +
      `${count('n/a')} not applicable, ${count('over budget')} over the suite's budget, ${count('error')} failed, ${count('missing')} not run yet.`,
    '',
    '## Final metric',
    '',
    SUMMARY_START,
    `*onward bench, ${s.suite} suite, ${s.seeds} seed${s.seeds === 1 ? '' : 's'}, on ${ctx.machine} (${ctx.date.slice(0, 10)}).*`,
    '',
    finalTable(s),
    '',
    'Held-out metric after the last training batch, mean ± standard deviation over seeds (best per task in bold). ' +
      "n/a: the learner does not support the task's model; over budget: the run would exceed the suite's multiply-accumulate budget (reasons in the full report).",
    SUMMARY_END,
    '',
    '## Cost per step relative to inference',
    '',
    'Training wall time per time step (whole batch, forward + learning + optimizer) ÷ the inference forward step of the same model and batch:',
    '',
    crossTable(s, (c, t) => ratio(c.usPerStep, t.inferenceUsPerStep)),
    '',
    "Multiply-accumulates per time step ÷ inference (from the backend's counter, independent of the machine):",
    '',
    crossTable(s, (c, t) => ratio(c.macsPerStep, t.inferenceMacsPerStep)),
    '',
    '## Alignment with BPTT',
    '',
    "Cosine between the learner's gradient and BPTT's on a fixed batch, all parameters, at the last evaluation (mean over seeds); " +
      'in brackets the mean over all evaluation points of training:',
    '',
    crossTable(s, (c) => `${num(c.finalCosine.all ?? null)} (${num(c.meanCosine)})`),
    '',
  ];
  for (const t of s.tasks) {
    if (!t.cells.some((c) => c.evals.length)) continue;
    const c0 = t.cells.find((c) => c.evals.length)!;
    lines.push(
      `## ${t.task} (${t.model}, batch ${c0.batch}, T = ${c0.seqLength}, ${t.steps} training batches)`,
      '',
      `Inference: ${num(t.inferenceUsPerStep)} µs and ${num(t.inferenceMacsPerStep)} multiply-accumulates per time step (whole batch); ` +
        `parameters ${bytes(c0.paramBytes)}.`,
      '',
      taskCostTable(t),
      '',
      'Cosine to BPTT per parameter group at the last evaluation:',
      '',
      layerTable(t),
      '',
      `![learning curves: ${t.task}](curves-${t.task}.svg)`,
      '',
    );
  }
  const why = reasons(s);
  if (why.length) lines.push('## Not run, and why', '', ...why, '');
  lines.push(
    '## Charts',
    '',
    ...charts.map((c) => `- [${c.title}](${c.file})`),
    '',
    '![cost against result](cost-vs-metric.svg)',
    '',
    '![alignment with BPTT](alignment.svg)',
    '',
  );
  return lines.join('\n');
}

// ------------------------------------------------------------------------------------------------ paper suite

const pm = (st: Stats | null): string => (st ? (st.n > 1 ? `${num(st.mean)} ± ${num(st.sd, 2)}` : num(st.mean)) : '–');

/** the number a paper row is judged by: the metric at the lowest held-out loss (best-loss pick) or at the end */
const judged = (c: Cell, e: ExperimentSummary): Stats | null => (e.pick === 'best-loss' ? c.atBestLoss : c.final);

function delta(c: Cell, ref: Cell | undefined, e: ExperimentSummary): string {
  const a = judged(c, e),
    b = ref ? judged(ref, e) : null;
  if (!a || !b || c === ref) return '';
  const d = a.mean - b.mean;
  return `${d >= 0 ? '+' : '−'}${num(Math.abs(d))}`;
}

function cellNote(c: Cell): string {
  const s = statusText(c);
  if (c.final) return c.seeds < c.planned ? `${c.seeds}/${c.planned}` : `${c.seeds}`;
  return s === 'not run' && c.reason ? `not run (${c.reason})` : (s ?? '');
}

function experimentTable(t: TaskSummary, e: ExperimentSummary): string {
  const ref = t.cells.find((c) => c.learner === e.reference);
  const rows = t.cells.map((c) => [
    c.learner,
    pm(judged(c, e)),
    pm(c.loss),
    delta(c, ref, e),
    cellNote(c),
    c.evals.length ? ratio(c.usPerStep, t.inferenceUsPerStep) : '',
    c.evals.length ? ratio(c.macsPerStep, t.inferenceMacsPerStep) : '',
    c.evals.length ? bytes(c.stateBytes) : '',
    c.evals.length ? num(c.finalCosine.all ?? null) : '',
    c.evals.length ? num(c.minutes) : '',
  ]);
  const what = e.pick === 'best-loss' ? `${t.metric || 'metric'} at best held-out loss` : `final ${t.metric || 'metric'}`;
  return table(
    [
      'row',
      `${what} ${t.higherIsBetter ? '↑' : '↓'}`,
      'held-out loss',
      `Δ to ${e.reference}`,
      'seeds',
      'time/step ÷ inference',
      'MACs/step ÷ inference',
      'learner state',
      'cosine to bptt',
      'CPU min',
    ],
    rows,
  );
}

function sparseTable(t: TaskSummary): string | null {
  const cells = t.cells.filter((c) => c.learnerStats);
  if (!cells.length) return null;
  // wall-clock and op savings against dense rtrl at the same weight sparsity (rows named '… P(0) x')
  const rtrlAt = (c: Cell): Cell | undefined =>
    t.cells.find((d) => d.learner === c.learner.replace(/^sparse-rtrl/, 'rtrl') && d.evals.length);
  const rows = cells.map((c) => {
    const st = c.learnerStats!,
      r = rtrlAt(c);
    const dense = t.cells.find((d) => d.learner.startsWith('rtrl') && d.evals.length && d.learner.endsWith('P(0) 0.0'));
    return [
      c.learner,
      num(1 - (st.forwardActivity ?? NaN)),
      num(1 - (st.influenceDensity ?? NaN)),
      num(st.computeAdjustedIterations ?? null),
      num(st.macRatio ?? null),
      r ? ratio(c.usPerStep, r.usPerStep) : '–',
      dense ? ratio(c.usPerStep, dense.usPerStep) : '–',
    ];
  });
  return table(
    [
      'row',
      'activity sparsity',
      'influence sparsity',
      'compute-adjusted iterations',
      'MACs ÷ dense rtrl (counted)',
      'wall time ÷ rtrl, same P(0)',
      'wall time ÷ rtrl, P(0) 0',
    ],
    rows,
  );
}

/** the table scripts/readme-results copies into the README: each finished row, judged number and Δ to the reference */
export function paperSummaryTable(s: BenchSummary): string {
  const rows: string[][] = [];
  s.tasks.forEach((t, i) => {
    const e = s.experiments![i]!;
    const ref = t.cells.find((c) => c.learner === e.reference);
    for (const c of t.cells) {
      if (!c.final) continue;
      rows.push([
        e.paper,
        `${e.id} (stage ${e.stage})`,
        c.learner,
        `${pm(judged(c, e))}${c.seeds < c.planned ? ` (${c.seeds}/${c.planned} seeds)` : ''}`,
        delta(c, ref, e) || (c === ref ? 'ref.' : ''),
      ]);
    }
  });
  if (!rows.length) return '*No paper-suite run has finished yet.*';
  return table(['paper', 'experiment', 'row', 'metric (mean ± sd over seeds)', 'Δ to bptt'], rows);
}

function paperReportMarkdown(s: BenchSummary, charts: Chart[], ctx: ReportContext): string {
  const exps = s.experiments!;
  const planned = exps.reduce((a, e) => a + e.planned, 0),
    finished = exps.reduce((a, e) => a + e.finished, 0);
  const budgetRows = exps.map((e, i) => {
    const minutes = s.tasks[i]!.cells.reduce((a, c) => a + c.minutes, 0);
    return [
      `${e.id}`,
      String(e.stage),
      `${e.planned} × ${num(e.minutesPerRun)} min`,
      num((e.planned * e.minutesPerRun) / 60),
      `${e.finished}`,
      num(minutes / 60),
    ];
  });
  const est = exps.reduce((a, e) => a + e.planned * e.minutesPerRun, 0) / 60;
  const lines: string[] = [
    '# onward bench: paper suite',
    '',
    `Produced by \`${ctx.command}\` on ${ctx.machine}, ${ctx.date}; backend ${ctx.backend}, ${ctx.workers} worker thread${ctx.workers === 1 ? '' : 's'} ` +
      '(timings of runs that shared the machine with other jobs; the multiply-accumulate counts do not depend on it).',
    '',
    "Each seed paper's experiment at the authors' settings (research/paper-settings.md), compared with our own BPTT on the same " +
      "network: no published table value could be read, so each paper's claim (quoted from its abstract) stands next to the measured numbers. " +
      "Stage 1 is a reduced scale, stated per experiment, that runs every paper's whole comparison first; stage 2 is the authors' settings. " +
      'The suite is resumable: rerunning the command finishes only what the results file does not hold yet.',
    '',
    `${finished} of ${planned} runs finished.`,
    '',
    '## Results',
    '',
    SUMMARY_START,
    `*onward bench, paper suite, on ${ctx.machine} (${ctx.date.slice(0, 10)}): ${finished} of ${planned} runs finished; stage 1 is a reduced scale (see the report).*`,
    '',
    paperSummaryTable(s),
    '',
    "Mean ± sample standard deviation over seeds of the held-out metric (copy: at the evaluation point of lowest held-out loss; the others: after the last update), and the difference of the means to the experiment's bptt row.",
    SUMMARY_END,
    '',
    '## CPU budget',
    '',
    'Planned runs × the minutes one run took when measured (a few updates, niced, on this machine under load), and the CPU hours measured so far:',
    '',
    table(['experiment', 'stage', 'runs × min/run', 'estimated CPU h', 'runs finished', 'measured CPU h'], budgetRows),
    '',
    `Estimated total: ${num(est)} CPU hours on one core of this machine.`,
    '',
  ];
  for (const paper of [...new Set(exps.map((e) => e.paper))].sort()) {
    const claim = s.claims?.[paper];
    lines.push(`## ${paper}: ${claim?.paper ?? ''}`, '', `Claim: ${claim?.claim ?? ''}.`, '');
    exps.forEach((e, i) => {
      if (e.paper !== paper) return;
      const t = s.tasks[i]!;
      const c0 = t.cells.find((c) => c.evals.length);
      lines.push(
        `### ${e.id} (stage ${e.stage}): ${e.title}`,
        '',
        `Task \`${e.task}\` (paper preset)${t.model ? `, model ${t.model}` : ''}` +
          `${c0 ? `, batch ${c0.batch}, T = ${c0.seqLength}` : ''}, ${t.steps} updates. Settings used against the authors': ${e.scale}.`,
        '',
        experimentTable(t, e),
        '',
      );
      for (const sc of e.scans) {
        lines.push(
          `Learning-rate scan of ${sc.row} (first seed): ${sc.points.map((p) => `${num(p.lr)} → ${p.loss === null ? 'not run' : `loss ${num(p.loss)}, ${num(p.value)}`}`).join('; ')}` +
            `${sc.best !== null ? `; best ${num(sc.best)}` : ''}.`,
          '',
        );
      }
      const sp = sparseTable(t);
      if (sp) lines.push("Sparsity and savings (sparse-rtrl's own counters; savings against dense rtrl):", '', sp, '');
      for (const w of e.waiting) lines.push(`- waiting: ${w}`);
      if (e.waiting.length) lines.push('');
      if (c0) lines.push(`![learning curves: ${e.id}](curves-${e.id}.svg)`, '');
    });
  }
  const why = reasons(s);
  if (why.length) lines.push('## Not run, and why', '', ...why, '');
  lines.push('## Charts', '', ...charts.map((c) => `- [${c.title}](${c.file})`), '');
  return lines.join('\n');
}
