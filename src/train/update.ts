/**
 * The one update step every driver applies (the episodic trainer every `updateEvery` steps or at the end of a
 * sequence, the stream every k samples):
 *
 *   flush      the learner completes the gradient of the steps so far (BPTT sweeps back here)
 *   masks      masked weights (sparse, pruned, recurrent: false) get no gradient …
 *   optimizer  θ ← update(θ, g, state)
 *   device     on pcm the optimizer's change goes out as programming pulses; θ is what the device then holds
 *   masks      … and stay exactly zero
 *   zero       the gradient accumulator starts again
 *   prune      magnitude pruning: density from 1 down to its target along (1 − t/T)³ (Zhu & Gupta 2017)
 */
import type { Buf } from '../backend/backend.js';
import { ConfigError } from '../core/errors.js';
import { PcmDevice, pcmSettingsOf, type DeviceSection } from '../hardware/pcm.js';
import type { Learner } from '../learners/learner.js';
import type { Network } from '../model/network.js';
import type { Optimizer, OptimizerState } from '../optim/optimizers.js';

/** magnitude pruning: prune every `every` updates until update `until`, to `density` */
export interface PruneSchedule {
  density: number;
  every: number;
  until: number;
}

/** the pruning schedule of a model config, or null when it is not pruned */
export function pruneSchedule(network: Network, every: number, until: number): PruneSchedule | null {
  const c = network.config;
  if (c.maskMethod !== 'magnitude' || network.masks.size === 0) return null;
  if (!(Number.isInteger(every) && every >= 1)) throw new ConfigError(`pruning: pruneEvery must be an integer ≥ 1, got ${every}`);
  if (!(Number.isInteger(until) && until >= 1))
    throw new ConfigError(`pruning: pruneUntil must be an integer ≥ 1 (the update at which density ${c.density} is reached), got ${until}`);
  return { density: c.density ?? 1, every, until };
}

export class UpdateStep {
  /** the most bytes the learner kept for its gradient at any update so far (BPTT's peak is just before its sweep) */
  peakStateBytes = 0;
  private readonly before: Buf | null;

  constructor(
    readonly network: Network,
    readonly learner: Learner,
    readonly optimizer: Optimizer,
    readonly optState: OptimizerState,
    readonly device: PcmDevice | null,
    readonly prune: PruneSchedule | null,
  ) {
    this.before = device ? network.backend.alloc(network.size) : null;
  }

  apply(): void {
    const net = this.network,
      backend = net.backend;
    this.peakStateBytes = Math.max(this.peakStateBytes, this.learner.stateBytes());
    this.learner.flush();
    net.applyMasks();
    if (this.device) backend.copy(net.params.flat, this.before!);
    this.optimizer.update(net.grads.flat, this.optState, net.params.flat);
    if (this.device) this.device.program(net.params.flat, this.before!, (name) => net.params.entry(name).offset);
    net.applyMasks();
    net.zeroGrads();
    const p = this.prune;
    const t = this.optState.count;
    if (p && t % p.every === 0 && t <= p.until) net.pruneByMagnitude(p.density + (1 - p.density) * (1 - t / p.until) ** 3);
  }
}

/** what a driver (trainer, stream) has built that its update step works on */
interface DriverParts {
  readonly network: Network;
  readonly learner: Learner;
  readonly optimizer: Optimizer;
  readonly optState: OptimizerState;
}

/**
 * A driver's update step: through the device its config names (pcm on the network's parameters, its generator
 * seeded seed + 3; none: ideal weights) and with the model's pruning schedule (every `prune.every` updates
 * until update `prune.until`).
 */
export function driverUpdateStep(
  parts: DriverParts,
  device: DeviceSection,
  seed: number,
  prune: { every: number; until: number },
): UpdateStep {
  const { network, learner, optimizer, optState } = parts;
  const pcm = device.name === 'pcm' ? new PcmDevice(network.params, pcmSettingsOf(device), seed + 3) : null;
  return new UpdateStep(network, learner, optimizer, optState, pcm, pruneSchedule(network, prune.every, prune.until));
}
