/**
 * A phase-change-memory (PCM) device model for in-memory learning (docs/design.md §5 `hardware/pcm`;
 * research/osttp-and-perturbation.md §A.7): the synaptic weights of a network live in analog conductances
 * and every learner's updates reach them as programming pulses.
 *
 * Mapping. Each weight is a differential pair, w = (G⁺ − G⁻)·wMax/gMax with G± ∈ [0, gMax]; wMax is set
 * per tensor at programming time, headroom × max|w| of the initial weights (|w| beyond wMax saturates).
 * Update (mixed precision, Nandakumar et al., Front. Neurosci. 14:406, 2020): the optimizer's exact update
 * Δw is added to a digital accumulator χ; when |χ| ≥ ε = wMax/levels (one nominal device step) the pair
 * receives n = trunc(χ/ε) SET pulses — on G⁺ for n > 0, on G⁻ for n < 0 (PCM only SETs gradually) —
 * and χ −= n·ε (the pulses' nominal effect; their actual effect differs, as on the chip).
 * Each pulse raises G by ΔG = (gMax/levels)·(1 + c2c·ξ) (cycle-to-cycle variability; n pulses sum to
 * n·ΔG + ΔG·c2c·√n·ξ), capped at gMax.
 * Programming a target conductance G_T (initial programming, refresh): G = G_T + σ_prog(G_T)·ξ, clipped to
 * [0, gMax], σ_prog(G) = progNoise·(c0 + c1·g + c2·g²)·gMax/25 with g = G/gMax, c = (0.26348, 1.9650, −1.1731) µS
 * (aihwkit PCMLikeNoiseModel, Nandakumar et al. ICECS 2019, fit at gMax = 25 µS).
 * Drift: a device programmed (or pulsed) at t_p decays as G(t) = G_p·((t − t_p)/t0)^(−ν) for t − t_p > t0 =
 * 20 s, with ν ~ |N(μ_ν(g), σ_ν(g))|·drift drawn at each programming event, μ_ν = clip(−0.0155·ln g + 0.0244,
 * 0.049, 0.1), σ_ν = clip(−0.0125·ln g − 0.0059, 0.008, 0.045).
 * Read noise, fresh at every use (each time step reads the array): G_read = G(t) + |G(t)|·Q_s(g)·
 * √(ln((t − t_p + t_r)/(2t_r)))·ξ·readNoise, Q_s = min(0.0088/max(g^0.65, 10⁻³), 0.2), t_r = 250 ns (1/f noise).
 * Refresh: a pair whose device passes refreshAt·gMax, and every pair every `refreshEvery` updates
 * (0: never periodically), is re-programmed: both devices reset, the current w programmed into one of them.
 * Time: the device clock advances `stepSeconds` per time step (per read in training); drift and the read
 * noise's σ are brought up to the clock at every update (reads in between use the state of the last one).
 * Each non-ideality has its own switch: c2c, progNoise, readNoise, drift = 0 turn it off; with all four
 * off the device is an ideal quantiser with digital accumulation (weights move in exact steps of ε).
 * Constants: levels 200 (aihwkit PCMPresetDevice dw_min 0.01 over a range of 2), c2c 0.6 (its dw_min_std),
 * gMax 25 µS; the rest as above. Whether OSTTP's chip used exactly these is not known (notes §A.7).
 * headroom 10 is a mapping choice, not a device constant: trained weights grow far beyond their initial
 * range (lif on `spikes`: |w| up to ~5 from ±0.22), and with headroom 3 they clip at ±wMax — measured on
 * spikes (2×32 lif, 1000 batches, seed 0): bptt 76–86 % with headroom 3, 99.96 % with 10, 93–95 % with 20–40
 * (coarser steps); osttp 37–46 % with 3, 55–60 % with 10–40.
 * Which weights: every parameter whose name ends in `weight`, `weight_ih` or `weight_hh` (synapses);
 * biases and unit parameters (thresholds, decays) stay digital, as in peripheral circuits.
 */
import type { Buf } from '../backend/backend.js';
import { ConfigError, ShapeError } from '../core/errors.js';
import { Rng, type RngState } from '../core/rng.js';
import { z } from 'zod';

export interface PcmSettings {
  /** nominal pulses from 0 to gMax (device step ΔG = gMax/levels) */
  levels: number;
  /** cycle-to-cycle relative standard deviation of one pulse (0: off) */
  c2c: number;
  /** scale of the programming-noise polynomial (1: measured; 0: off) */
  progNoise: number;
  /** scale of the 1/f read noise (1: measured; 0: off) */
  readNoise: number;
  /** scale of the drift exponent ν (1: measured; 0: off) */
  drift: number;
  /** re-program every pair every this many updates (0: only saturated pairs) */
  refreshEvery: number;
  /** a pair is refreshed when one of its devices passes this fraction of gMax */
  refreshAt: number;
  /** seconds of device time per time step */
  stepSeconds: number;
  /** wMax = headroom × max|w| of the initial weights, per tensor */
  headroom: number;
  /** maximum conductance, µS */
  gMax: number;
}

export const defaultPcmSettings: Readonly<PcmSettings> = {
  levels: 200,
  c2c: 0.6,
  progNoise: 1,
  readNoise: 1,
  drift: 1,
  refreshEvery: 0,
  refreshAt: 0.9,
  stepSeconds: 0.01,
  headroom: 10,
  gMax: 25,
};

/**
 * The `device` section of a run configuration: 'none' (ideal digital weights) or 'pcm', and the pcm settings
 * a run may change, each declared once (defaults: defaultPcmSettings). gMax and refreshAt keep their defaults.
 */
export const deviceSectionSchema = z.strictObject({
  name: z
    .enum(['none', 'pcm'])
    .default('none')
    .describe("'pcm': synaptic weights on simulated phase-change memory, updates applied as pulses"),
  levels: z.number().int().min(1).default(defaultPcmSettings.levels).describe('pcm: nominal programming pulses over the conductance range'),
  c2c: z.number().min(0).default(defaultPcmSettings.c2c).describe('pcm: cycle-to-cycle relative σ of one pulse (0: off)'),
  progNoise: z.number().min(0).default(defaultPcmSettings.progNoise).describe('pcm: programming-noise scale (1: measured, 0: off)'),
  readNoise: z.number().min(0).default(defaultPcmSettings.readNoise).describe('pcm: 1/f read-noise scale (1: measured, 0: off)'),
  drift: z.number().min(0).default(defaultPcmSettings.drift).describe('pcm: drift-exponent scale (1: measured, 0: off)'),
  refreshEvery: z
    .number()
    .int()
    .min(0)
    .default(defaultPcmSettings.refreshEvery)
    .describe('pcm: re-program every pair every this many updates (0: saturated pairs only)'),
  stepSeconds: z.number().min(0).default(defaultPcmSettings.stepSeconds).describe('pcm: seconds of device time per time step'),
  headroom: z
    .number()
    .gt(0)
    .default(defaultPcmSettings.headroom)
    .describe('pcm: weight range as a multiple of the initial max |w| of each tensor'),
});

export type DeviceSection = z.output<typeof deviceSectionSchema>;

/** the device settings of a run's device section */
export function pcmSettingsOf(d: DeviceSection): PcmSettings {
  const { name: _name, ...rest } = d;
  return checkPcmSettings({ ...defaultPcmSettings, ...rest });
}

export const PCM = {
  progPoly: [0.26348, 1.965, -1.1731] as const,
  t0: 20,
  tRead: 250e-9,
};

export function checkPcmSettings(s: PcmSettings): PcmSettings {
  const nonNeg = (k: keyof PcmSettings): void => {
    if (!(s[k] >= 0 && Number.isFinite(s[k]))) throw new ConfigError(`pcm: ${k} must be a finite number ≥ 0, got ${s[k]}`);
  };
  (['c2c', 'progNoise', 'readNoise', 'drift', 'stepSeconds'] as const).forEach(nonNeg);
  if (!(Number.isInteger(s.levels) && s.levels >= 1)) throw new ConfigError(`pcm: levels must be an integer ≥ 1, got ${s.levels}`);
  if (!(Number.isInteger(s.refreshEvery) && s.refreshEvery >= 0))
    throw new ConfigError(`pcm: refreshEvery must be an integer ≥ 0, got ${s.refreshEvery}`);
  if (!(s.refreshAt > 0 && s.refreshAt <= 1)) throw new ConfigError(`pcm: refreshAt must be in (0, 1], got ${s.refreshAt}`);
  if (!(s.headroom > 0 && Number.isFinite(s.headroom))) throw new ConfigError(`pcm: headroom must be > 0, got ${s.headroom}`);
  if (!(s.gMax > 0 && Number.isFinite(s.gMax))) throw new ConfigError(`pcm: gMax must be > 0, got ${s.gMax}`);
  return s;
}

/** σ_prog(G) in µS (before the progNoise scale) */
export function programmingSigma(G: number, gMax: number): number {
  const g = G / gMax,
    [c0, c1, c2] = PCM.progPoly;
  return Math.max(0, c0 + c1 * g + c2 * g * g) * (gMax / 25);
}

/** the mean μ_ν and standard deviation σ_ν of the drift exponent at conductance G (scalars: used per pulse) */
export function driftMean(G: number, gMax: number): number {
  return Math.min(0.1, Math.max(0.049, -0.0155 * Math.log(Math.max(G / gMax, 1e-12)) + 0.0244));
}

export function driftStd(G: number, gMax: number): number {
  return Math.min(0.045, Math.max(0.008, -0.0125 * Math.log(Math.max(G / gMax, 1e-12)) - 0.0059));
}

export function driftStats(G: number, gMax: number): { mean: number; std: number } {
  return { mean: driftMean(G, gMax), std: driftStd(G, gMax) };
}

/** the relative standard deviation of a read at conductance G, a time `age` after programming */
export function readSigma(G: number, gMax: number, age: number): number {
  const g = G / gMax;
  const Qs = Math.min(0.0088 / Math.max(g ** 0.65, 1e-3), 0.2);
  return Qs * Math.sqrt(Math.max(0, Math.log((age + PCM.tRead) / (2 * PCM.tRead))));
}

/** The state of one PCM array: `size` weights, two devices each (index 2k: G⁺, 2k+1: G⁻). */
export class PcmArray {
  /** conductance right after the last programming event, µS */
  readonly Gp: Float64Array;
  /** time of the last programming event, s */
  readonly tp: Float64Array;
  /** drift exponent since then */
  readonly nu: Float64Array;
  /** the digital accumulator χ, in weight units */
  readonly chi: Float64Array;
  /** current (drifted) conductance and read σ (µS), refreshed by settle() */
  private readonly Gnow: Float64Array;
  private readonly sigma: Float64Array;
  /** device time, s */
  clock = 0;
  /** updates so far (for periodic refresh) */
  updates = 0;
  /** the clock at the last settle(): reads between updates see the conductances as they were then */
  private settledAt = 0;

  constructor(
    readonly size: number,
    readonly wMax: number,
    readonly s: PcmSettings,
    readonly rng: Rng,
  ) {
    checkPcmSettings(s);
    if (!(wMax > 0)) throw new ConfigError(`pcm: the weight range wMax must be > 0, got ${wMax}`);
    this.Gp = new Float64Array(2 * size);
    this.tp = new Float64Array(2 * size);
    this.nu = new Float64Array(2 * size);
    this.chi = new Float64Array(size);
    this.Gnow = new Float64Array(2 * size);
    this.sigma = new Float64Array(2 * size);
  }

  /** one device step in weight units (ε) */
  get epsilon(): number {
    return this.wMax / this.s.levels;
  }

  private get scale(): number {
    return this.wMax / this.s.gMax;
  }

  /** program device d to the target conductance G_T now (programming noise, new drift exponent) */
  private programDevice(d: number, GT: number): void {
    const { gMax, progNoise } = this.s;
    let G = GT + (progNoise > 0 && GT > 0 ? progNoise * programmingSigma(GT, gMax) * this.normal() : 0);
    G = Math.min(gMax, Math.max(0, G));
    this.setDevice(d, G);
  }

  private setDevice(d: number, G: number): void {
    this.Gp[d] = G;
    this.tp[d] = this.clock;
    const { drift, gMax } = this.s;
    this.nu[d] = drift > 0 ? drift * Math.abs(driftMean(G, gMax) + driftStd(G, gMax) * this.normal()) : 0;
    this.Gnow[d] = G;
    this.sigma[d] = 0;
  }

  /** program weight k to w (both devices reset; clipped to ±wMax) */
  programWeight(k: number, w: number): void {
    const G = Math.min(this.s.gMax, Math.abs(w) / this.scale);
    this.programDevice(2 * k, w > 0 ? G : 0);
    this.programDevice(2 * k + 1, w < 0 ? G : 0);
  }

  /** program all weights from `w` (initial programming) */
  programAll(w: ArrayLike<number>): void {
    if (w.length !== this.size) throw new ShapeError(`pcm: ${w.length} weights for an array of ${this.size}`);
    for (let k = 0; k < this.size; k++) this.programWeight(k, w[k]!);
    this.chi.fill(0);
    this.settle();
  }

  /** the conductance of device d now (drift applied) */
  conductance(d: number): number {
    const age = this.clock - this.tp[d]!;
    return age > PCM.t0 ? this.Gp[d]! * (age / PCM.t0) ** -this.nu[d]! : this.Gp[d]!;
  }

  /** recompute the drifted conductances and read-noise σ at the current clock (cheap reads afterwards) */
  settle(): void {
    const { gMax, readNoise } = this.s;
    this.settledAt = this.clock;
    for (let d = 0; d < 2 * this.size; d++) {
      const G = this.conductance(d);
      this.Gnow[d] = G;
      this.sigma[d] = readNoise > 0 && G > 0 ? readNoise * G * readSigma(G, gMax, this.clock - this.tp[d]!) : 0;
    }
  }

  /** the weights as the array holds them now, without read noise */
  weights(out: Float64Array | Float32Array): void {
    const sc = this.scale;
    for (let k = 0; k < this.size; k++) out[k] = (this.Gnow[2 * k]! - this.Gnow[2 * k + 1]!) * sc;
  }

  /** one read: the weights with fresh read noise on every device */
  read(out: Float64Array | Float32Array): void {
    const sc = this.scale,
      sg = this.sigma,
      G = this.Gnow;
    this.haveSpare = false;
    for (let k = 0; k < this.size; k++) {
      let p = G[2 * k]!,
        m = G[2 * k + 1]!;
      if (sg[2 * k]! > 0) p += sg[2 * k]! * this.normal();
      if (sg[2 * k + 1]! > 0) m += sg[2 * k + 1]! * this.normal();
      out[k] = (p - m) * sc;
    }
  }

  /** standard normals two at a time (both halves of Box–Muller): reads are the device's hot loop */
  private spare = 0;
  private haveSpare = false;
  private normal(): number {
    if (this.haveSpare) {
      this.haveSpare = false;
      return this.spare;
    }
    const r = Math.sqrt(-2 * Math.log(1 - this.rng.uniform())),
      a = 2 * Math.PI * this.rng.uniform();
    this.spare = r * Math.sin(a);
    this.haveSpare = true;
    return r * Math.cos(a);
  }

  /** add the update Δw (weight units) to χ; send whole device steps as pulses; refresh where needed */
  update(delta: ArrayLike<number>): void {
    if (delta.length !== this.size) throw new ShapeError(`pcm: ${delta.length} updates for an array of ${this.size}`);
    const eps = this.epsilon,
      { gMax, c2c, refreshAt, refreshEvery, levels } = this.s,
      dG = gMax / levels;
    this.updates++;
    const periodic = refreshEvery > 0 && this.updates % refreshEvery === 0;
    for (let k = 0; k < this.size; k++) {
      const chi = this.chi[k]! + delta[k]!;
      const n = Math.trunc(chi / eps);
      this.chi[k] = chi - n * eps;
      if (n !== 0) {
        const d = n > 0 ? 2 * k : 2 * k + 1,
          pulses = Math.abs(n);
        const rise = pulses * dG + (c2c > 0 ? dG * c2c * Math.sqrt(pulses) * this.normal() : 0);
        this.setDevice(d, Math.min(gMax, Math.max(0, this.conductance(d) + rise)));
        if (this.Gp[d]! >= refreshAt * gMax && !periodic) this.refresh(k);
      }
      if (periodic) this.refresh(k);
    }
    this.settle();
  }

  /** re-program pair k: the current difference into one device, the other reset */
  private refresh(k: number): void {
    this.programWeight(k, (this.conductance(2 * k) - this.conductance(2 * k + 1)) * this.scale);
  }

  /** advance the device clock */
  tick(seconds: number): void {
    this.clock += seconds;
  }

  saveState(): PcmArrayState {
    return {
      Gp: Array.from(this.Gp),
      tp: Array.from(this.tp),
      nu: Array.from(this.nu),
      chi: Array.from(this.chi),
      clock: this.clock,
      updates: this.updates,
      // the second half of a Box–Muller pair not used yet: without it a resumed run draws different noise
      ...(this.haveSpare ? { spare: this.spare } : {}),
      settledAt: this.settledAt,
    };
  }

  loadState(st: PcmArrayState): void {
    for (const [k, arr, want] of [
      ['Gp', st.Gp, this.Gp],
      ['tp', st.tp, this.tp],
      ['nu', st.nu, this.nu],
      ['chi', st.chi, this.chi],
    ] as const) {
      if (!Array.isArray(arr) || arr.length !== want.length)
        throw new ShapeError(`pcm state: ${k} has ${Array.isArray(arr) ? arr.length : 'no'} numbers, expected ${want.length}`);
      want.set(arr);
    }
    this.updates = st.updates;
    // states of older versions have no pending normal, and were settled at their clock
    this.haveSpare = typeof st.spare === 'number';
    this.spare = this.haveSpare ? st.spare! : 0;
    this.clock = typeof st.settledAt === 'number' ? st.settledAt : st.clock;
    this.settle(); // the conductances as the last settle saw them, so a resumed run reads what the paused one would have
    this.clock = st.clock;
  }
}

export interface PcmArrayState {
  Gp: number[];
  tp: number[];
  nu: number[];
  chi: number[];
  clock: number;
  updates: number;
  /** a standard normal drawn but not used yet (the second half of a Box–Muller pair) */
  spare?: number;
  /** the clock of the last settle (drifted conductances and read σ are computed then) */
  settledAt?: number;
}

export interface PcmDeviceState {
  arrays: Record<string, PcmArrayState>;
  rng: RngState;
}

/** the synaptic weights of a parameter store: names ending in weight, weight_ih, weight_hh */
export function isSynapse(name: string): boolean {
  return /(^|\.)weight(_ih|_hh)?$/.test(name);
}

/** Parameters with views (the network's ParamStore) — what the device binds to. */
export interface ParamViews {
  names(): string[];
  buf(name: string): Buf;
}

/**
 * The network's synapses on PCM arrays: `read()` before every time step writes freshly read weights into
 * the parameters; `program(before)` sends the update the optimizer just made (params − before) as pulses
 * and writes the noise-free device weights back; `tick()` advances device time.
 */
export class PcmDevice {
  readonly arrays = new Map<string, { array: PcmArray; param: Buf; delta: Float64Array }>();
  readonly rng: Rng;

  constructor(
    params: ParamViews,
    readonly settings: PcmSettings,
    seed: number,
  ) {
    checkPcmSettings(settings);
    this.rng = new Rng(seed);
    for (const name of params.names().filter(isSynapse)) {
      const param = params.buf(name);
      let maxAbs = 0;
      for (const v of param.data) maxAbs = Math.max(maxAbs, Math.abs(v));
      const array = new PcmArray(param.length, settings.headroom * Math.max(maxAbs, 1e-3), settings, this.rng);
      array.programAll(param.data);
      this.arrays.set(name, { array, param, delta: new Float64Array(param.length) });
      array.weights(param.data);
    }
  }

  /** advance every array's clock by one time step and read the weights into the parameters (fresh read noise) */
  read(advance = true): void {
    for (const { array, param } of this.arrays.values()) {
      if (advance) array.tick(this.settings.stepSeconds);
      array.read(param.data);
    }
  }

  /** the parameters as they are now on the device, without read noise */
  writeWeights(): void {
    for (const { array, param } of this.arrays.values()) array.weights(param.data);
  }

  /** `before` is the flat parameter vector before the optimizer's update; `flat` the store's flat buffer */
  program(flat: Buf, before: Buf, offsetOf: (name: string) => number): void {
    for (const [name, { array, param, delta }] of this.arrays) {
      const off = offsetOf(name),
        p = flat.data,
        b = before.data;
      for (let k = 0; k < delta.length; k++) delta[k] = p[off + k]! - b[off + k]!;
      array.update(delta);
      array.weights(param.data);
    }
  }

  /** the number of weights on the device */
  get size(): number {
    let n = 0;
    for (const { array } of this.arrays.values()) n += array.size;
    return n;
  }

  saveState(): PcmDeviceState {
    const arrays: Record<string, PcmArrayState> = {};
    for (const [name, { array }] of this.arrays) arrays[name] = array.saveState();
    return { arrays, rng: this.rng.getState() };
  }

  loadState(st: PcmDeviceState): void {
    for (const [name, { array }] of this.arrays) {
      const a = st.arrays[name];
      if (!a) throw new ShapeError(`pcm state: no array for '${name}'`);
      array.loadState(a);
    }
    this.rng.setState(st.rng);
    this.writeWeights();
  }
}
