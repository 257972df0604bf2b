/**
 * The seeded random number generator: xoshiro128** (Blackman & Vigna, 2018), 32-bit state words,
 * seeded through splitmix32 so that nearby seeds give unrelated streams.
 *
 * One Rng object flows into everything that samples; its state is four uint32 words that can be saved
 * in a checkpoint and restored, after which it produces exactly the numbers it would have produced.
 * Normals use Box–Muller with both values drawn fresh each call (no cached spare), so the state is
 * only those four words. Per-step noise (the perturbation learners) uses fillNormalZiggurat instead: another
 * stream of normals from the same generator, ~10× cheaper (one 32-bit draw and a table lookup for 98.8 % of
 * the numbers, where Box–Muller takes four draws, a log, a cos and a square root).
 */
import { ConfigError } from './errors.js';

export type RngState = readonly [number, number, number, number];

const TWO_POW_32 = 4294967296;

/**
 * The ziggurat of Marsaglia & Tsang (2000) for the half-normal f(x) = exp(−x²/2): 128 layers of equal area V;
 * layer 0 is the rectangle [0, R] × [0, f(R)] with the tail beyond R, layer i ≥ 1 spans [0, x_i] between
 * heights f(x_i) and f(x_{i+1}) (x_1 = R, x_128 = 0). A draw picks a layer and a point in it: inside the
 * next layer's width it is under the curve (accepted at once); otherwise the wedge (or the tail) decides.
 */
const ZIG_LAYERS = 128;
const ZIG_R = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;
/** x_i (x_0 = V/f(R): layer 0's width with the tail folded in), f(x_i), the layer's width per 24-bit step, and
 * the 24-bit acceptance bound ⌊2²⁴·x_{i+1}/x_i⌋ */
const zigX = new Float64Array(ZIG_LAYERS + 1);
const zigF = new Float64Array(ZIG_LAYERS + 1);
const zigW = new Float64Array(2 * ZIG_LAYERS); // [layer | sign·128]: the width step, negated for sign bit 7
const zigK = new Uint32Array(ZIG_LAYERS);
{
  const f = (x: number): number => Math.exp(-0.5 * x * x);
  zigX[0] = ZIG_V / f(ZIG_R);
  zigX[1] = ZIG_R;
  for (let i = 1; i < ZIG_LAYERS - 1; i++) zigX[i + 1] = Math.sqrt(-2 * Math.log(f(zigX[i]!) + ZIG_V / zigX[i]!));
  zigX[ZIG_LAYERS] = 0;
  for (let i = 0; i <= ZIG_LAYERS; i++) zigF[i] = f(zigX[i]!);
  for (let i = 0; i < ZIG_LAYERS; i++) {
    zigW[i] = zigX[i]! / 16777216;
    zigW[i + ZIG_LAYERS] = -zigW[i]!;
    zigK[i] = Math.floor((16777216 * zigX[i + 1]!) / zigX[i]!);
  }
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** `seed`: a non-negative integer below 2^53. */
  constructor(seed = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError(`seed must be a non-negative integer below 2^53, got ${seed}`);
    // both halves of the seed feed the state, so seeds above 2^32 differ from their low bits
    const lo = splitmix32(seed >>> 0);
    const hi = splitmix32(Math.floor(seed / TWO_POW_32) ^ 0x5bd1e995);
    this.s0 = lo() ^ hi();
    this.s1 = lo() ^ hi();
    this.s2 = lo() ^ hi();
    this.s3 = lo() ^ hi();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  getState(): RngState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** take another generator's state (no allocation: for a pass that must draw what another drew) */
  copyFrom(other: Rng): void {
    this.s0 = other.s0;
    this.s1 = other.s1;
    this.s2 = other.s2;
    this.s3 = other.s3;
  }

  setState(state: RngState): void {
    const words: unknown = state;
    if (!Array.isArray(words) || words.length !== 4 || !words.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32)) {
      throw new ConfigError(`rng state must be four uint32 words, got ${JSON.stringify(state)}`);
    }
    if (state.every((w) => w === 0)) throw new ConfigError('rng state must not be all zero');
    [this.s0, this.s1, this.s2, this.s3] = state;
  }

  /** A uniform uint32. */
  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5; // 27 bits
    const b = this.nextU32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniformIn(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [0, n), unbiased (rejection of the incomplete last block). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) throw new ConfigError(`int(n) needs an integer 1 ≤ n ≤ 2^32, got ${n}`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let x: number;
    do x = this.nextU32();
    while (x >= limit);
    return x % n;
  }

  /** Standard normal (Box–Muller). */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.uniform(); // (0, 1], so log is finite
    const u2 = this.uniform();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** true with probability p. */
  bernoulli(p: number): boolean {
    if (!(p >= 0 && p <= 1)) throw new ConfigError(`bernoulli(p) needs 0 ≤ p ≤ 1, got ${p}`);
    return this.uniform() < p;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /**
   * Fill `out` with uniforms in [lo, hi) — the same numbers as calling uniformIn that many times. The
   * generator step is written out here so that a hot caller (dropout masks) never boxes a return value.
   */
  fillUniform(out: { length: number; [i: number]: number }, lo = 0, hi = 1): void {
    let s0 = this.s0,
      s1 = this.s1,
      s2 = this.s2,
      s3 = this.s3;
    const span = hi - lo;
    for (let i = 0; i < out.length; i++) {
      let w = 0;
      for (let k = 0; k < 2; k++) {
        const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
        const t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = rotl(s3, 11);
        w = k === 0 ? (r >>> 5) * 67108864 : w + (r >>> 6);
      }
      out[i] = lo + span * (w / 9007199254740992);
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /**
   * Fill `out` with normals — the same numbers as calling normal(mean, std) that many times, with the
   * generator written out as in fillUniform so that per-step noise (perturbation learners) allocates nothing.
   */
  fillNormal(out: { length: number; [i: number]: number }, mean = 0, std = 1): void {
    let s0 = this.s0,
      s1 = this.s1,
      s2 = this.s2,
      s3 = this.s3;
    for (let i = 0; i < out.length; i++) {
      let u1 = 0,
        u2 = 0;
      for (let j = 0; j < 2; j++) {
        let w = 0;
        for (let k = 0; k < 2; k++) {
          const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
          const t = s1 << 9;
          s2 ^= s0;
          s3 ^= s1;
          s1 ^= s2;
          s0 ^= s3;
          s2 ^= t;
          s3 = rotl(s3, 11);
          w = k === 0 ? (r >>> 5) * 67108864 : w + (r >>> 6);
        }
        if (j === 0) u1 = 1 - w / 9007199254740992;
        else u2 = w / 9007199254740992;
      }
      out[i] = mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /**
   * Fill `out` with normals N(mean, std²) by the ziggurat: a different stream from fillNormal/normal (same seed,
   * other numbers), deterministic per generator state, allocation-free. One 32-bit draw gives the layer (7 bits),
   * the sign (1 bit) and the abscissa (24 bits, ample for float32 noise); the rare rejections (1.2 %) take
   * 53-bit uniforms for the wedge and tail tests and, when rejected again, a fresh draw.
   */
  fillNormalZiggurat(out: { length: number; [i: number]: number }, mean = 0, std = 1): void {
    // the generator stays in locals throughout (the slow path too): writing state words back to the object per
    // rejection would box numbers, and per-step noise must allocate nothing
    let s0 = this.s0,
      s1 = this.s1,
      s2 = this.s2,
      s3 = this.s3;
    for (let i = 0; i < out.length; i++) {
      let z = 0;
      for (;;) {
        const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
        let t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = rotl(s3, 11);
        const u = r >>> 8,
          layer = r & 127;
        if (u < zigK[layer]!) {
          z = u * zigW[r & 255]!; // signed
          break;
        }
        // rejected by the fast test: 53-bit uniforms decide. In layer 0 the point lies in the tail beyond R, whose
        // area is the tail's mass: sample it until accepted (Marsaglia 1964: R + a, a ~ Exp(R), kept with probability
        // exp(−a²/2)). In a wedge, keep the point if it lies under the curve, else start over.
        const tail = layer === 0;
        let x = u * zigW[layer]!,
          accepted = false;
        do {
          let u1 = 0,
            u2 = 0;
          for (let j = 0; j < (tail ? 2 : 1); j++) {
            let w = 0;
            for (let k = 0; k < 2; k++) {
              const q = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
              t = s1 << 9;
              s2 ^= s0;
              s3 ^= s1;
              s1 ^= s2;
              s0 ^= s3;
              s2 ^= t;
              s3 = rotl(s3, 11);
              w = k === 0 ? (q >>> 5) * 67108864 : w + (q >>> 6);
            }
            if (j === 0) u1 = w / 9007199254740992;
            else u2 = w / 9007199254740992;
          }
          if (tail) {
            const e = -Math.log(1 - u1) / ZIG_R;
            x = ZIG_R + e;
            accepted = -2 * Math.log(1 - u2) >= e * e;
          } else accepted = zigF[layer]! + u1 * (zigF[layer + 1]! - zigF[layer]!) < Math.exp(-0.5 * x * x);
        } while (tail && !accepted);
        if (accepted) {
          z = r & 128 ? -x : x;
          break;
        }
      }
      out[i] = mean + std * z;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /** An independent generator seeded from this one (advances this one by four draws). */
  fork(): Rng {
    const r = new Rng(0);
    const words: [number, number, number, number] = [this.nextU32(), this.nextU32(), this.nextU32(), this.nextU32()];
    if (words.every((w) => w === 0)) words[0] = 1;
    r.setState(words);
    return r;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
