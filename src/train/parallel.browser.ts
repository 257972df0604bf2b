/**
 * The browser build of parallel.ts: the batch runs on the calling thread. Worker threads that share the step's
 * buffers need node:worker_threads here; in a browser they would need cross-origin isolation
 * (SharedArrayBuffer) and a worker script URL from the bundler, which this build does not set up.
 */
import { ConfigError, UnsupportedError } from '../core/errors.js';
import { createLearner, type Learner, type LearnerOptions } from '../learners/index.js';
import type { Network } from '../model/network.js';

export function createThreadedLearner(name: string, network: Network, options: LearnerOptions, threads = 1): Learner {
  if (!Number.isInteger(threads) || threads < 1) throw new ConfigError(`threads must be a whole number ≥ 1, got ${threads}`);
  if (threads > 1) throw new UnsupportedError('threads > 1 run in Node; in the browser the batch runs on one thread (threads: 1)');
  return createLearner(name, network, options);
}

/** the browser build runs every batch on the calling thread */
export function defaultThreads(_B: number): number {
  return 1;
}
