/**
 * The lifecycle every step-by-step learner repeats, written once: the forward pass (input checks, states,
 * activations), one cache per module, the output, a new sequence (states and carried buffers to zero),
 * flush (nothing to do: every step's gradient is added as the step runs), the bytes kept, and checkpoints
 * (the recurrent states, the generator and the carried buffers, in a fixed order).
 */
import type { Buf } from '../backend/backend.js';
import { ForwardPass } from '../model/forward.js';
import type { Network } from '../model/network.js';
import type { ModuleCache } from '../modules/module.js';
import type { Learner, LearnerOptions, LearnerState } from './learner.js';

export abstract class OnlineLearnerBase implements Learner {
  readonly batchSize: number;
  protected readonly fwd: ForwardPass;
  protected readonly caches: ModuleCache[];

  constructor(
    readonly network: Network,
    options: LearnerOptions,
    readonly name: string,
  ) {
    this.batchSize = options.batchSize;
    this.fwd = new ForwardPass(network, options.batchSize, options.seed ?? 0);
    this.caches = network.modules.map((m) => m.createCache(network.backend, options.batchSize));
  }

  /** what the rule carries from step to step (checkpoints), in a fixed order */
  protected abstract carried(): Buf[];
  /** zero what the rule carries at a sequence start */
  protected abstract resetCarried(): void;
  abstract stateBytes(): number;
  abstract step(x: ArrayLike<number>, target: ArrayLike<number> | null, mask: ArrayLike<number> | null): number;

  get output(): Buf {
    return this.fwd.output;
  }

  startSequence(): void {
    this.fwd.resetStates();
    this.resetCarried();
  }

  flush(): void {
    // every step's gradient was added when the step ran
  }

  saveState(): LearnerState {
    return this.fwd.saveState(this.carried());
  }

  loadState(state: LearnerState): void {
    this.fwd.loadState(state, this.carried(), this.name);
  }
}
