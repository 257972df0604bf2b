/**
 * The `paper` suite's experiments: each seed paper's comparison at the authors' settings
 * (research/paper-settings.md), with the claim it is measured against.
 *
 * An experiment is a task at its `paper` preset (the task's defaults for that preset, then the experiment's
 * overrides), a list of rows (a learner from the learner table with the row's overrides) and a list of seeds.
 * Every experiment comes in stages: stage 1 is a reduced scale, stated, whose whole comparison (every row,
 * every seed) costs minutes to an hour on one core; stage 2 is the authors' own settings (hours to days).
 * The plan runs stage 1 of every paper before any stage 2, and inside a stage the first seed of every
 * experiment before the second: the cheapest complete comparison of each paper comes first.
 *
 * `minutesPerRun` is the cost measured for one run of the experiment (a few updates of each row, niced, on
 * the 2-core machine shared with other jobs, under load): the report multiplies it out into the CPU budget
 * of each part and puts the measured minutes next to it once runs finish.
 */

export interface PaperRow {
  /** the row's name in the report, e.g. 'osttp + pcm' */
  name: string;
  learner: string;
  /** config overrides of this row, on top of the experiment's */
  set?: Record<string, unknown>;
  /**
   * parameter-name prefixes held at their initial values (restored after every update): the frozen-lower-
   * layer control of deep e-prop (if a network learned as well without training its lower layer, credit
   * across depth would not matter on the task)
   */
  freeze?: string[];
  /** the row's own seeds (a subset of the experiment's), where a reference row needs fewer */
  seeds?: number[];
}

export interface PaperExperiment {
  /** unique name, e.g. '000-copy-lru' */
  id: string;
  /** the seed paper: '000' … '004' */
  paper: string;
  title: string;
  task: string;
  stage: 1 | 2;
  /** config overrides on top of the task's paper-preset defaults (task settings as `task.NAME`) */
  set: Record<string, unknown>;
  rows: PaperRow[];
  seeds: number[];
  /** the row the others are compared with (a bptt row) */
  reference: string;
  /** the settings used against the authors', said next to the numbers */
  scale: string;
  /** measured cost of one run, minutes (see the file comment) */
  minutesPerRun: number;
  /**
   * 'best-loss': report the metric at the evaluation point of the lowest held-out loss (the online-LRU paper
   * reports test accuracy at the epoch of best validation loss); 'final': after the last update
   */
  pick: 'final' | 'best-loss';
  /**
   * learning-rate grid: every row is first trained with each of these rates on the first seed; the other seeds
   * then use the rate whose run reached the lowest held-out loss (planned once the row's scan has finished)
   */
  lrGrid?: number[];
  /** evaluation points after step 0 (default: the suite's); fewer keep a short run's evaluations cheap */
  evalPoints?: number;
}

/** each seed paper's claim, quoted from its abstract (research/paper-settings.md); no table value is quoted */
export const paperClaims: Record<string, { paper: string; claim: string }> = {
  '000': {
    paper: 'Zucchet et al., Online learning of long-range dependencies (NeurIPS 2023)',
    claim:
      'the rule "merely doubles the memory and computational requirements of a single inference pass" and "performs competitively" on synthetic memory problems',
  },
  '001': {
    paper: 'Ortner et al., OSTTP (AICAS 2023)',
    claim:
      'evaluated on "two temporal tasks", "competitive performance compared to BPTT", with a proof of concept on memristive hardware (the tasks are not named in any readable source: spike patterns and row-wise Fashion-MNIST are our choice)',
  },
  '002': {
    paper: 'Subramoney, sparse exact RTRL on EGRU (2023)',
    claim: 'combining activity and parameter sparsity makes exact RTRL practical, "with no approximation of the learning process"',
  },
  '003': {
    paper: 'Millidge, deep e-prop (2025)',
    claim:
      'a mathematical note without experiments: the experiments here are ours (deep e-prop carries traces across layers and should beat layer-local e-prop where lower layers must learn)',
  },
  '004': {
    paper: 'García Fernández, Keemink, van Gerven, perturbation learning in time (2024)',
    claim:
      'TANP shows "similar performance, convergence time and scalability when compared to BPTT, strongly outperforming standard node perturbation and weight perturbation"',
  },
};

const perturbationRows = (online: boolean): PaperRow[] => {
  const every = online ? { updateEvery: 1 } : { updateEvery: 0 };
  const rows: PaperRow[] = [
    { name: 'bptt', learner: 'bptt', set: { updateEvery: 0 } },
    ...(online ? [{ name: 'bptt-detached', learner: 'bptt-detached', set: { ...every } }] : []),
  ];
  for (const l of ['tanp', 'anp', 'np', 'wp']) {
    rows.push(
      { name: l, learner: l, set: { ...every, decorrelate: false } },
      { name: `${l} + decor`, learner: l, set: { ...every, decorrelate: true } },
    );
  }
  return rows;
};

const osttpRows = (pcm: boolean): PaperRow[] =>
  ['bptt', 'ostl', 'osttp'].flatMap((l) => [
    { name: l, learner: l, set: { device: 'none' } },
    ...(pcm ? [{ name: `${l} + pcm`, learner: l, set: { device: 'pcm' } }] : []),
  ]);

const lruRows: PaperRow[] = ['bptt', 'online-lru', 'truncated1', 'spatial'].map((l) => ({ name: l, learner: l }));

/**
 * Dense rtrl is the baseline of the wall-time and op savings; sparse-rtrl is exact, so its numbers are rtrl's.
 * `rtrlSeeds` limits the dense rows' seeds where they cost most of the experiment's budget.
 */
const spiralRows = (densities: number[], rtrlAt: number[], rtrlSeeds?: number[]): PaperRow[] => [
  { name: 'bptt', learner: 'bptt' },
  ...densities.map((d) => ({ name: `sparse-rtrl, P(0) ${(1 - d).toFixed(1)}`, learner: 'sparse-rtrl', set: { density: d } })),
  ...rtrlAt.map((d) => ({
    name: `rtrl, P(0) ${(1 - d).toFixed(1)}`,
    learner: 'rtrl',
    set: { density: d },
    ...(rtrlSeeds ? { seeds: rtrlSeeds } : {}),
  })),
];

const cueRows = (layers: number): PaperRow[] => [
  { name: 'bptt', learner: 'bptt', set: { layers } },
  { name: 'eprop', learner: 'eprop', set: { layers } },
  { name: 'deep-eprop', learner: 'deep-eprop', set: { layers } },
  // every layer below the top one frozen: the readout-side layer alone learning
  {
    name: 'bptt, lower layers frozen',
    learner: 'bptt',
    set: { layers },
    freeze: Array.from({ length: layers - 1 }, (_, l) => `layers.${l}.`),
  },
];

/** the seq-image paper preset shown row by row (28 pixels per step, T = 28) to a spiking network */
const fashionRows = {
  'task.pixels': 28,
  'task.readout': 7,
  hidden: 128,
  layers: 2,
  batch: 32,
  lr: 3e-3,
  dampening: 1,
  width: 1,
  recurrent: 'off',
  targetTiming: 'every-step',
  schedule: 'constant',
  warmup: 0,
};

/**
 * The cue-accumulation paper preset at 10 ms per step instead of 1 ms: the same durations (cues 100 ms, gaps
 * 50 ms, delay 1,000 ms, recall 150 ms) and rates (40 Hz cues, 10 Hz noise), T = 220 instead of 2,200. At
 * 1 ms steps deep e-prop costs about a minute per update of batch 8 on 2 × 100 units (its cross-layer traces
 * are O(n·p) per step), weeks per run here.
 */
const cue10ms = {
  'task.cueSteps': 10,
  'task.gapSteps': 5,
  'task.delay': 100,
  'task.recallSteps': 15,
  'task.cueRate': 40,
  'task.noiseRate': 10,
};
/**
 * Stage 1 of the spike task: the paper preset's task (100 channels, 10 classes, T = 100, spike charge 16) on
 * 2 × 64 units for 100 updates of batch 16 at lr 1e-2.
 */
const spikes1 = { hidden: 64, batch: 16, steps: 100, lr: 1e-2, evalBatches: 4 };
const spikes1Scale =
  "100 of the preset's 2,000 updates, batch 16 (the preset: 32), 2 × 64 units (the preset: 128), lr 1e-2 (the preset: 3e-3, too slow for 100 updates); otherwise the preset (no recurrent synapses, spike charge 16: see src/tasks/spikes.ts)";

const cue1 = { ...cue10ms, hidden: 16, batch: 8, steps: 100, lr: 1e-2 };
const cueScale =
  'the paper preset at 10 ms instead of 1 ms per step (same durations and rates, T = 220 instead of 2,200: deep-eprop at 1 ms steps costs about 1 min per update of batch 8 on 2 × 100 units, measured)';

const seeds3 = [0, 1, 2];

/**
 * Stage 1 of the copy experiments: the paper preset's task (T = 48), schedule and dropout on a narrower,
 * shorter run, one lr from the paper's grid for every rule.
 */
const copy1 = { hidden: 32, stateSize: 16, batch: 16, steps: 150, lr: 4e-3, evalBatches: 2 };
const copy1Steps =
  "150 updates of batch 16 (the paper: 10,000 of batch 50), one lr (4e-3, from the paper's grid) for every rule instead of each rule's best, cosine schedule; a held-out set of 2 × 16 samples serves as validation and test";
const copy1Scale = `d_model 32, d_hidden 16 (the paper: 128/64), 4 layers, GLU, dropout 0.1; ${copy1Steps}; one Adam lr for all parameters (no recurrent lr factor 0.5)`;

const depthRows: PaperRow[] = [1, 2, 3, 4, 5].flatMap((d) => [
  { name: `online-lru, ${d} layer${d > 1 ? 's' : ''}`, learner: 'online-lru', set: { layers: d } },
  { name: `bptt, ${d} layer${d > 1 ? 's' : ''}`, learner: 'bptt', set: { layers: d } },
]);

const gruRows: PaperRow[] = [
  { name: 'bptt', learner: 'bptt' },
  { name: 'spatial (state detached every step)', learner: 'bptt-detached' },
  { name: 'snap1', learner: 'snap1' },
  { name: 'eprop (diagonal traces, our nearest to 1-step truncation)', learner: 'eprop' },
];
const gruNotes =
  "the paper's 1-step-truncated RTRL is not a learner here (eprop's diagonal traces stand nearest); the linear-RNN rows are not run: no linear RNN model exists here";
const lrGrid = [1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2, 3.2e-2];

export const paperExperiments: readonly PaperExperiment[] = [
  // ---------------------------------------------------------------- stage 1: reduced scale, every paper
  {
    id: '001-spikes-lif',
    paper: '001',
    stage: 1,
    title: 'spike patterns (paper preset), LIF, no recurrent synapses, ± pcm',
    task: 'spikes',
    set: { ...spikes1, model: 'lif' },
    rows: osttpRows(true),
    seeds: [0, 1],
    reference: 'bptt',
    pick: 'final',
    evalPoints: 5,
    minutesPerRun: 0.3,
    scale: spikes1Scale,
  },
  {
    id: '001-spikes-snu',
    paper: '001',
    stage: 1,
    title: "spike patterns (paper preset), SNU (the paper's unit), no recurrent synapses, ± pcm",
    task: 'spikes',
    set: { ...spikes1, model: 'snu' },
    rows: osttpRows(true),
    seeds: [0, 1],
    reference: 'bptt',
    pick: 'final',
    evalPoints: 5,
    minutesPerRun: 0.3,
    scale: 'as 001-spikes-lif with the SNU',
  },
  {
    id: '004-mackey-glass',
    paper: '004',
    stage: 1,
    title: 'Mackey-Glass, one tanh layer, fully online',
    task: 'mackey-glass',
    set: { hidden: 50, 'task.length': 1000, steps: 20, evalBatches: 1 },
    rows: perturbationRows(true),
    seeds: [42, 101, 300],
    reference: 'bptt',
    pick: 'final',
    evalPoints: 2,
    minutesPerRun: 0.5,
    scale:
      "50 instead of 500 tanh units, a 1,000-step series instead of 5,000, 20 of the authors' 500 epochs (bptt: 20 updates, once per epoch, as theirs), 3 of their 5 seeds; otherwise their settings (batch 1, Adam 1e-3, noise 1e-3, decorrelation lr 1e-4, target 15 steps behind, update every step; bptt updates once per epoch)",
  },
  {
    id: '004-token-copy',
    paper: '004',
    stage: 1,
    title: 'copy, one 210-step sequence to memorise, 500 tanh units',
    task: 'token-copy',
    set: { hidden: 50, steps: 60, evalBatches: 1 },
    rows: perturbationRows(false),
    seeds: [42, 101, 300],
    reference: 'bptt',
    pick: 'final',
    evalPoints: 2,
    minutesPerRun: 0.5,
    scale:
      "50 instead of 500 tanh units, 60 of the 500 epochs, 3 of the 5 seeds; otherwise the authors' settings (100 tokens, 10 blanks, one fixed sequence, per-sequence updates, Adam 1e-3)",
  },
  {
    id: '000-copy-lru',
    paper: '000',
    stage: 1,
    title: "copy (T = 48), LRU 4 layers with GLU, Table 1's LRU rows",
    task: 'copy',
    set: copy1,
    rows: lruRows,
    seeds: [201, 202, 203],
    reference: 'bptt',
    pick: 'best-loss',
    evalPoints: 5,
    minutesPerRun: 0.65,
    scale: copy1Scale,
  },
  {
    id: '000-copy-depth',
    paper: '000',
    stage: 1,
    title: 'copy, online LRU against bptt at depth 1–5 (Fig. 2 A/B)',
    task: 'copy',
    set: copy1,
    rows: depthRows,
    seeds: [201, 202, 203],
    reference: 'bptt, 4 layers',
    pick: 'best-loss',
    evalPoints: 5,
    minutesPerRun: 0.55,
    scale: `${copy1Scale}; Fig. 2 A/B at the same lr as Table 1's rows here (the paper: 1e-3), 3 of its 10 seeds; the 4-layer rows are 000-copy-lru's runs`,
  },
  {
    id: '000-copy-gru',
    paper: '000',
    stage: 1,
    title: "copy (T = 48), GRU 4 layers (Table 1's GRU rows)",
    task: 'copy',
    set: { ...copy1, model: 'gru', hidden: 16, stateSize: 0, dropout: 0 },
    rows: gruRows,
    seeds: [201, 202, 203],
    reference: 'bptt',
    pick: 'best-loss',
    evalPoints: 5,
    minutesPerRun: 0.45,
    scale: `4 × 16 GRU units (the paper: 4 × 91), no dropout (our GRU stack has no GLU blocks); ${copy1Steps}; ${gruNotes}`,
  },
  {
    id: '003-cue-2',
    paper: '003',
    stage: 1,
    title: 'cue accumulation at 10 ms steps (T = 220), 2 leaky layers',
    task: 'cue-accumulation',
    set: cue1,
    rows: cueRows(2),
    seeds: [0, 1, 2],
    reference: 'bptt',
    pick: 'final',
    evalPoints: 5,
    minutesPerRun: 0.5,
    scale: cueScale + '; 2 × 16 leaky units (the preset: 100), 100 updates of batch 8 (the preset: 2,000 of 64), lr 1e-2',
  },
  {
    id: '003-cue-3',
    paper: '003',
    stage: 1,
    title: 'cue accumulation at 10 ms steps (T = 220), 3 leaky layers',
    task: 'cue-accumulation',
    set: cue1,
    rows: cueRows(3),
    seeds: [0, 1, 2],
    reference: 'bptt',
    pick: 'final',
    evalPoints: 5,
    minutesPerRun: 0.9,
    scale: 'as 003-cue-2 with 3 layers',
  },
  {
    id: '002-spiral',
    paper: '002',
    stage: 1,
    title: 'spiral, EGRU 16, sparse exact RTRL against dense RTRL',
    task: 'spiral',
    set: { steps: 600 },
    rows: spiralRows([1, 0.5, 0.1], [1, 0.1], [0]),
    seeds: [0, 1],
    reference: 'bptt',
    pick: 'final',
    minutesPerRun: 1.4,
    scale:
      "600 of the 1,700 updates; weight_hh sparsity P(0) ∈ {0, 0.5, 0.9} of {0, 0.1, …, 0.9}; 2 of 5 seeds (dense rtrl, the savings baseline, on the first only: it cost 60 % of the experiment, and sparse-rtrl's numbers equal it); EGRU leak fixed by our unit (the authors' α 0.001 is not a setting here); otherwise the authors' settings (16 units, batch 32, Adam 3e-3, dampening 0.7, width 1)",
  },
  {
    id: '001-fashion-lif',
    paper: '001',
    stage: 1,
    title: "row-wise Fashion-MNIST (Debian's files), LIF, no recurrent synapses, ± pcm",
    task: 'seq-image',
    set: { ...fashionRows, model: 'lif', steps: 200 },
    rows: osttpRows(true),
    seeds: [0, 1],
    reference: 'bptt',
    pick: 'final',
    evalPoints: 10,
    minutesPerRun: 1.5,
    scale:
      '200 updates of batch 32 (the preset: 10,000 of 100; here about a ninth of one epoch of the 60,000 images); 28 rows of 28 pixels, scored on the last 7 rows, 2 × 128 units',
  },
  {
    id: '001-fashion-snu',
    paper: '001',
    stage: 1,
    title: "row-wise Fashion-MNIST (Debian's files), SNU (the paper's unit), no recurrent synapses, ± pcm",
    task: 'seq-image',
    set: { ...fashionRows, model: 'snu', steps: 200 },
    rows: osttpRows(true),
    seeds: [0, 1],
    reference: 'bptt',
    pick: 'final',
    evalPoints: 10,
    minutesPerRun: 1.5,
    scale: 'as 001-fashion-lif with the SNU',
  },
  // ---------------------------------------------------------------- stage 2: the authors' settings
  {
    id: '002-spiral-full',
    paper: '002',
    stage: 2,
    title: "spiral, EGRU 16, weight_hh sparsity sweep at the authors' settings",
    task: 'spiral',
    set: {},
    rows: spiralRows([1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1], [1, 0.5, 0.1]),
    seeds: [0, 1, 2, 3, 4],
    reference: 'bptt',
    pick: 'final',
    minutesPerRun: 5,
    scale:
      "the authors' settings (1,700 updates, batch 32, Adam 3e-3, P(0) ∈ {0, 0.1, …, 0.9} × 5 seeds), dense rtrl at P(0) 0, 0.5, 0.9 for the savings; EGRU leak as our unit has it",
  },
  {
    id: '001-spikes-lif-full',
    paper: '001',
    stage: 2,
    title: 'spike patterns (paper preset), LIF, ± pcm',
    task: 'spikes',
    set: { model: 'lif' },
    rows: osttpRows(true),
    seeds: seeds3,
    reference: 'bptt',
    pick: 'final',
    minutesPerRun: 25,
    scale: "the preset's full 2,000 updates, ± the pcm device, 3 seeds",
  },
  {
    id: '001-spikes-snu-full',
    paper: '001',
    stage: 2,
    title: 'spike patterns (paper preset), SNU, ± pcm',
    task: 'spikes',
    set: { model: 'snu' },
    rows: osttpRows(true),
    seeds: seeds3,
    reference: 'bptt',
    pick: 'final',
    minutesPerRun: 20,
    scale: "the preset's full 2,000 updates, ± the pcm device, 3 seeds",
  },
  {
    id: '001-fashion-lif-full',
    paper: '001',
    stage: 2,
    title: 'row-wise Fashion-MNIST, LIF, ± pcm',
    task: 'seq-image',
    set: { ...fashionRows, model: 'lif', steps: 4000 },
    rows: osttpRows(true),
    seeds: seeds3,
    reference: 'bptt',
    pick: 'final',
    minutesPerRun: 10,
    scale: '4,000 updates of batch 32 (about 2 epochs of the 60,000 training images), ± the pcm device, 3 seeds',
  },
  {
    id: '001-fashion-snu-full',
    paper: '001',
    stage: 2,
    title: 'row-wise Fashion-MNIST, SNU, ± pcm',
    task: 'seq-image',
    set: { ...fashionRows, model: 'snu', steps: 4000 },
    rows: osttpRows(true),
    seeds: seeds3,
    reference: 'bptt',
    pick: 'final',
    minutesPerRun: 8,
    scale: 'as 001-fashion-lif-full with the SNU',
  },
  {
    id: '004-mackey-glass-full',
    paper: '004',
    stage: 2,
    title: "Mackey-Glass at the authors' settings",
    task: 'mackey-glass',
    set: {},
    rows: perturbationRows(true),
    seeds: [42, 101, 300, 482, 708],
    reference: 'bptt',
    pick: 'final',
    minutesPerRun: 20,
    scale: "the authors' settings: 500 epochs, 5 seeds",
  },
  {
    id: '004-token-copy-full',
    paper: '004',
    stage: 2,
    title: "the 210-step copy at the authors' settings",
    task: 'token-copy',
    set: {},
    rows: perturbationRows(false),
    seeds: [42, 101, 300, 482, 708],
    reference: 'bptt',
    pick: 'final',
    minutesPerRun: 5,
    scale: "the authors' settings: 500 epochs, 5 seeds",
  },
  {
    id: '003-cue-2-full',
    paper: '003',
    stage: 2,
    title: "cue accumulation at 10 ms steps, the preset's network, 2 layers",
    task: 'cue-accumulation',
    set: { ...cue10ms, steps: 1000 },
    rows: cueRows(2),
    seeds: seeds3,
    reference: 'bptt',
    pick: 'final',
    minutesPerRun: 600,
    scale: cueScale + "; the preset's 2 × 100 leaky units and batch 64, 1,000 of its 2,000 updates, lr 5e-3",
  },
  {
    id: '003-cue-3-full',
    paper: '003',
    stage: 2,
    title: "cue accumulation at 10 ms steps, the preset's network, 3 layers",
    task: 'cue-accumulation',
    set: { ...cue10ms, steps: 1000 },
    rows: cueRows(3),
    seeds: seeds3,
    reference: 'bptt',
    pick: 'final',
    minutesPerRun: 900,
    scale: 'as 003-cue-2-full with 3 layers',
  },
  {
    id: '000-copy-lru-full',
    paper: '000',
    stage: 2,
    title: "copy, LRU 4 × 128/64, Table 1's LRU rows at the authors' settings",
    task: 'copy',
    set: { evalBatches: 20 },
    rows: lruRows,
    seeds: [201, 202, 203],
    reference: 'bptt',
    pick: 'best-loss',
    minutesPerRun: 150,
    lrGrid,
    scale:
      "the authors' settings (10,000 updates of batch 50, cosine, dropout 0.1, lr from their grid on seed 201, then seeds 201–203; 1,000 held-out samples serve as validation and test); one Adam lr for all parameters (no recurrent lr factor 0.5)",
  },
  {
    id: '000-copy-depth-full',
    paper: '000',
    stage: 2,
    title: 'copy, online LRU, depth 1–5 (Fig. 2 A/B)',
    task: 'copy',
    set: { evalBatches: 20, lr: 1e-3 },
    rows: depthRows,
    seeds: [201, 202, 203],
    reference: 'bptt, 4 layers',
    pick: 'best-loss',
    minutesPerRun: 120,
    scale: 'Fig. 2 A/B at lr 1e-3, 3 of the 10 seeds, with bptt at each depth as our reference',
  },
  {
    id: '000-copy-gru-full',
    paper: '000',
    stage: 2,
    title: "copy, GRU 4 × 91 (Table 1's GRU rows)",
    task: 'copy',
    set: { model: 'gru', hidden: 91, layers: 4, stateSize: 0, dropout: 0, evalBatches: 20 },
    rows: gruRows,
    seeds: [201, 202, 203],
    reference: 'bptt',
    pick: 'best-loss',
    minutesPerRun: 200,
    scale:
      "the copy task at the authors' settings on a plain GRU stack of 4 × 91 (no dropout, our stack has no GLU blocks); lr 1e-3; " +
      gruNotes,
  },
];
