/**
 * `report.md` of the paper suite. Stage 1 (a reduced scale of every experiment, stated next to the authors'
 * settings) is reported as a whole of its own: per seed paper its claim, quoted, then every experiment's rows
 * with the judged number as mean ± sd over seeds, each seed's value and the difference to the experiment's
 * bptt row, and the scale used with its CPU budget. Stage 2 (the authors' settings) follows as a plan with
 * its budget, and with the same tables for any of its experiments that has finished runs.
 *
 * The block between the summary markers is what scripts/readme-results.mjs copies into the README's
 * "Paper results" section: the claims, the numbers and the scale of each experiment.
 */
import type { EvalRecord } from './records.js';
import type { BenchSummary, Cell, ExperimentSummary, Stats, TaskSummary } from './summary.js';
import type { Chart } from './charts.js';
import { bytes, num, ratio, reasons, statusText, SUMMARY_END, SUMMARY_START, table, type ReportContext } from './report.js';

const pm = (st: Stats | null): string => (st ? (st.n > 1 ? `${num(st.mean)} ± ${num(st.sd, 2)}` : num(st.mean)) : '–');

/** the number a paper row is judged by: the metric at the lowest held-out loss (best-loss pick) or at the end */
const judged = (c: Cell, e: ExperimentSummary): Stats | null => (e.pick === 'best-loss' ? c.atBestLoss : c.final);

/** each finished seed's judged value, in seed order */
export function perSeed(c: Cell, e: ExperimentSummary): { seed: number; value: number | null }[] {
  const bySeed = new Map<number, EvalRecord[]>();
  for (const r of c.evals) bySeed.set(r.seed, [...(bySeed.get(r.seed) ?? []), r]);
  return [...bySeed.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([seed, evals]) => {
      if (e.pick === 'final') return { seed, value: evals.find((r) => r.final)?.value ?? null };
      const best = evals.filter((r) => r.loss !== null).reduce<EvalRecord | null>((b, r) => (!b || r.loss! < b.loss! ? r : b), null);
      return { seed, value: best?.value ?? null };
    });
}

const seedsText = (c: Cell, e: ExperimentSummary): string =>
  perSeed(c, e)
    .map((p) => num(p.value))
    .join(' / ');

function delta(c: Cell, ref: Cell | undefined, e: ExperimentSummary): string {
  if (c === ref) return 'ref.';
  const a = judged(c, e),
    b = ref ? judged(ref, e) : null;
  if (!a || !b) return '';
  const d = a.mean - b.mean;
  return `${d >= 0 ? '+' : '−'}${num(Math.abs(d))}`;
}

function seedCount(c: Cell): string {
  const s = statusText(c);
  if (c.final) return c.seeds < c.planned ? `${c.seeds}/${c.planned}` : `${c.seeds}`;
  if (s === 'not run') return c.reason ? `not run (${c.reason})` : `0/${c.planned}`;
  return s ?? '';
}

/** measured wall minutes per finished run of an experiment (null: none finished) */
function measuredMinutes(t: TaskSummary): { minutes: number; runs: number } {
  return t.cells.reduce((a, c) => ({ minutes: a.minutes + c.minutes, runs: a.runs + c.seeds }), { minutes: 0, runs: 0 });
}

/** "CPU budget: 12 runs × 1.4 min" — the reason for the scale, from the plan and the cost measured per run */
const budgetText = (e: ExperimentSummary): string => `CPU budget: ${e.planned} runs × ${num(e.minutesPerRun)} min`;

function summaryTable(t: TaskSummary, e: ExperimentSummary): string[][] {
  const ref = t.cells.find((c) => c.learner === e.reference);
  return t.cells.map((c) => [
    e.id,
    c.learner,
    c.final ? pm(judged(c, e)) : (statusText(c) ?? '–'),
    c.final ? delta(c, ref, e) : '',
    seedCount(c),
  ]);
}

/** the README block: per seed paper, its claim and every experiment's rows (stage 1, and stage 2 where run) */
export function paperSummaryTable(s: BenchSummary): string {
  const exps = s.experiments!;
  const shown = exps.map((e, i) => ({ e, t: s.tasks[i]! })).filter(({ e }) => e.stage === 1 || e.finished > 0);
  if (!shown.some(({ t }) => t.cells.some((c) => c.final))) return '*No paper-suite run has finished yet.*';
  const out: string[] = [];
  for (const paper of [...new Set(shown.map(({ e }) => e.paper))].sort()) {
    const claim = s.claims?.[paper];
    const mine = shown.filter(({ e }) => e.paper === paper);
    out.push(
      `**${paper}: ${claim?.paper ?? ''}.** Claim: ${claim?.claim ?? ''}.`,
      '',
      table(
        ['experiment', 'row', 'metric (mean ± sd over seeds)', 'Δ to bptt', 'seeds'],
        mine.flatMap(({ e, t }) => summaryTable(t, e).map((r, k) => (k === 0 ? r : ['', ...r.slice(1)]))),
      ),
      '',
      ...mine.map(
        ({ e, t }) =>
          `- ${e.id} (stage ${e.stage}, ${t.metric || 'metric'}${e.pick === 'best-loss' ? ' at the lowest held-out loss' : ', final'}): ${e.scale} (${budgetText(e)}).`,
      ),
      '',
    );
  }
  return out.join('\n').trimEnd();
}

function experimentTable(t: TaskSummary, e: ExperimentSummary): string {
  const ref = t.cells.find((c) => c.learner === e.reference);
  const rows = t.cells.map((c) => [
    c.learner,
    pm(judged(c, e)),
    c.evals.length ? seedsText(c, e) : '',
    pm(c.loss),
    c.final ? delta(c, ref, e) : '',
    seedCount(c),
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
      'per seed',
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
  const dense = t.cells.find((d) => d.learner.startsWith('rtrl') && d.evals.length && d.learner.endsWith('P(0) 0.0'));
  const rows = cells.map((c) => {
    const st = c.learnerStats!,
      r = rtrlAt(c);
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

function budgetTable(s: BenchSummary, stage: number): { text: string; hours: number; measured: number } {
  const exps = s.experiments!;
  let hours = 0,
    measured = 0;
  const rows = exps.flatMap((e, i) => {
    if (e.stage !== stage) return [];
    const m = measuredMinutes(s.tasks[i]!);
    hours += (e.planned * e.minutesPerRun) / 60;
    measured += m.minutes / 60;
    return [
      [
        e.id,
        String(e.planned),
        num(e.minutesPerRun),
        num((e.planned * e.minutesPerRun) / 60),
        String(e.finished),
        m.runs ? num(m.minutes / m.runs) : '–',
        num(m.minutes / 60),
      ],
    ];
  });
  const text = table(
    ['experiment', 'runs', 'min/run (probe)', 'estimated CPU h', 'runs finished', 'min/run (measured)', 'measured CPU h'],
    rows,
  );
  return { text, hours, measured };
}

function experimentSection(e: ExperimentSummary, t: TaskSummary): string[] {
  const c0 = t.cells.find((c) => c.evals.length);
  const lines = [
    `### ${e.id} (stage ${e.stage}): ${e.title}`,
    '',
    `Task \`${e.task}\` (paper preset)${t.model ? `, model ${t.model}` : ''}` +
      `${c0 ? `, batch ${c0.batch}, T = ${c0.seqLength}` : ''}, ${t.steps} updates. Settings used against the authors': ${e.scale} (${budgetText(e)}).`,
    '',
    experimentTable(t, e),
    '',
  ];
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
  return lines;
}

export function paperReportMarkdown(s: BenchSummary, charts: Chart[], ctx: ReportContext): string {
  const exps = s.experiments!;
  const count = (stage: number, k: 'planned' | 'finished'): number => exps.filter((e) => e.stage === stage).reduce((a, e) => a + e[k], 0);
  const b1 = budgetTable(s, 1),
    b2 = budgetTable(s, 2);
  const lines: string[] = [
    '# onward bench: paper suite',
    '',
    `Produced by \`${ctx.command}\` on ${ctx.machine}, ${ctx.date}; backend ${ctx.backend}, ${ctx.workers} worker thread${ctx.workers === 1 ? '' : 's'} ` +
      '(timings of runs that shared the machine with other jobs; the multiply-accumulate counts do not depend on it).',
    '',
    "Each seed paper's experiment compared with our own BPTT on the same network: no published table value could be read " +
      "(research/paper-settings.md), so each paper's claim, quoted from its abstract, stands next to the measured numbers. " +
      "**Stage 1** is a reduced scale of every experiment, stated next to the authors' settings with the CPU budget that set it; it is " +
      "complete on its own. **Stage 2** is the authors' settings (hundreds of CPU hours here), planned for later sessions. " +
      'The suite is resumable: rerunning the command finishes only what the results file does not hold yet.',
    '',
    `Stage 1: ${count(1, 'finished')} of ${count(1, 'planned')} runs finished. Stage 2: ${count(2, 'finished')} of ${count(2, 'planned')}.`,
    '',
    '## Results (stage 1)',
    '',
    SUMMARY_START,
    `*onward bench, paper suite, on ${ctx.machine} (${ctx.date.slice(0, 10)}): stage 1 (a reduced, stated scale) ${count(1, 'finished')} of ${count(1, 'planned')} runs finished; ` +
      "mean ± sample sd over seeds of the held-out metric and the difference of the means to the experiment's bptt row; the scale and its reason under each table.*",
    '',
    paperSummaryTable(s),
    SUMMARY_END,
    '',
    '## CPU budget',
    '',
    'Runs × the minutes one run took in a probe (two updates and one evaluation point of every row, niced, on this machine under a load average of 5–12), ' +
      'and the wall minutes the finished runs took (niced, shared machine: an upper bound on their CPU time).',
    '',
    '### Stage 1',
    '',
    b1.text,
    '',
    `Estimated: ${num(b1.hours)} CPU hours; measured so far: ${num(b1.measured)} h.`,
    '',
    '### Stage 2',
    '',
    b2.text,
    '',
    `Estimated: ${num(b2.hours)} CPU hours on one core of this machine.`,
    '',
    '## Stage 1 in detail',
    '',
  ];
  const bySection = (stage: number, only?: (e: ExperimentSummary) => boolean): void => {
    for (const paper of [...new Set(exps.map((e) => e.paper))].sort()) {
      const mine = exps
        .map((e, i) => ({ e, t: s.tasks[i]! }))
        .filter(({ e }) => e.paper === paper && e.stage === stage && (!only || only(e)));
      if (!mine.length) continue;
      const claim = s.claims?.[paper];
      lines.push(`### ${paper}: ${claim?.paper ?? ''}`, '', `Claim: ${claim?.claim ?? ''}.`, '');
      for (const { e, t } of mine) lines.push(...experimentSection(e, t).map((l) => (l.startsWith('### ') ? `#${l}` : l)));
    }
  };
  bySection(1);
  lines.push(
    "## Stage 2: the authors' settings (planned)",
    '',
    table(
      ['experiment', 'title', 'settings', 'runs finished'],
      exps.filter((e) => e.stage === 2).map((e) => [e.id, e.title, `${e.scale} (${budgetText(e)})`, `${e.finished} of ${e.planned}`]),
    ),
    '',
  );
  bySection(2, (e) => e.finished > 0);
  const why = reasons(s).filter((r) => exps.some((e) => e.stage === 1 && r.startsWith(`- ${e.id} `)));
  if (why.length) lines.push('## Stage 1: not run, and why', '', ...why, '');
  lines.push('## Charts', '', ...charts.map((c) => `- [${c.title}](${c.file})`), '');
  return lines.join('\n');
}
