/**
 * `report.md` of a bench suite: where it ran, the final metric of every learner on every task, cost per
 * step against inference, alignment with BPTT (whole gradient and per layer), what could not run and
 * why, and the charts. The summary table sits between marker comments so scripts/readme-results.mjs can
 * copy it into the README unchanged. The paper suite's report is paper-report.ts.
 */
import { cpus, availableParallelism, totalmem, platform, arch } from 'node:os';
import type { BenchSummary, Cell, TaskSummary } from './summary.js';
import { paperReportMarkdown } from './paper-report.js';
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

export function bytes(v: number | null): string {
  if (v === null) return '–';
  if (v >= 2 ** 20) return `${(v / 2 ** 20).toFixed(2)} MiB`;
  return `${(v / 1024).toFixed(1)} KiB`;
}

export const ratio = (a: number | null, b: number | null): string => (a !== null && b ? `${num(a / b)}×` : '–');

export function table(header: string[], rows: string[][]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** the text of a cell that has no number: why */
export function statusText(c: Cell): string | null {
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

export function reasons(s: BenchSummary): string[] {
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
