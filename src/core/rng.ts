/**
 * The seeded random number generator: xoshiro128** (Blackman & Vigna, 2018), 32-bit state words,
 * seeded through splitmix32 so that nearby seeds give unrelated streams.
 *
 * One Rng object flows into everything that samples; its state is four uint32 words that can be saved
 * in a checkpoint and restored, after which it produces exactly the numbers it would have produced.
 * Normals use Box–Muller with both values drawn fresh each call (no cached spare), so the state is
 * only those four words.
 */
import { ConfigError } from './errors.js';

export type RngState = readonly [number, number, number, number];

const TWO_POW_32 = 4294967296;

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
