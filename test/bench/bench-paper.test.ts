/**
 * The paper suite of `onward bench` (bench/paper.ts): planned from the tasks' paper presets and the learner
 * table with each experiment's overrides; stage 1 of every paper before stage 2, the first seed of every
 * experiment before the second; a learning-rate scan plans the other seeds at the best rate only once it has
 * finished; the frozen control has its own config id; the summary picks the metric at the lowest held-out
 * loss where the experiment says so, and the report puts the claims and the difference to bptt next to it.
 * Planning and summarising only: nothing is trained here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, UnknownNameError } from '../../src/core/errors.js';
import { paperClaims, paperExperiments } from '../../src/bench/paper.js';
import { planBench } from '../../src/bench/plan.js';
import type { EvalRecord, RunKey } from '../../src/bench/records.js';
import { paperSummaryTable } from '../../src/bench/paper-report.js';
import { reportMarkdown } from '../../src/bench/report.js';
import { summarize } from '../../src/bench/summary.js';
import { defaultConfig } from '../../src/train/config.js';

test("every experiment names a known task, learners of the table and its paper's claim", () => {
  const plan = planBench({ suite: 'paper' });
  assert.deepEqual(plan.taskProblems, []);
  assert.deepEqual(plan.notApplicable, []);
  for (const e of paperExperiments) {
    assert.ok(paperClaims[e.paper], `${e.id}: a claim for paper ${e.paper}`);
    assert.ok(
      e.rows.some((r) => r.name === e.reference),
      `${e.id}: its reference row exists`,
    );
    assert.ok(e.scale.length > 0, `${e.id}: says its scale`);
  }
});

test("runs take the paper preset with the experiment's and the row's overrides", () => {
  const plan = planBench({ suite: 'paper', experiments: ['001-spikes-snu'] });
  const base = defaultConfig('spikes', 'paper');
  assert.equal(plan.runs.length, 6 * 2, 'six rows × two seeds');
  for (const r of plan.runs) {
    assert.equal(r.config.task.preset, 'paper');
    assert.equal(r.config.model.name, 'snu');
    assert.equal(r.config.model.hidden, 64, 'the experiment overrides the preset (128)');
    assert.equal(r.config.model.layers, base.model.layers);
    assert.equal(r.steps, 100);
    assert.equal(r.config.train.batch, 16);
    assert.equal(r.config.eval.every, 20, 'the experiment asks for 5 evaluation points');
    assert.equal(r.experiment, '001-spikes-snu');
    assert.equal(r.config.device.name, r.row!.endsWith('+ pcm') ? 'pcm' : 'none');
  }
  assert.deepEqual([...new Set(plan.runs.map((r) => r.row))], ['bptt', 'bptt + pcm', 'ostl', 'ostl + pcm', 'osttp', 'osttp + pcm']);
  assert.throws(() => planBench({ suite: 'paper', experiments: ['nope'] }), UnknownNameError);
  assert.throws(() => planBench({ suite: 'paper', tasks: ['copy'] }), ConfigError);
});

test('stage 1 of every paper first, and inside a stage the first seed of every experiment first', () => {
  const runs = planBench({ suite: 'paper' }).runs;
  const firstStage2 = runs.findIndex((r) => r.stage === 2);
  assert.ok(
    runs.slice(firstStage2).every((r) => r.stage === 2),
    'no stage-1 run after the first stage-2 run',
  );
  const stage1 = runs.slice(0, firstStage2);
  const papers = new Set(paperExperiments.filter((e) => e.stage === 1).map((e) => e.paper));
  const firstSeed = (r: (typeof runs)[number]): boolean => paperExperiments.find((e) => e.id === r.experiment)!.seeds[0] === r.seed;
  const lastFirst = stage1.map(firstSeed).lastIndexOf(true),
    firstOther = stage1.findIndex((r) => !firstSeed(r));
  assert.ok(lastFirst < firstOther, 'every first-seed run of stage 1 comes before any second seed');
  assert.deepEqual(new Set(stage1.slice(0, lastFirst + 1).map((r) => paperExperiments.find((e) => e.id === r.experiment)!.paper)), papers);
});

test('the frozen-lower-layer control is a run of its own (config id) and names its layers', () => {
  const runs = planBench({ suite: 'paper', experiments: ['003-cue-3'], seeds: 1 }).runs;
  const frozen = runs.find((r) => r.freeze)!,
    bptt = runs.find((r) => r.row === 'bptt')!;
  assert.deepEqual(frozen.freeze, ['layers.0.', 'layers.1.']);
  assert.equal(JSON.stringify(frozen.config), JSON.stringify(bptt.config));
  assert.notEqual(frozen.configId, bptt.configId);
});

function evalRecord(key: RunKey, step: number, value: number, loss: number, final: boolean): EvalRecord {
  return {
    kind: 'eval',
    ...key,
    final,
    step,
    metric: 'bit_accuracy',
    value,
    loss,
    cosine: { all: 1 },
    usPerStep: 1,
    macsPerStep: 1,
    stateBytes: 1,
    inferenceUsPerStep: 1,
    inferenceMacsPerStep: 1,
    paramBytes: 8,
    batch: 50,
    seqLength: 48,
    diverged: false,
    seconds: 60,
  };
}

const keyOf = (r: RunKey): RunKey => ({
  suite: r.suite,
  task: r.task,
  model: r.model,
  learner: r.learner,
  seed: r.seed,
  steps: r.steps,
  configId: r.configId,
});

test('a learning-rate scan plans the other seeds at the best rate once it has finished; the report picks the metric at the best loss', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onward-paper-'));
  const opts = { suite: 'paper', experiments: ['000-copy-lru-full'], learners: ['bptt'], out: dir };
  const first = planBench(opts);
  assert.equal(first.runs.length, 6, 'the scan: six rates on the first seed');
  assert.ok(first.runs.every((r) => r.scan && r.seed === 201));
  assert.equal(first.waiting!.length, 1);
  // the scan's results: rate 4e-3 reaches the lowest loss (at its middle evaluation, where the metric is 0.9)
  const records: EvalRecord[] = first.runs.flatMap((r) => {
    const best = r.config.optimizer.lr === 4e-3;
    return [
      evalRecord(keyOf(r), 0, 0.5, 0.7, false),
      evalRecord(keyOf(r), 5000, best ? 0.9 : 0.6, best ? 0.1 : 0.5, false),
      evalRecord(keyOf(r), 10000, best ? 0.8 : 0.6, 0.6, true),
    ];
  });
  writeFileSync(join(dir, 'results.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const second = planBench(opts);
  const others = second.runs.filter((r) => !r.scan);
  assert.deepEqual(
    others.map((r) => [r.seed, r.config.optimizer.lr]),
    [
      [202, 4e-3],
      [203, 4e-3],
    ],
  );
  assert.equal(second.waiting!.length, 0);
  const summary = summarize(second, records);
  const cell = summary.tasks[0]!.cells.find((c) => c.learner === 'bptt')!;
  assert.equal(cell.planned, 3, 'the row counts the scan run at the best rate and the two other seeds');
  assert.equal(cell.seeds, 1);
  assert.equal(cell.atBestLoss!.mean, 0.9);
  assert.equal(cell.final!.mean, 0.8);
  assert.equal(summary.experiments![0]!.scans[0]!.best, 4e-3);
  const md = reportMarkdown(summary, [], {
    command: 'onward bench --suite paper',
    machine: 'test machine',
    date: '2026-01-01 00:00 UTC',
    backend: 'wasm/float32',
    workers: 1,
  });
  assert.match(md, /Claim: the rule "merely doubles/);
  assert.match(md, /Settings used against the authors'/);
  assert.match(md, /CPU budget/);
  assert.match(paperSummaryTable(summary), /\| 000-copy-lru-full \| bptt \| 0\.900 \| ref\. \| 1\/3 \|/);
});

test('stage 1 holds every experiment of the issue, each a complete comparison of at least two seeds', () => {
  const stage1 = paperExperiments.filter((e) => e.stage === 1);
  const rows = (id: string): string[] => stage1.find((e) => e.id === id)?.rows.map((r) => r.name) ?? [];
  assert.deepEqual(rows('000-copy-lru'), ['bptt', 'online-lru', 'truncated1', 'spatial']);
  assert.deepEqual(
    rows('000-copy-depth').filter((r) => r.startsWith('online-lru')),
    [1, 2, 3, 4, 5].map((d) => `online-lru, ${d} layer${d > 1 ? 's' : ''}`),
  );
  assert.ok(rows('000-copy-gru').includes('snap1'));
  assert.ok(rows('002-spiral').filter((r) => r.startsWith('sparse-rtrl')).length >= 3, 'a sparsity sweep');
  for (const id of ['004-mackey-glass', '004-token-copy'])
    for (const l of ['bptt', 'tanp', 'tanp + decor', 'anp', 'np', 'wp', 'wp + decor']) assert.ok(rows(id).includes(l), `${id}: ${l}`);
  for (const task of ['spikes', 'fashion'])
    for (const unit of ['snu', 'lif'])
      assert.deepEqual(rows(`001-${task}-${unit}`), ['bptt', 'bptt + pcm', 'ostl', 'ostl + pcm', 'osttp', 'osttp + pcm']);
  for (const layers of [2, 3]) assert.deepEqual(rows(`003-cue-${layers}`), ['bptt', 'eprop', 'deep-eprop', 'bptt, lower layers frozen']);
  for (const e of stage1) {
    assert.ok(e.seeds.length >= 2, `${e.id}: at least two seeds`);
    assert.equal(e.lrGrid, undefined, `${e.id}: no learning-rate scan holds seeds back in stage 1`);
    assert.ok(e.minutesPerRun > 0);
  }
  const plan = planBench({ suite: 'paper', stage: 1 });
  assert.deepEqual(plan.waiting, []);
  assert.ok(plan.runs.every((r) => r.stage === 1));
  // the stage-2 experiments stay in the plan for later sessions
  assert.ok(paperExperiments.some((e) => e.stage === 2 && e.id === '000-copy-lru-full'));
});

test('a run two experiments share (the 4-layer copy rows of Table 1 and of the depth sweep) is one run', () => {
  const runs = planBench({ suite: 'paper', stage: 1, experiments: ['000-copy-lru', '000-copy-depth'] }).runs;
  const key = (r: (typeof runs)[number]): string => JSON.stringify(keyOf(r));
  const lru = runs.filter((r) => r.experiment === '000-copy-lru' && ['bptt', 'online-lru'].includes(r.row!));
  const depth = runs.filter((r) => r.experiment === '000-copy-depth' && r.row!.endsWith(', 4 layers'));
  assert.deepEqual(lru.map(key).sort(), depth.map(key).sort());
  assert.ok(runs.filter((r) => r.row!.endsWith(', 1 layer')).every((r) => r.config.model.layers === 1));
});

test('the report renders every stage-1 experiment: the claims, mean ± sd over seeds, each seed, Δ to bptt, the scale and its budget', () => {
  const plan = planBench({ suite: 'paper' });
  // every stage-1 run finished, the reference row at 0.5 and every other row at 0.5 + 0.1 · seed index
  const records: EvalRecord[] = plan.runs
    .filter((r) => r.stage === 1)
    .flatMap((r) => {
      const e = paperExperiments.find((x) => x.id === r.experiment)!;
      const v = (r.row === e.reference ? 0.5 : 0.6) + 0.1 * e.seeds.indexOf(r.seed);
      return [evalRecord(keyOf(r), 0, 0.1, 2, false), evalRecord(keyOf(r), r.steps, v, 1, true)];
    });
  const summary = summarize(plan, records);
  const md = reportMarkdown(summary, [], {
    command: 'onward bench --suite paper',
    machine: 'test machine',
    date: '2026-01-01 00:00 UTC',
    backend: 'wasm/float32',
    workers: 1,
  });
  const block = paperSummaryTable(summary);
  for (const p of Object.values(paperClaims)) assert.ok(block.includes(p.claim), `the claim of ${p.paper}`);
  for (const e of paperExperiments.filter((x) => x.stage === 1)) {
    assert.ok(block.includes(`| ${e.id} | ${e.rows[0]!.name} |`), `${e.id} in the summary`);
    assert.ok(
      block.includes(`${e.scale} (CPU budget: ${plan.runs.filter((r) => r.experiment === e.id).length} runs ×`),
      `${e.id}: its scale and budget`,
    );
    assert.ok(md.includes(`#### ${e.id} (stage 1)`), `${e.id} in the details`);
  }
  // two seeds 0.6 and 0.7 against a reference of 0.5 and 0.6: mean 0.650 ± 0.071, +0.100 (three seeds: 0.700 ± 0.10)
  assert.match(block, /\| {2}\| osttp \| 0\.650 ± 0\.071 \| \+0\.100 \| 2 \|/);
  assert.match(block, /\| {2}\| tanp \| 0\.700 ± 0\.10 \| \+0\.100 \| 3 \|/, 'three seeds where cheap');
  assert.match(md, /\| osttp \| 0\.650 ± 0\.071 \| 0\.600 \/ 0\.700 \|/);
  assert.match(md, /### Stage 1\n\n\| experiment \| runs \| min\/run \(probe\)/);
  assert.match(md, /## Stage 2: the authors' settings \(planned\)/);
  assert.doesNotMatch(block, /-full/, 'no stage-2 experiment in the summary while none of its runs has finished');
});
