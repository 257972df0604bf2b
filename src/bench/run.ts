/**
 * One bench run: the ordinary Trainer on one learner × task × seed, with an evaluation point every
 * `evalEvery` batches (and at step 0) that records
 * - the task metric and loss on the held-out batches (Trainer.evaluate),
 * - the cosine of the learner's gradient to BPTT's, per parameter group, on one fixed batch with the
 *   parameters as they are at that point (oracle.learnerGradient for both rules),
 * - the cost of training since the previous point: wall time and multiply-accumulates (the backend's
 *   counter) per time step, and the learner's peak stateBytes(),
 * - the cost of inference: the evaluation forward pass timed and counted the same way.
 *
 * - the learner's own statistics since the previous point when it keeps any (learner.stats(): sparse-rtrl's
 *   activity and influence density and its multiply-adds against dense RTRL's).
 * A run with `freeze` restores the named parameters to their initial values after every update (a control
 * arm: the frozen-lower-layer network of the deep e-prop experiment).
 *
 * Before training, a run with a finite budget estimates its multiply-accumulates from a few steps of one
 * batch (forward, then flush, scaled to the sequence and the run) and is skipped, with the estimate, when
 * it would exceed the budget.
 */
import { ConfigError, DivergenceError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { alignment } from '../check/alignment.js';
import { learnerGradient, type Sequence } from '../check/oracle.js';
import { learnerOptionsFor, Trainer } from '../train/trainer.js';
import type { RunSpec } from './plan.js';
import type { BenchRecord, EvalRecord, RunKey } from './records.js';

function key(spec: RunSpec): RunKey {
  const { suite, task, model, learner, seed, steps, configId } = spec;
  return { suite, task, model, learner, seed, steps, configId };
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * Multiply-accumulates of the whole run, from the first min(T, 4) steps and their flush of a batch of one
 * sequence, scaled to the batch, the sequence and the run (every kernel's count is linear in the batch;
 * a batch of one keeps the probe cheap in time and memory, e.g. RTRL's per-sequence influence matrices).
 */
export function estimateRunMacs(spec: RunSpec): number {
  const trainer = new Trainer({ ...spec.config, train: { ...spec.config.train, batch: 1, steps: 1 } });
  const { task, learner, backend } = trainer;
  const data = task.batch(1, new Rng(spec.config.train.seed + 5_000_011));
  const k = Math.min(task.seqLength, 4);
  backend.macs = 0;
  learner.startSequence();
  for (let t = 0; t < k; t++) learner.step(data.x[t]!, data.target[t]!, data.mask[t]!);
  learner.flush();
  return (backend.macs * spec.config.train.batch * task.seqLength * spec.steps) / k;
}

/**
 * Runs one benchmark. `onProbe(true)` is called before the budget's cost estimate and `onProbe(false)`
 * after it, so the pool can stop a worker whose estimate alone runs too long (a learner whose single step
 * takes minutes is over any budget).
 */
export function runBenchmark(spec: RunSpec, emit: (r: BenchRecord) => void, onProbe?: (probing: boolean) => void): void {
  if (Number.isFinite(spec.macBudget)) {
    onProbe?.(true);
    let estimatedMacs: number;
    try {
      estimatedMacs = estimateRunMacs(spec);
    } catch (e) {
      // a learner whose state does not fit in memory at this size is over any budget
      if (!(e instanceof RangeError)) throw e;
      emit({ kind: 'skipped', ...key(spec), estimatedMacs: null, reason: `does not fit in memory at this size: ${e.message}` });
      return;
    }
    onProbe?.(false);
    if (estimatedMacs > spec.macBudget) {
      emit({
        kind: 'skipped',
        ...key(spec),
        estimatedMacs,
        reason: `over the ${spec.suite} suite's budget: about ${estimatedMacs.toExponential(1)} multiply-accumulates for the run, the budget is ${spec.macBudget.toExponential(1)}`,
      });
      return;
    }
  }
  const start = performance.now();
  const trainer = new Trainer(spec.config);
  const { task, network, backend, config } = trainer;
  const B = config.train.batch,
    T = task.seqLength;
  // the batch every alignment measurement of this run uses
  const gradBatch: Sequence = task.batch(B, new Rng(config.train.seed + 7_000_003));
  // the learner built exactly as the trainer builds it (the alignment batch has the run's batch size)
  const learnerOptions = learnerOptionsFor(config);
  const paramBytes = network.size * network.params.flat.data.BYTES_PER_ELEMENT;

  const frozen = (spec.freeze ?? [])
    .flatMap((prefix) => network.params.names().filter((n) => n.startsWith(prefix)))
    .map((n) => [n, Float64Array.from(network.params.get(n))] as const);
  if (spec.freeze?.length && frozen.length === 0)
    throw new ConfigError(
      `bench: freeze ${spec.freeze.join(', ')} names no parameter of the network; parameters: ${network.params.names().join(', ')}`,
    );

  let chunk = { ms: 0, macs: 0, batches: 0 };
  let diverged = false;

  const evaluationPoint = (final: boolean): EvalRecord => {
    const m0 = backend.macs,
      t0 = performance.now();
    const r = trainer.evaluate();
    const inferenceMs = performance.now() - t0,
      inferenceMacs = backend.macs - m0;
    const cos: Record<string, number | null> = {};
    if (!diverged) {
      // both gradients as an update would apply them: masked weights (pruned, or recurrent: false) get none
      const g = learnerGradient(spec.learner, network, gradBatch, B, { options: learnerOptions });
      const ref = learnerGradient('bptt', network, gradBatch, B, { options: learnerOptions });
      for (const [layer, a] of Object.entries(alignment(network, g, ref))) cos[layer] = finite(a.cosine);
    }
    const evalSteps = config.eval.batches * T;
    const steps = chunk.batches * T;
    const record: EvalRecord = {
      kind: 'eval',
      ...key(spec),
      final,
      step: trainer.step,
      metric: task.metric,
      value: finite(r.value),
      loss: finite(r.loss),
      cosine: cos,
      usPerStep: steps > 0 ? (chunk.ms * 1000) / steps : null,
      macsPerStep: steps > 0 ? chunk.macs / steps : null,
      stateBytes: trainer.step > 0 ? trainer.peakStateBytes : null,
      inferenceUsPerStep: (inferenceMs * 1000) / evalSteps,
      inferenceMacsPerStep: inferenceMacs / evalSteps,
      paramBytes,
      batch: B,
      seqLength: T,
      diverged,
      seconds: (performance.now() - start) / 1000,
      ...(trainer.learner.stats && trainer.step > 0 ? { learnerStats: trainer.learner.stats() } : {}),
    };
    chunk = { ms: 0, macs: 0, batches: 0 };
    return record;
  };

  emit(evaluationPoint(config.train.steps === 0));
  while (trainer.step < config.train.steps) {
    const m0 = backend.macs,
      t0 = performance.now();
    try {
      trainer.trainStep();
    } catch (e) {
      if (!(e instanceof DivergenceError)) throw e;
      diverged = true; // the trainer stops at a non-finite or exploded loss (train/divergence.ts): a final record says so
    }
    for (const [n, v] of frozen) network.params.set(n, v);
    chunk.ms += performance.now() - t0;
    chunk.macs += backend.macs - m0;
    chunk.batches++;
    const last = trainer.step === config.train.steps || diverged;
    if (last || trainer.step % config.eval.every === 0) emit(evaluationPoint(last));
    if (diverged) break;
  }
}
