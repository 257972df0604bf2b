/**
 * The forward half every learner shares: the input buffer (checked: right width, finite), the recurrent
 * states, the activation buffers between modules, and one forward step through the chain.
 */
import type { Buf } from '../backend/backend.js';
import { NonFiniteError, ShapeError } from '../core/errors.js';
import { Rng, type RngState } from '../core/rng.js';
import type { Network } from './network.js';
import type { ModuleCache, RecurrentState, StepContext } from '../modules/module.js';
import type { LearnerState } from '../learners/learner.js';

export class ForwardPass {
  readonly input: Buf;
  /** acts[i] is the output of module i */
  readonly acts: Buf[];
  readonly states: (RecurrentState | null)[];
  readonly ctx: StepContext;

  constructor(
    readonly network: Network,
    readonly B: number,
    seed = 0,
  ) {
    const be = network.backend;
    this.input = be.alloc(B * network.inputSize);
    this.acts = network.modules.map((m) => be.alloc(B * m.outSize));
    this.states = network.modules.map((m) => (m.recurrent ? m.createState(be, B) : null));
    this.ctx = { training: true, rng: new Rng(seed) };
  }

  get output(): Buf {
    return this.acts[this.acts.length - 1]!;
  }

  resetStates(): void {
    const be = this.network.backend;
    for (const s of this.states) {
      if (s) {
        be.fill(s.s, 0);
        be.fill(s.y, 0);
      }
    }
  }

  /** copy x_t (B × inputSize) into the input buffer, refusing wrong widths and non-finite numbers */
  load(x: ArrayLike<number>): void {
    const want = this.B * this.network.inputSize;
    if (x.length !== want) {
      throw new ShapeError(`input has ${x.length} numbers, expected batch ${this.B} × input width ${this.network.inputSize} = ${want}`);
    }
    const d = this.input.data;
    for (let i = 0; i < want; i++) {
      const v = x[i]!;
      if (!Number.isFinite(v)) {
        throw new NonFiniteError(`input (sample ${Math.floor(i / this.network.inputSize)}, feature ${i % this.network.inputSize}) is ${v}`);
      }
      d[i] = v;
    }
  }

  /** one step through the chain, remembering into `caches` */
  run(caches: ModuleCache[]): Buf {
    return this.network.forwardStep(this.input, this.acts, caches, this.states, this.ctx);
  }

  /** a learner's checkpoint state: the recurrent states, the generator, and the given trace buffers */
  saveState(traces: Buf[]): LearnerState {
    return { states: this.stateArrays(), traces: traces.map((b) => Array.from(b.data)), rng: this.rngState() };
  }

  /** restore what saveState wrote, refusing arrays of the wrong count or length */
  loadState(state: LearnerState, traces: Buf[], learner: string): void {
    this.loadStateArrays(state.states);
    this.loadRngState(state.rng);
    if (state.traces.length !== traces.length)
      throw new ShapeError(`${learner} state holds ${state.traces.length} trace arrays, expected ${traces.length}`);
    traces.forEach((buf, i) => {
      const arr = state.traces[i]!;
      if (arr.length !== buf.length) throw new ShapeError(`${learner} trace array ${i} has ${arr.length} numbers, expected ${buf.length}`);
      buf.data.set(arr);
    });
  }

  rngState(): RngState {
    return this.ctx.rng.getState();
  }

  loadRngState(state: RngState): void {
    this.ctx.rng.setState(state);
  }

  stateArrays(): number[][] {
    return this.states.filter((s): s is RecurrentState => s !== null).flatMap((s) => [Array.from(s.s.data), Array.from(s.y.data)]);
  }

  loadStateArrays(arrays: number[][]): void {
    const states = this.states.filter((s): s is RecurrentState => s !== null);
    if (arrays.length !== 2 * states.length)
      throw new ShapeError(`learner state holds ${arrays.length} state arrays, expected ${2 * states.length}`);
    states.forEach((s, i) => {
      for (const [buf, arr] of [
        [s.s, arrays[2 * i]!],
        [s.y, arrays[2 * i + 1]!],
      ] as const) {
        if (arr.length !== buf.length) throw new ShapeError(`learner state array has ${arr.length} numbers, expected ${buf.length}`);
        buf.data.set(arr);
      }
    });
  }
}
