/**
 * The `output` signal rule: the error at the network's output, ∂L_t/∂ŷ_t, handed to a trace rule that
 * carries its sensitivities all the way to the output (full influence: ∂L_t/∂θ = (dŷ_t/dθ)ᵀ·∂L_t/∂ŷ_t;
 * deep traces: through the readout's VJP to the top layer). No backward walk, nothing stored.
 */
import type { Buf } from '../../backend/backend.js';
import type { SignalRule, SignalStep } from '../rules.js';

export class OutputError implements SignalRule {
  readonly freesLayers = false;
  readonly bytes = 0;

  buffers(): Buf[] {
    return [];
  }

  deliver(step: SignalStep): void {
    step.trace.accumulate(step.caches, null, step.dOut, null);
  }
}
