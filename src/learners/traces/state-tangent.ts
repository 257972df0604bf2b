/**
 * The state Jacobian of one recurrent layer applied to a few tangent columns, for the estimators that carry
 * a factor of the influence instead of the influence itself (uoro, kf-rtrl). For one sample, a tangent
 * T (S components, each n × C: row = unit, column = whatever the estimator tracks) of s_{t−1} and the matching
 * tangent Y = dy_{t−1} (n × C) give the tangent of s_t with the parameters held:
 *
 *   (J_t·T)_c[l, ·] = Σ_c' ∂f_c/∂s_c'[l]·T_c'[l, ·] + Σ_g ∂f_c/∂a_hh(g)[l]·(W_hh,g·Y)[l, ·]
 *   Y_t = Σ_c ∂h/∂s_c ⊙ (J_t·T)_c      (outputTangent, with this step's ∂h/∂s)
 *
 * i.e. the full state Jacobian J_t = blockdiag(∂f/∂s) + (∂f/∂a)·W_hh·(∂h/∂s)_{t−1} of DESIGN §4 without ever
 * forming it. Cost per sample: G·n²·C multiply-adds in gemm plus S·n·C·(S + G) (propagate), S·n·C (outputTangent).
 * Also: the rule that runs such per-layer estimators with their own seeded generator (takes a signal per layer).
 */
import type { Buf, FloatArray } from '../../backend/backend.js';
import { UnsupportedError } from '../../core/errors.js';
import { Rng, type RngState } from '../../core/rng.js';
import type { Network } from '../../model/network.js';
import type { ModuleCache } from '../../modules/module.js';
import { RecurrentLayer, type RecCache } from '../../modules/recurrent.js';
import type { TraceRule } from '../rules.js';

export class StateTangent {
  /** W_hh,g · Y for each gate block (n × C each) */
  private readonly Z: Buf[];
  private gates: { root: Buf; views: Buf[] } | null = null;

  constructor(
    readonly layer: RecurrentLayer,
    readonly C: number,
  ) {
    const be = layer.weightIh.backend;
    this.Z = Array.from({ length: layer.unit.G }, () => be.alloc(layer.n * C));
  }

  /** W_hh's gate blocks as views, rebuilt only if the layer is bound to other parameters */
  private gateViews(): Buf[] {
    const W = this.layer.weightHh,
      n = this.layer.n;
    if (this.gates?.root !== W)
      this.gates = { root: W, views: Array.from({ length: this.layer.unit.G }, (_, g) => W.view(g * n * n, n * n)) };
    return this.gates.views;
  }

  /** out = J_t·T for sample b (T, out: S·n·C numbers from tOff / oOff, component c at c·n·C; Y: n × C) */
  propagate(cache: RecCache, b: number, T: FloatArray, tOff: number, Y: Buf, out: FloatArray, oOff: number): void {
    const { S, K, G, hhChannel } = this.layer.unit,
      n = this.layer.n,
      C = this.C,
      be = Y.backend;
    const W = this.gateViews();
    for (let g = 0; g < G; g++) be.gemm(false, false, n, C, n, 1, W[g]!, Y, 0, this.Z[g]!);
    const dfds = cache.dfds.data,
      dfda = cache.dfda.data;
    for (let c = 0; c < S; c++) {
      for (let l = 0; l < n; l++) {
        const o = oOff + (c * n + l) * C;
        for (let k = 0; k < C; k++) out[o + k] = 0;
        for (let c2 = 0; c2 < S; c2++) {
          const a = dfds[((b * S + c) * S + c2) * n + l]!,
            t = tOff + (c2 * n + l) * C;
          if (a !== 0) for (let k = 0; k < C; k++) out[o + k] = out[o + k]! + a * T[t + k]!;
        }
        for (let g = 0; g < G; g++) {
          const a = dfda[(b * S * K + c * K + hhChannel[g]!) * n + l]!,
            z = this.Z[g]!.data,
            zo = l * C;
          if (a !== 0) for (let k = 0; k < C; k++) out[o + k] = out[o + k]! + a * z[zo + k]!;
        }
      }
    }
    be.macs += S * n * C * (S + G);
  }

  /** Y = Σ_c ∂h/∂s_c ⊙ T_c for sample b with this step's ∂h/∂s (T: S·n·C numbers from tOff; Y: n × C) */
  outputTangent(cache: RecCache, b: number, T: FloatArray, tOff: number, Y: Buf): void {
    const S = this.layer.unit.S,
      n = this.layer.n,
      C = this.C,
      dhds = cache.dhds.data,
      y = Y.data;
    for (let l = 0; l < n; l++) {
      for (let k = 0; k < C; k++) y[l * C + k] = 0;
      for (let c = 0; c < S; c++) {
        const a = dhds[(b * S + c) * n + l]!,
          t = tOff + (c * n + l) * C;
        if (a !== 0) for (let k = 0; k < C; k++) y[l * C + k] = y[l * C + k]! + a * T[t + k]!;
      }
    }
    Y.backend.macs += S * n * C;
  }
}

/** one layer's estimator: advanced with the rule's generator, turned into a gradient by the layer's signal */
export interface EstimatorEngine {
  readonly bytes: number;
  buffers(): Buf[];
  reset(): void;
  advance(cache: RecCache, rng: Rng): void;
  /** ∂L/∂θ += signal·(dy_t/dθ estimate) into the layer's gradient; with dx, the VJP onto the input at t */
  accumulate(cache: RecCache, signal: Buf, dx: Buf | null): void;
}

/**
 * A layer-local trace rule of random estimators: one engine per recurrent layer (unit-model layers only),
 * one seeded generator for all of them. The generator is part of the rule's state (a checkpoint record), so
 * a resumed run draws the signs it would have drawn; a new sequence zeroes the estimates, not the generator.
 */
export class EstimatorLayerRule implements TraceRule {
  readonly takes = 'layer';
  readonly advancesInAccumulate = false;
  readonly extraRecords = 1;
  private readonly rng: Rng;
  private readonly engines: (EstimatorEngine | null)[];

  constructor(network: Network, name: string, seed: number, make: (layer: RecurrentLayer) => EstimatorEngine) {
    for (const m of network.modules) {
      if (m.recurrent && !(m instanceof RecurrentLayer))
        throw new UnsupportedError(`${name} runs on stacks of unit-model layers; it has no engine for a '${m.kind}' layer`);
    }
    this.rng = new Rng(seed);
    this.engines = network.modules.map((m) => (m instanceof RecurrentLayer ? make(m) : null));
  }

  get bytes(): number {
    return this.engines.reduce((s, e) => s + (e ? e.bytes : 0), 0);
  }

  buffers(): Buf[] {
    return this.engines.flatMap((e) => (e ? e.buffers() : []));
  }

  reset(): void {
    for (const e of this.engines) e?.reset();
  }

  advance(caches: readonly ModuleCache[], i: number | null): void {
    if (i !== null) {
      this.engines[i]?.advance(caches[i] as RecCache, this.rng);
      return;
    }
    for (let k = 0; k < this.engines.length; k++) this.engines[k]?.advance(caches[k] as RecCache, this.rng);
  }

  accumulate(caches: readonly ModuleCache[], i: number | null, signal: Buf, dx: Buf | null): void {
    if (i === null) throw new UnsupportedError('a layer-local trace rule takes a signal per layer, not the output error');
    this.engines[i]!.accumulate(caches[i] as RecCache, signal, dx);
  }

  extraState(): number[][] {
    return [Array.from(this.rng.getState())];
  }

  loadExtraState(records: readonly number[][]): void {
    this.rng.setState(records[0] as unknown as RngState);
  }
}

/** ‖x[off .. off + len)‖ */
export function norm(x: FloatArray, off: number, len: number): number {
  let s = 0;
  for (let k = off; k < off + len; k++) s += x[k]! * x[k]!;
  return Math.sqrt(s);
}

/** a random sign, ±1 with probability ½ each */
export function sign(rng: Rng): number {
  return (rng.nextU32() & 1) === 0 ? 1 : -1;
}
