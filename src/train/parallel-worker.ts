/**
 * A worker thread of ParallelLearner (parallel.ts): its own backend, a copy of the network and a learner for its
 * share of the batch. It waits on its control word, runs the command with the shared buffers, writes 0 back
 * (or −1 after an error, which it also prints) and waits again.
 */
import { workerData } from 'node:worker_threads';
import { createBackend } from '../backend/index.js';
import { createLearner } from '../learners/index.js';
import { Network } from '../model/network.js';
import { Cmd, type WorkerSetup } from './parallel.js';

const setup = workerData as WorkerSetup;
const control = new Int32Array(setup.control);
const k = setup.index;
const x = new Float64Array(setup.x),
  target = new Float64Array(setup.target),
  mask = new Float64Array(setup.mask);
const output = new Float64Array(setup.output),
  info = new Float64Array(setup.info),
  grad = new Float64Array(setup.grad);
const params = new Float64Array(setup.params);

function run(): void {
  const net = new Network(setup.modelConfig, createBackend(setup.backend), 0);
  const learner = createLearner(setup.learner, net, setup.options);
  const B = setup.options.batchSize,
    o = net.outputSize;
  const xs = x.subarray(0, B * net.config.inputSize),
    ts = target.subarray(0, B * net.loss.targetWidth),
    ms = mask.subarray(0, B);
  for (;;) {
    Atomics.wait(control, k, Cmd.idle);
    const cmd = Atomics.load(control, k);
    if (cmd === Cmd.quit) return;
    try {
      if (cmd === Cmd.step || cmd === Cmd.stepNoTarget) {
        info[0] = learner.step(xs, cmd === Cmd.step ? ts : null, cmd === Cmd.step ? ms : null);
        output.set(learner.output.data.subarray(0, B * o));
        info[1] = learner.stateBytes();
      } else if (cmd === Cmd.start) {
        learner.startSequence();
      } else if (cmd === Cmd.flush) {
        learner.flush();
        grad.set(net.grads.flat.data);
        net.zeroGrads();
      } else if (cmd === Cmd.params) {
        net.params.flat.data.set(params.subarray(0, net.size));
      }
      info[2] = info[2]! + net.backend.macs; // the caller adds the workers' multiply-adds to its own counter
      net.backend.macs = 0;
      Atomics.store(control, k, Cmd.idle);
    } catch (e) {
      console.error(`onward worker ${k}: ${(e as Error).message}`);
      Atomics.store(control, k, -1);
    }
    Atomics.notify(control, k);
  }
}

try {
  run();
} catch (e) {
  console.error(`onward worker ${k}: ${(e as Error).message}`);
  Atomics.store(control, k, -1);
  Atomics.notify(control, k);
}
