/**
 * The `backprop` signal rule ("backprop at t", "spatial"): the loss of step t backpropagated through the
 * network at time t only — through the layers above by their VJPs, no path through time:
 *
 *   L^l_t = ∂L_t/∂y^l_t   along the chain above layer l at step t;  each layer-local trace engine adds
 *   L^l_t·e^l_t and hands (∂y^l_t/∂x^l_t)ᵀ·L^l_t to the module below.
 *
 * Feed-forward modules (the readout, GLU, LayerNorm, …) get their gradient at t from the same walk, exact
 * above the top recurrent layer. Weight transport: the walk reads the transposed weights above each layer,
 * and every layer waits for the output error (update locking). Cost: one spatial backward per step.
 */
import type { Buf } from '../../backend/backend.js';
import type { BackwardWorkspace, Network, RecurrentBackward } from '../../model/network.js';
import type { SignalRule, SignalStep } from '../rules.js';

export class BackpropAtT implements SignalRule {
  readonly freesLayers = false;
  readonly bytes = 0;
  private readonly workspace: BackwardWorkspace;
  private current: SignalStep | null = null;
  private readonly atTimeT: RecurrentBackward;

  constructor(
    readonly network: Network,
    B: number,
  ) {
    this.workspace = network.createBackwardWorkspace(B);
    this.atTimeT = (i, _m, _cache, dy, dx) => {
      const s = this.current!;
      s.trace.accumulate(s.caches, i, dy, dx);
    };
  }

  buffers(): Buf[] {
    return [];
  }

  deliver(step: SignalStep): void {
    this.current = step;
    this.network.backwardStep(step.caches, step.dOut, this.workspace, this.atTimeT);
  }
}
