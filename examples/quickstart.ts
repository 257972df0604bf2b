// The README's quick start, runnable: `npx tsx examples/quickstart.ts` (the test suite runs it with fewer steps).
import { Network, createLearner, createBackend, createTask, createOptimizer, Rng } from '../src/index.js';

export function quickstart(steps = 1500): number {
  const task = createTask('copy', 'ci'); // 3 bits, pattern 5, pad 2: T = 13
  const net = new Network(
    { model: 'gru', inputSize: task.inputSize, hidden: 16, layers: 1, outputSize: task.outputSize, loss: task.loss },
    createBackend(),
    /* seed */ 0,
  );
  const learner = createLearner('rtrl', net, { batchSize: 8 });
  const opt = createOptimizer({ name: 'adam', lr: 0.02, clip: 1 });
  const optState = opt.init(net.backend, net.size);
  const rng = new Rng(1);
  let loss = 0;
  for (let step = 0; step < steps; step++) {
    const batch = task.batch(8, rng);
    learner.startSequence();
    loss = 0;
    for (let t = 0; t < task.seqLength; t++) {
      loss += learner.step(batch.x[t]!, batch.target[t]!, batch.mask[t]!); // forward + exact gradient, no history kept
    }
    learner.flush();
    opt.update(net.grads.flat, optState, net.params.flat);
    net.zeroGrads();
  }
  return loss;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(`loss of the last batch: ${quickstart().toFixed(3)}`);
