/**
 * The listops task: every label recomputed by an independent stack-machine evaluator working on the token
 * strings alone, the LRA structure rules (depth, argument counts, strict length window), the one-hot /
 * mask / target layout, operator semantics on hand-written examples, and seeded reproducibility.
 */
import { presetFor } from '../../src/train/presets.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { createTask, taskTable } from '../../src/tasks/index.js';
import type { Batch, Task } from '../../src/tasks/task.js';
import {
  LISTOPS_TOKENS,
  applyListopsOperator,
  evaluateListopsTree,
  generateListopsTree,
  listopsDecode,
  listopsLastStep,
  listopsRaw,
  listopsText,
  listopsTreeTokens,
  type ListopsTree,
} from '../../src/tasks/listops.js';

/** the documented vocabulary order, written out independently of the module */
const VOCAB = ['<pad>', '<eos>', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '[MIN', '[MAX', '[MED', '[SM', 'X'];

// ---- an independent evaluator: prefix tokens → value, by a stack of open operator frames

function reference(op: string, args: number[]): number {
  const s = [...args].sort((a, b) => a - b);
  if (op === '[MIN') return s[0]!;
  if (op === '[MAX') return s[s.length - 1]!;
  if (op === '[SM') return args.reduce((a, v) => a + v, 0) % 10;
  if (op === '[MED') {
    const n = s.length;
    return n % 2 === 1 ? s[(n - 1) / 2]! : Math.floor((s[n / 2 - 1]! + s[n / 2]!) / 2);
  }
  throw new Error(`unknown operator ${op}`);
}

interface Parsed {
  value: number;
  length: number;
  depth: number;
  maxArgsSeen: number;
  minArgsSeen: number;
}

/** evaluate `tokens` (ending in <eos>), also measuring the tree's depth and argument counts */
function evaluateTokens(tokens: readonly string[]): Parsed {
  assert.equal(tokens[tokens.length - 1], '<eos>', 'ends with <eos>');
  const body = tokens.slice(0, -1);
  const stack: { op: string; args: number[] }[] = [];
  let result: number | null = null,
    depth = 0,
    maxArgsSeen = 0,
    minArgsSeen = Infinity;
  const emit = (v: number): void => {
    if (stack.length > 0) stack[stack.length - 1]!.args.push(v);
    else {
      assert.equal(result, null, 'a single root');
      result = v;
    }
  };
  for (const tok of body) {
    depth = Math.max(depth, stack.length + 1);
    if (/^[0-9]$/.test(tok)) emit(Number(tok));
    else if (tok.startsWith('[')) stack.push({ op: tok, args: [] });
    else if (tok === 'X') {
      const f = stack.pop();
      assert.ok(f, 'X closes an open operator');
      maxArgsSeen = Math.max(maxArgsSeen, f.args.length);
      minArgsSeen = Math.min(minArgsSeen, f.args.length);
      emit(reference(f.op, f.args));
    } else assert.fail(`unexpected token ${tok}`);
  }
  assert.equal(stack.length, 0, 'every operator closed');
  assert.notEqual(result, null);
  return { value: result!, length: body.length, depth, maxArgsSeen, minArgsSeen };
}

/** check one batch of a listops task against its rules; returns the labels */
function checkBatch(task: Task, batch: Batch, B: number): number[] {
  const { maxDepth, maxArgs, minLength, maxLength } = task.settings as {
    maxDepth: number;
    maxArgs: number;
    minLength: number;
    maxLength: number;
  };
  const V = VOCAB.length,
    T = task.seqLength;
  assert.equal(batch.x.length, T);
  assert.equal(batch.target.length, T);
  assert.equal(batch.mask.length, T);
  assert.ok(batch.raw);
  assert.equal(batch.raw.length, B);
  assert.deepEqual(listopsRaw(batch, B), batch.raw);
  const labels: number[] = [];
  for (let b = 0; b < B; b++) {
    // decode the one-hot rows independently: every row (pad steps included) is one-hot
    const ids: number[] = [];
    for (let t = 0; t < T; t++) {
      const row = batch.x[t]!.subarray(b * V, (b + 1) * V);
      assert.equal(
        row.reduce((a, v) => a + v, 0),
        1,
        `row sum at t=${t}`,
      );
      const hot = [...row].indexOf(1);
      assert.ok(hot >= 0);
      ids.push(hot);
    }
    assert.deepEqual(listopsDecode(batch, b), ids);
    const n = ids.indexOf(0) < 0 ? T : ids.indexOf(0); // valid steps: everything before the first pad
    assert.ok(
      ids.slice(n).every((i) => i === 0),
      'pads only at the end',
    );
    const tokens = ids.slice(0, n).map((i) => VOCAB[i]!);
    assert.equal(tokens.join(' '), batch.raw[b], 'tokens decode back to the raw string');
    assert.equal(tokens.indexOf('<eos>'), n - 1, 'exactly one <eos>, at the last valid step');
    const p = evaluateTokens(tokens);
    assert.ok(p.length > minLength && p.length < maxLength, `length ${p.length} in ${minLength} < length < ${maxLength}`);
    assert.ok(p.depth <= maxDepth, `depth ${p.depth} ≤ ${maxDepth}`);
    assert.ok(p.minArgsSeen >= 2 && p.maxArgsSeen <= maxArgs, `argument counts in 2..${maxArgs}`);
    for (let t = 0; t < T; t++) {
      assert.equal(batch.mask[t]![b], t < n ? 1 : 0, `mask at t=${t}`);
      assert.equal(batch.target[t]![b], t < n ? p.value : 0, `target at t=${t}`);
    }
    assert.equal(listopsLastStep(batch, b), n - 1);
    labels.push(p.value);
  }
  return labels;
}

test('listops: the vocabulary is the documented one, in the documented order', () => {
  assert.deepEqual([...LISTOPS_TOKENS], VOCAB);
  const task = createTask('listops', 'ci');
  assert.equal(task.inputSize, VOCAB.length);
  assert.equal(task.outputSize, 10);
  assert.deepEqual(task.loss, { kind: 'ce', classes: 10 });
  assert.equal(task.metric, 'accuracy');
  assert.ok(taskTable.some((t) => t.name === 'listops'));
});

test('listops: operator semantics on hand-written examples', () => {
  const cases: [Parameters<typeof applyListopsOperator>[0], number[], number][] = [
    ['MED', [1, 2, 3, 4], 2],
    ['MED', [4, 1, 3, 2], 2],
    ['MED', [9, 8], 8],
    ['MED', [3, 1, 2], 2],
    ['MED', [0, 9], 4],
    ['MED', [5, 5, 0, 9, 7], 5],
    ['SM', [9, 8], 7],
    ['SM', [5, 5], 0],
    ['SM', [1, 2, 3], 6],
    ['MIN', [4, 7, 2, 9], 2],
    ['MAX', [4, 7, 2, 9], 9],
  ];
  for (const [op, args, want] of cases) {
    assert.equal(applyListopsOperator(op, args), want, `${op} ${args}`);
    assert.equal(reference(`[${op}`, args), want, `reference ${op} ${args}`);
  }
  const examples: [ListopsTree, string, number][] = [
    [{ op: 'MAX', args: [2, 9, { op: 'MIN', args: [4, 7] }, 0] }, '[MAX 2 9 [MIN 4 7 X 0 X', 9],
    [{ op: 'SM', args: [{ op: 'MED', args: [1, 2, 3, 4] }, 9, 8] }, '[SM [MED 1 2 3 4 X 9 8 X', 9],
    [
      {
        op: 'MIN',
        args: [
          { op: 'SM', args: [9, 8] },
          { op: 'MAX', args: [3, 8] },
        ],
      },
      '[MIN [SM 9 8 X [MAX 3 8 X X',
      7,
    ],
  ];
  for (const [tree, text, want] of examples) {
    assert.equal(listopsText(listopsTreeTokens(tree)), text);
    assert.equal(evaluateListopsTree(tree), want, text);
    assert.equal(evaluateTokens([...text.split(' '), '<eos>']).value, want, `reference ${text}`);
  }
});

test('listops ci: every label agrees with an independent evaluator; window, masks, targets, one-hot rows', () => {
  const task = createTask('listops', 'ci');
  assert.deepEqual(task.settings, { maxDepth: 3, maxArgs: 4, minLength: 4, maxLength: 20 });
  assert.equal(task.seqLength, 20);
  const rng = new Rng(11),
    counts = new Array<number>(10).fill(0);
  const B = 25;
  for (let i = 0; i < 80; i++) for (const label of checkBatch(task, task.batch(B, rng), B)) counts[label]!++;
  const n = 80 * B;
  assert.ok(
    counts.every((c) => c > 0),
    `every class occurs: ${counts}`,
  );
  assert.ok(Math.max(...counts) / n < 0.2, `no class dominates: ${counts}`);
});

test('listops paper: LRA settings, labels agree with the independent evaluator', () => {
  const task = createTask('listops', 'paper');
  assert.deepEqual(task.settings, { maxDepth: 10, maxArgs: 10, minLength: 500, maxLength: 2000 });
  assert.equal(task.seqLength, 2000);
  assert.equal(presetFor('listops', 'paper').train?.steps, 120_000);
  const rng = new Rng(12);
  for (let i = 0; i < 4; i++) checkBatch(task, task.batch(16, rng), 16);
});

test('listops: settings are overridable and the window is checked', () => {
  const task = createTask('listops', 'ci', { maxDepth: 4, maxArgs: 5, minLength: 10, maxLength: 30 });
  assert.equal(task.seqLength, 30);
  const rng = new Rng(13);
  for (let i = 0; i < 10; i++) checkBatch(task, task.batch(10, rng), 10);
  assert.throws(() => createTask('listops', 'ci', { minLength: 10, maxLength: 11 }), ConfigError);
  assert.throws(() => createTask('listops', 'ci', { maxDepth: 1 }), ConfigError);
  assert.throws(() => createTask('listops', 'ci', { lenght: 3 }), /unknown setting 'lenght'/);
  // depth-2 trees with two arguments all have length 4: a window above it is unreachable
  const never = createTask('listops', 'ci', { maxDepth: 2, maxArgs: 2, minLength: 5, maxLength: 50 });
  assert.throws(() => never.batch(1, new Rng(1)), /no tree with 5 < length < 50/);
});

test('listops: seeded reproducibility', () => {
  for (const preset of ['ci', 'paper'] as const) {
    const task = createTask('listops', preset),
      B = preset === 'ci' ? 12 : 3;
    const a = task.batch(B, new Rng(21)),
      b = task.batch(B, new Rng(21)),
      c = task.batch(B, new Rng(22));
    assert.deepEqual(a, b, preset);
    assert.notDeepEqual(a.raw, c.raw, preset);
  }
  const rules = { maxDepth: 10, maxArgs: 10, minLength: 500, maxLength: 2000 };
  assert.deepEqual(generateListopsTree(rules, new Rng(5)), generateListopsTree(rules, new Rng(5)));
});
