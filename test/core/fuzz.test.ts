/**
 * Bounded fuzz (issue 21): mutated model files, trainer and stream checkpoints (with and without a pcm
 * device, an lru stack), sequence files, IDX files and bench results through their loaders, with a fixed
 * seed, in a watched worker thread (test/fuzz/). Fails on any untyped error, a case that makes no progress
 * for 20 s (a hang), or a worker out of heap or over 2 GiB resident (a memory blow-up). At most 1,500 cases
 * and 45 s; `experiments/fuzz.ts` is the long run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from '../fuzz/runner.js';

test('fuzz: mutated files end in a typed error or load — no crash, hang or memory blow-up', async () => {
  const r = await runFuzz({ seed: 7, cases: 1500, budgetSeconds: 45, hangSeconds: 20 });
  const show = (xs: unknown[]): string => JSON.stringify(xs.slice(0, 5), null, 1);
  assert.deepEqual(r.crashes.length, 0, `crashes (untyped errors):\n${show(r.crashes)}`);
  assert.deepEqual(r.hangs.length, 0, `hangs:\n${show(r.hangs)}`);
  assert.deepEqual(r.blowups.length, 0, `memory blow-ups:\n${show(r.blowups)}`);
  assert.ok(r.cases >= 200, `only ${r.cases} cases ran`);
  assert.ok(
    (r.outcomes.ok ?? 0) > 0 && Object.keys(r.outcomes).length >= 4,
    `the mutations reach loads and several kinds of refusal: ${JSON.stringify(r.outcomes)}`,
  );
});
