/**
 * `listops` — ListOps of the Long Range Arena (Nangia & Bowman 2018; LRA `listops.py`), with the tokenisation
 * of the online-LRU / S5 code: nested list operations in prefix notation whose value (a digit) is the class.
 *
 * Generation (LRA rules). `tree(depth)`, starting at depth 1: r ~ U(0,1) if depth < maxDepth, else r = 1;
 * if r > VALUE_P = 0.25 the node is a leaf, a digit uniform on 0–9 (length 1); otherwise it is an operator
 * node with randint(2, maxArgs) children (inclusive) drawn recursively at depth + 1, then an operator uniform
 * on MIN, MAX, MED, SM (drawn after the children, as in LRA); its length is 2 + Σ child lengths (the
 * operator token and the closing `]`). A tree is kept only if minLength < length < maxLength (strict);
 * otherwise a new one is drawn. A tree whose running length reaches maxLength is abandoned as soon as it
 * does (its final length could only grow): the kept trees have exactly the LRA distribution, only the
 * random stream differs. Unlike LRA, trees are not de-duplicated (batches are drawn on the fly, not from a
 * fixed 96k/2k/2k split), so with the small `ci` trees the same sequence can recur, also across the train
 * and evaluation streams. The label is the root's value (10 classes):
 *   MIN = min, MAX = max, SM = sum mod 10, MED = int(np.median): the middle value for an odd count, the mean
 *   of the two middle values truncated toward zero for an even count (values are 0–9, so this is floor).
 *
 * What the network sees: the prefix tokens with the parentheses removed and `]` rendered as `X`, then
 * `<eos>`, e.g. `[MAX 2 9 [MIN 4 7 X 0 X <eos>` (label 9). Each step is a one-hot vector over the 17 tokens
 *   index  0: <pad>   1: <eos>   2–11: the digits 0–9   12: [MIN   13: [MAX   14: [MED   15: [SM   16: X
 * (LISTOPS_TOKENS). Token count = tree length, so a sequence has at most maxLength − 1 tokens + `<eos>`.
 *
 * Padding: every sequence is padded at its end with `<pad>` (one-hot on index 0, so every input row sums to
 * 1, pad steps included) to seqLength = maxLength, the longest possible sequence; every batch has T =
 * seqLength. mask = 1 exactly at the valid steps (the tokens and `<eos>`), 0 at pad steps.
 *
 * Loss (the online-LRU paper's pool_st convention): the label is the target at every valid step (0 at pad
 * steps, where the mask is 0); `ce` with 10 classes; the network's causal cumulative-mean pooling turns the
 * per-step outputs into running predictions. The metric, accuracy over all valid steps, is the "dense labels"
 * accuracy of the paper code; since the pads are at the end, the prediction at the last valid step (the
 * `<eos>`) is the sequence's answer ("last" accuracy; see listopsLastStep). The loss here sums the per-step
 * losses over the valid steps; the paper code averages them over each sequence's valid steps.
 *
 * paper: maxDepth 10, maxArgs 10, 500 < length < 2000 (T = 2000; ≈ 8% of drawn trees are kept, ≈ 1 ms a
 *   sequence; labels skewed: 0 ≈ 20%, 9 ≈ 17%, the others 5–10%);
 * ci: maxDepth 3, maxArgs 4, 4 < length < 20 (T = 20, ≈ 10 valid steps on average; ≈ 20% of drawn trees are
 *   kept, most rejections being single digits; labels near uniform, the majority class ≈ 10.6%).
 * Settings: maxDepth, maxArgs, minLength, maxLength (all overridable; the window must hold some length).
 * `raw` on a batch holds each sequence's tokens as text (without pads), for `onward data --task listops`.
 */
import { ConfigError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { resolveSettings, setting, taskSettings } from './settings.js';
import { steps, type Batch, type Preset, type Task, type TaskInfo } from './task.js';

/** a node at depth < maxDepth is an operator with probability VALUE_P, else a digit (LRA's name and value) */
export const VALUE_P = 0.25;

export const LISTOPS_OPERATORS = ['MIN', 'MAX', 'MED', 'SM'] as const;
export type ListopsOperator = (typeof LISTOPS_OPERATORS)[number];

/** the vocabulary, in one-hot index order */
export const LISTOPS_TOKENS: readonly string[] = [
  '<pad>',
  '<eos>',
  '0',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
  '[MIN',
  '[MAX',
  '[MED',
  '[SM',
  'X',
];
export const PAD = 0;
export const EOS = 1;
const DIGIT0 = 2;
const OP0 = 12;
const CLOSE = 16;

/** a ListOps tree: a digit, or an operator applied to its children */
export type ListopsTree = number | { op: ListopsOperator; args: ListopsTree[] };

/** the value of an operator applied to digits (LRA semantics) */
export function applyListopsOperator(op: ListopsOperator, args: readonly number[]): number {
  if (args.length === 0) throw new ConfigError(`listops: ${op} needs at least one argument`);
  switch (op) {
    case 'MIN':
      return Math.min(...args);
    case 'MAX':
      return Math.max(...args);
    case 'SM':
      return args.reduce((a, v) => a + v, 0) % 10;
    case 'MED': {
      const s = [...args].sort((a, b) => a - b),
        n = s.length,
        h = n >> 1;
      return n % 2 === 1 ? s[h]! : Math.trunc((s[h - 1]! + s[h]!) / 2);
    }
  }
}

export function evaluateListopsTree(tree: ListopsTree): number {
  return typeof tree === 'number' ? tree : applyListopsOperator(tree.op, tree.args.map(evaluateListopsTree));
}

/** token ids of a tree in prefix order, without `<eos>` */
export function listopsTreeTokens(tree: ListopsTree, out: number[] = []): number[] {
  if (typeof tree === 'number') {
    out.push(DIGIT0 + tree);
  } else {
    out.push(OP0 + LISTOPS_OPERATORS.indexOf(tree.op));
    for (const a of tree.args) listopsTreeTokens(a, out);
    out.push(CLOSE);
  }
  return out;
}

export interface ListopsRules {
  maxDepth: number;
  maxArgs: number;
  minLength: number;
  maxLength: number;
}

/** Consecutive rejections after which generation gives up (the window is then effectively unreachable). */
const MAX_TRIES = 1_000_000;

/**
 * One tree drawn by the LRA rules, conditioned on minLength < length < maxLength, and its length. Throws
 * a ConfigError if MAX_TRIES consecutive draws fall outside the window.
 */
export function generateListopsTree(rules: ListopsRules, rng: Rng): { tree: ListopsTree; length: number } {
  const { maxDepth, maxArgs, minLength, maxLength } = rules;
  let length = 0;
  // null: the running length reached maxLength, so the tree will be rejected whatever follows
  const grow = (depth: number): ListopsTree | null => {
    const r = depth < maxDepth ? rng.uniform() : 1;
    if (r > VALUE_P) {
      length += 1;
      return length >= maxLength ? null : rng.int(10);
    }
    length += 2;
    if (length >= maxLength) return null;
    const n = 2 + rng.int(maxArgs - 1); // randint(2, maxArgs), both ends included
    const args: ListopsTree[] = [];
    for (let i = 0; i < n; i++) {
      const a = grow(depth + 1);
      if (a === null) return null;
      args.push(a);
    }
    return { op: LISTOPS_OPERATORS[rng.int(4)]!, args };
  };
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    length = 0;
    const tree = grow(1);
    if (tree !== null && length > minLength && length < maxLength) return { tree, length };
  }
  throw new ConfigError(
    `task listops: no tree with ${minLength} < length < ${maxLength} in ${MAX_TRIES} draws ` +
      `(maxDepth ${maxDepth}, maxArgs ${maxArgs}); widen the length window or allow deeper or wider trees`,
  );
}

/** readable text of token ids */
export function listopsText(ids: readonly number[]): string {
  return ids.map((i) => LISTOPS_TOKENS[i] ?? '?').join(' ');
}

/** the token ids of sequence b of a batch, decoded from its one-hot inputs (pad steps included) */
export function listopsDecode(batch: Batch, b: number): number[] {
  const V = LISTOPS_TOKENS.length;
  return batch.x.map((x) => {
    const row = x.subarray(b * V, (b + 1) * V);
    const i = row.indexOf(1);
    if (i < 0) throw new ConfigError(`listops: step has no one-hot token for sequence ${b}`);
    return i;
  });
}

/** the readable token strings of every sequence of a batch (without pads) */
export function listopsRaw(batch: Batch, B: number): string[] {
  return Array.from({ length: B }, (_, b) => listopsText(listopsDecode(batch, b).filter((i) => i !== PAD)));
}

/** the last valid step (the `<eos>`) of sequence b, where the pool_st prediction is the sequence's answer */
export function listopsLastStep(batch: Batch, b: number): number {
  for (let t = batch.mask.length - 1; t >= 0; t--) if (batch.mask[t]![b] !== 0) return t;
  return -1;
}

const settingTable = taskSettings(
  {
    maxDepth: setting('deepest nesting of operators (depth 1 trees are single digits)', { min: 2 }),
    maxArgs: setting('most arguments of one operator', { min: 2 }),
    minLength: setting('sequences are longer than this many tokens'),
    maxLength: setting('sequences are shorter than this many tokens; the padded sequence length T'),
  },
  {
    ci: { maxDepth: 3, maxArgs: 4, minLength: 4, maxLength: 20 },
    paper: { maxDepth: 10, maxArgs: 10, minLength: 500, maxLength: 2000 },
  },
);

export const listopsTask: TaskInfo = {
  name: 'listops',
  description: 'evaluate nested MIN/MAX/MED/SM lists of digits read token by token (LRA ListOps, 10 classes)',
  settingTable,
  create(preset: Preset, overrides?: Record<string, number>): Task {
    const s = resolveSettings('listops', preset, settingTable, overrides);
    if (s.maxLength - s.minLength < 2) {
      throw new ConfigError(
        `task listops: the length window ${s.minLength} < length < ${s.maxLength} holds no length; make maxLength ≥ minLength + 2`,
      );
    }
    const V = LISTOPS_TOKENS.length,
      T = s.maxLength;
    return {
      name: 'listops',
      preset,
      settings: s,
      inputSize: V,
      outputSize: 10,
      seqLength: T,
      loss: { kind: 'ce', classes: 10 },
      metric: 'accuracy',
      batch(B: number, rng: Rng): Batch {
        const x = steps(T, B * V),
          target = steps(T, B),
          mask = steps(T, B);
        const raw: string[] = [];
        for (let b = 0; b < B; b++) {
          const { tree } = generateListopsTree(s, rng);
          const ids = listopsTreeTokens(tree);
          ids.push(EOS);
          const label = evaluateListopsTree(tree);
          for (let t = 0; t < T; t++) {
            const valid = t < ids.length;
            x[t]![b * V + (valid ? ids[t]! : PAD)] = 1;
            if (valid) {
              target[t]![b] = label;
              mask[t]![b] = 1;
            }
          }
          raw.push(listopsText(ids));
        }
        return { x, target, mask, raw };
      },
    };
  },
};
