/**
 * The bench charts as Vega-Lite specifications, compiled to Vega and rendered to SVG in Node with
 * vega's headless View (no browser, no canvas: text widths are estimated). One learning-curve chart per
 * task (mean over seeds, band from the lowest to the highest seed), one cost-vs-metric chart (training
 * time per step relative to inference against the final metric, one panel per task), and one alignment
 * chart (cosine of the gradient to BPTT's over training, one panel per task).
 * Every chart colours learners the same way, in the order of the learner table.
 */
import type { TopLevelSpec } from 'vega-lite';
import { ConfigError } from '../core/errors.js';
import type { BenchSummary, TaskSummary } from './summary.js';

/**
 * vega and vega-lite are optional dependencies (28 MB, and vega-lite needs Node ≥ 22): only the charts need
 * them, so they are loaded here, when the first chart is drawn, and their absence is said plainly.
 */
async function loadVega(): Promise<{
  parse: typeof import('vega').parse;
  View: typeof import('vega').View;
  compile: typeof import('vega-lite').compile;
}> {
  try {
    const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
    return { parse: vega.parse, View: vega.View, compile: vegaLite.compile };
  } catch (e) {
    throw new ConfigError(
      `onward bench draws its charts with the optional packages vega and vega-lite, which are not installed ` +
        `(${(e as Error).message.split('\n')[0]}); install them with 'npm install vega vega-lite' (vega-lite needs Node ≥ 22). ` +
        'The runs are kept in results.jsonl: rerun the same onward bench after installing and it draws the report and charts without running them again.',
    );
  }
}

export interface Chart {
  file: string;
  title: string;
  spec: TopLevelSpec;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** 20 colours that stay apart from each other (no light/dark pairs of one hue), for up to 20 learners */
const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#17becf',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#000000',
  '#f2b701',
  '#11a579',
  '#cf1c90',
  '#3969ac',
  '#80ba5a',
  '#e68310',
  '#7f3c8d',
  '#008695',
  '#a5aa99',
];

/** every chart colours a learner alike (the domain is all learners of the suite); the legend lists those present */
function colour(all: string[], present: string[]) {
  return {
    field: 'learner',
    type: 'nominal' as const,
    title: 'learner',
    sort: all,
    scale: { domain: all, range: all.map((_, i) => PALETTE[i % PALETTE.length]!) },
    legend: { values: present },
  };
}

const metricTitle = (t: TaskSummary): string => `${t.metric} (${t.higherIsBetter ? 'higher' : 'lower'} is better)`;

/** mean, lowest and highest over seeds of a per-evaluation quantity, per learner and step */
function curve(t: TaskSummary, value: (e: TaskSummary['cells'][number]['evals'][number]) => number | null) {
  const rows: { learner: string; step: number; mean: number; lo: number; hi: number }[] = [];
  for (const cell of t.cells) {
    const bySteps = new Map<number, number[]>();
    for (const e of cell.evals) {
      const v = value(e);
      if (v !== null && Number.isFinite(v)) bySteps.set(e.step, [...(bySteps.get(e.step) ?? []), v]);
    }
    for (const [step, vs] of [...bySteps.entries()].sort((a, b) => a[0] - b[0])) {
      rows.push({ learner: cell.learner, step, mean: vs.reduce((a, b) => a + b, 0) / vs.length, lo: Math.min(...vs), hi: Math.max(...vs) });
    }
  }
  return rows;
}

export function learningCurveChart(s: BenchSummary, t: TaskSummary): Chart {
  const learners = t.cells.filter((c) => c.evals.length > 0).map((c) => c.learner);
  const x = { field: 'step', type: 'quantitative' as const, title: 'training batches' };
  // errors (mse) fall over decades: a log axis shows the late progress a linear one flattens
  const y = { type: 'quantitative' as const, title: metricTitle(t), scale: t.higherIsBetter ? { zero: false } : { type: 'log' as const } };
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: {
      text: `${t.task}: learning curves`,
      subtitle: `${t.model} model, ${s.suite} suite, held-out ${t.metric}; line: mean over seeds, band: lowest to highest seed`,
    },
    width: 460,
    height: 280,
    data: { values: curve(t, (e) => e.value) },
    encoding: { x, color: colour(s.learners, learners) },
    layer: [
      // the line first: the legend takes its symbols from the first layer
      { mark: { type: 'line', point: true, strokeWidth: 2 }, encoding: { y: { field: 'mean', ...y } } },
      { mark: { type: 'area', opacity: 0.15 }, encoding: { y: { field: 'lo', ...y }, y2: { field: 'hi' } } },
    ],
  };
  return { file: `curves-${t.task}.svg`, title: `learning curves: ${t.task}`, spec };
}

export function costChart(s: BenchSummary): Chart {
  const values: { panel: string; learner: string; cost: number; metric: number }[] = [];
  for (const t of s.tasks) {
    for (const c of t.cells) {
      if (!c.final || c.usPerStep === null || !t.inferenceUsPerStep) continue;
      values.push({
        panel: `${t.task} (${t.model}): ${t.metric} ${t.higherIsBetter ? '↑' : '↓'}`,
        learner: c.learner,
        cost: c.usPerStep / t.inferenceUsPerStep,
        metric: c.final.mean,
      });
    }
  }
  const learners = s.learners.filter((l) => values.some((v) => v.learner === l));
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: {
      text: 'cost against result',
      subtitle: `${s.suite} suite: training time per step ÷ inference time per step (log scale) against the final metric, mean over seeds`,
    },
    data: { values },
    facet: { field: 'panel', type: 'nominal', title: null },
    columns: 3,
    spec: {
      width: 240,
      height: 180,
      layer: [
        { mark: { type: 'point', filled: true, size: 80 } },
        { mark: { type: 'text', align: 'left', dx: 6, fontSize: 9 }, encoding: { text: { field: 'learner' } } },
      ],
      encoding: {
        x: { field: 'cost', type: 'quantitative', scale: { type: 'log' }, title: 'time per step ÷ inference' },
        y: { field: 'metric', type: 'quantitative', scale: { zero: false }, title: 'final metric' },
        color: colour(s.learners, learners),
      },
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  };
  return { file: 'cost-vs-metric.svg', title: 'cost against result', spec };
}

export function alignmentChart(s: BenchSummary): Chart {
  const values: (ReturnType<typeof curve>[number] & { panel: string })[] = [];
  for (const t of s.tasks) {
    for (const row of curve(t, (e) => e.cosine.all ?? null)) values.push({ ...row, panel: `${t.task} (${t.model})` });
  }
  const learners = s.learners.filter((l) => values.some((v) => v.learner === l));
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    title: {
      text: 'alignment with BPTT',
      subtitle: `${s.suite} suite: cosine between each learner's gradient and BPTT's on a fixed batch, mean over seeds`,
    },
    data: { values },
    facet: { field: 'panel', type: 'nominal', title: null },
    columns: 3,
    spec: {
      width: 240,
      height: 180,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'training batches' },
        y: { field: 'mean', type: 'quantitative', scale: { domain: [-1, 1] }, title: 'cosine to BPTT (all parameters)' },
        color: colour(s.learners, learners),
      },
    },
    resolve: { scale: { x: 'independent' } },
  };
  return { file: 'alignment.svg', title: 'alignment with BPTT', spec };
}

export function benchCharts(s: BenchSummary): Chart[] {
  const withData = s.tasks.filter((t) => t.cells.some((c) => c.evals.length > 0));
  return [...withData.map((t) => learningCurveChart(s, t)), costChart(s), alignmentChart(s)];
}

/** render a Vega-Lite chart to an SVG document */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { parse, View, compile } = await loadVega();
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
