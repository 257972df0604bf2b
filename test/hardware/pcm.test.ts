/**
 * The PCM device model: each non-ideality measured alone (all others switched off) against its configured
 * constants — pulse step and accumulation, cycle-to-cycle spread, programming noise, read noise, drift —
 * refresh, and the trainer with `device: 'pcm'` (ideal device ≈ digital training; checkpoints resume exactly).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { PCM, PcmArray, defaultPcmSettings, driftStats, programmingSigma, readSigma, type PcmSettings } from '../../src/hardware/pcm.js';
import { applyOverrides, defaultConfig } from '../../src/train/config.js';
import { Trainer } from '../../src/train/trainer.js';
import { resumeTrainer, saveCheckpoint } from '../../src/train/files.js';
import { relativeError } from '../../src/check/oracle.js';
import { allocationCheck } from '../../src/perf/measure.js';

const ideal: PcmSettings = { ...defaultPcmSettings, c2c: 0, progNoise: 0, readNoise: 0, drift: 0 };
const wMax = 2;

function stats(v: ArrayLike<number>): { mean: number; std: number } {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i]!;
  m /= v.length;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i]! - m) ** 2;
  return { mean: m, std: Math.sqrt(s / (v.length - 1)) };
}

function near(actual: number, expected: number, rel: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} vs ${expected} (±${rel * 100}%)`);
}

describe('pcm device model', () => {
  test('digital accumulation: updates below one device step wait in χ; whole steps go out as pulses of exactly ε (ideal device)', () => {
    const a = new PcmArray(3, wMax, ideal, new Rng(1));
    a.programAll([0, 0, 0]);
    const eps = a.epsilon;
    assert.equal(eps, wMax / 200);
    a.update([3.5 * eps, -2.2 * eps, 0.4 * eps]);
    const w = new Float64Array(3);
    a.weights(w);
    const close = (x: number, y: number): boolean => Math.abs(x - y) < 1e-12;
    assert.ok(close(w[0]!, 3 * eps) && close(w[1]!, -2 * eps) && w[2] === 0, `weights ${Array.from(w)}`);
    assert.ok(close(a.chi[0]!, 0.5 * eps) && close(a.chi[1]!, -0.2 * eps) && close(a.chi[2]!, 0.4 * eps), `χ ${Array.from(a.chi)}`);
    a.update([0, 0, 0.7 * eps]);
    a.weights(w);
    assert.ok(close(w[2]!, eps) && close(a.chi[2]!, 0.1 * eps), 'the accumulated remainder fires once it reaches a step');
    assert.ok(a.Gp[0]! > 0 && a.Gp[1] === 0 && a.Gp[3]! > 0 && a.Gp[2] === 0, 'positive updates SET G⁺, negative ones G⁻');
  });

  test('cycle-to-cycle variability: one pulse raises G by ΔG·(1 + c2c·ξ); n pulses spread by √n', () => {
    const N = 20000,
      s = { ...ideal, c2c: 0.6 };
    const a = new PcmArray(N, wMax, s, new Rng(2));
    a.programAll(new Float64Array(N).fill(wMax / 2)); // mid-range: no clipping at 0 or gMax
    const G0 = Array.from({ length: N }, (_, k) => a.Gp[2 * k]!);
    const dG = s.gMax / s.levels;
    for (const pulses of [1, 4]) {
      const before = Array.from({ length: N }, (_, k) => a.Gp[2 * k]!);
      a.update(new Float64Array(N).fill(pulses * a.epsilon * (1 + 1e-9)));
      const rise = before.map((g, k) => a.Gp[2 * k]! - g);
      const { mean, std } = stats(rise);
      near(mean, pulses * dG, 0.02, `mean rise of ${pulses} pulse(s)`);
      near(std, 0.6 * dG * Math.sqrt(pulses), 0.03, `spread of ${pulses} pulse(s)`);
    }
    assert.ok(
      G0.every((g) => g === s.gMax / 2),
      'programming noise off: the devices start exactly at their target',
    );
  });

  test('programming noise: G − G_T has the polynomial σ_prog(G_T), and none when switched off', () => {
    const N = 20000,
      target = 0.4; // w = 0.4·wMax → G_T = 0.4·gMax = 10 µS
    const a = new PcmArray(N, wMax, { ...ideal, progNoise: 1 }, new Rng(3));
    a.programAll(new Float64Array(N).fill(target * wMax));
    const GT = target * defaultPcmSettings.gMax;
    const dev = Array.from({ length: N }, (_, k) => a.Gp[2 * k]! - GT);
    const { mean, std } = stats(dev);
    assert.ok(Math.abs(mean) < (4 * std) / Math.sqrt(N), `unbiased: mean ${mean}`);
    near(std, programmingSigma(GT, 25), 0.03, 'σ_prog');
    near(programmingSigma(GT, 25), 0.26348 + 1.965 * 0.4 - 1.1731 * 0.16, 1e-12, 'the measured polynomial');
    assert.ok(
      Array.from({ length: N }, (_, k) => a.Gp[2 * k + 1]!).every((g) => g === 0),
      'the other device of each pair stays reset',
    );
  });

  test('read noise: every read draws fresh noise of σ = |G|·Q_s(g)·√ln((t + t_r)/2t_r), and the mean is the stored weight', () => {
    const N = 4000,
      reads = 10,
      age = 100;
    const a = new PcmArray(N, wMax, { ...ideal, readNoise: 1 }, new Rng(4));
    a.programAll(new Float64Array(N).fill(0.3 * wMax));
    a.tick(age);
    a.settle();
    const w = new Float64Array(N),
      r = new Float64Array(N);
    a.weights(w);
    const dev: number[] = [];
    let first = 0;
    for (let i = 0; i < reads; i++) {
      a.read(r);
      if (i === 0) first = r[0]!;
      else if (i === 1) assert.notEqual(r[0], first, 'a second read differs');
      for (let k = 0; k < N; k++) dev.push(r[k]! - w[k]!);
    }
    const G = 0.3 * 25,
      scale = wMax / 25;
    const { mean, std } = stats(dev);
    near(std, G * readSigma(G, 25, age) * scale, 0.03, 'read σ');
    assert.ok(Math.abs(mean) < (4 * std) / Math.sqrt(dev.length), `unbiased: ${mean}`);
    near(
      readSigma(G, 25, age),
      (0.0088 / 0.3 ** 0.65) * Math.sqrt(Math.log((age + PCM.tRead) / (2 * PCM.tRead))),
      1e-12,
      'the 1/f formula',
    );
  });

  test('drift: no decay before t0, then G = G_p·(t/t0)^(−ν) with ν ~ |N(μ_ν(g), σ_ν(g))|', () => {
    const N = 20000,
      g = 0.05; // a low conductance, where μ_ν is above its floor
    const a = new PcmArray(N, wMax, { ...ideal, drift: 1 }, new Rng(5));
    a.programAll(new Float64Array(N).fill(g * wMax));
    a.tick(PCM.t0 / 2);
    assert.equal(a.conductance(0), a.Gp[0], 'before t0 nothing drifts');
    const t = 2000;
    a.tick(t - PCM.t0 / 2);
    const nu = Array.from({ length: N }, (_, k) => -Math.log(a.conductance(2 * k) / a.Gp[2 * k]!) / Math.log(t / PCM.t0));
    for (const [k, v] of nu.entries()) assert.ok(Math.abs(v - a.nu[2 * k]!) < 1e-12);
    const { mean: mu, std: sd } = driftStats(g * 25, 25);
    near(mu, -0.0155 * Math.log(g) + 0.0244, 1e-12, 'μ_ν formula');
    const { mean, std } = stats(nu);
    near(mean, mu, 0.02, 'mean ν');
    near(std, sd, 0.05, 'spread of ν');
    const w = new Float64Array(N);
    a.settle();
    a.weights(w);
    const bad = Array.from(w).find((v) => !(v < g * wMax && v > 0.3 * g * wMax));
    assert.equal(bad, undefined, 'weights shrink towards zero');
  });

  test('refresh: a saturating pair is re-programmed into one device; periodic refresh resets every pair', () => {
    const a = new PcmArray(2, wMax, { ...ideal, refreshAt: 0.9 }, new Rng(6));
    a.programAll([0.85 * wMax, 0.5 * wMax]);
    a.update([-0.1 * wMax, -0.2 * wMax]);
    assert.ok(a.Gp[1]! > 0 && a.Gp[3]! > 0, 'G⁻ holds the negative updates');
    a.update([0.1 * wMax, 0]); // G⁺ of weight 0 reaches 0.95·gMax ≥ refreshAt
    const w = new Float64Array(2);
    a.weights(w);
    assert.ok(
      Math.abs(w[0]! - 0.85 * wMax) < 1e-9 && a.Gp[1] === 0 && Math.abs(a.Gp[0]! - 0.85 * 25) < 1e-9,
      `weight 0 refreshed: ${w[0]}, G⁻ ${a.Gp[1]}`,
    );
    assert.ok(a.Gp[3]! > 0, 'weight 1 (far from saturation) is left alone');
    const b = new PcmArray(2, wMax, { ...ideal, refreshEvery: 2 }, new Rng(7));
    b.programAll([0.5 * wMax, 0.5 * wMax]);
    b.update([-0.2 * wMax, 0]);
    assert.ok(b.Gp[1]! > 0);
    b.update([0, 0]);
    assert.equal(b.Gp[1], 0, 'the periodic refresh moved the difference into G⁺');
    b.weights(w);
    assert.ok(Math.abs(w[0]! - 0.3 * wMax) < 1e-9);
  });

  // the read is the per-time-step hot loop; an update (per optimizer step) may box a few doubles in V8
  test('a read (every time step) allocates nothing', async () => {
    const a = new PcmArray(256, wMax, defaultPcmSettings, new Rng(8));
    a.programAll(Array.from({ length: 256 }, (_, k) => ((k % 17) - 8) / 10));
    a.update(new Float64Array(256).fill(0.05));
    const out = new Float32Array(256);
    const step = (): void => {
      a.tick(0.01);
      a.read(out);
    };
    (globalThis as { gc?: () => void }).gc?.();
    const report = await allocationCheck(step, 30_000);
    assert.equal(report.gcCount, 0, `${report.gcCount} garbage collections`);
  });

  test('settings are checked', () => {
    assert.throws(() => new PcmArray(1, 1, { ...ideal, levels: 0 }, new Rng(1)), ConfigError);
    assert.throws(() => new PcmArray(1, 1, { ...ideal, c2c: -1 }, new Rng(1)), ConfigError);
    assert.throws(() => new Trainer(applyOverrides(defaultConfig('spikes', 'ci'), { device: 'pcm', pcmReadNoise: -1 })), ConfigError);
    assert.throws(() => applyOverrides(defaultConfig('spikes', 'ci'), { device: 'memristor' }), ConfigError);
  });
});

describe('training through the device', () => {
  const base = { task: 'spikes', learner: 'osttp', hidden: 8, layers: 1, batch: 4, steps: 6, evalEvery: 0, evalBatches: 1 };

  test('an ideal, fine-grained device trains like digital weights; a realistic one differs, and biases stay digital', () => {
    const digital = new Trainer(applyOverrides(defaultConfig('spikes', 'ci'), base));
    const fine = new Trainer(
      applyOverrides(defaultConfig('spikes', 'ci'), {
        ...base,
        device: 'pcm',
        pcmLevels: 1e7,
        pcmC2c: 0,
        pcmProgNoise: 0,
        pcmReadNoise: 0,
        pcmDrift: 0,
      }),
    );
    const real = new Trainer(applyOverrides(defaultConfig('spikes', 'ci'), { ...base, device: 'pcm' }));
    for (let i = 0; i < 6; i++) {
      digital.trainStep();
      fine.trainStep();
      real.trainStep();
    }
    const p = (t: Trainer): Float64Array => Float64Array.from(t.network.params.flat.data);
    assert.ok(relativeError(p(fine), p(digital)) < 1e-4, `ideal device vs digital: ${relativeError(p(fine), p(digital))}`);
    assert.ok(relativeError(p(real), p(digital)) > 1e-3, 'a realistic device changes the result');
    assert.equal(real.device!.size, 8 * 20 + 8 * 8 + 4 * 8, 'the synapses are on the device: weight_ih, weight_hh, readout.weight');
    const eps = real.device!.arrays.get('readout.weight')!.array.epsilon;
    assert.ok(eps > 0);
    assert.deepEqual(
      Array.from(real.network.params.get('layers.0.weight_hh')),
      new Array(64).fill(0),
      'recurrent off: weight_hh stays exactly 0 on the device',
    );
  });

  test('checkpoints carry the device: save → load → continue is identical', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'onward-pcm-'));
    const config = applyOverrides(defaultConfig('spikes', 'ci'), { ...base, device: 'pcm', updateEvery: 5 });
    const a = new Trainer(config);
    for (let i = 0; i < 3; i++) a.trainStep();
    const path = join(tmp, 'ck.json');
    saveCheckpoint(a, path);
    for (let i = 0; i < 2; i++) a.trainStep();
    const b = resumeTrainer(path);
    for (let i = 0; i < 2; i++) b.trainStep();
    assert.deepEqual(Array.from(b.network.params.flat.data), Array.from(a.network.params.flat.data));
    assert.deepEqual(b.device!.saveState(), a.device!.saveState());
  });
});

describe('command line', () => {
  test('train --task spikes --learner osttp --device pcm: the run resumes with its device; eval reads the model', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const tmp = mkdtempSync(join(tmpdir(), 'onward-pcm-cli-'));
    const onward = (...args: string[]): { code: number; stdout: string; stderr: string } => {
      const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'src/cli/bin.ts'), ...args], {
        cwd: tmp,
        encoding: 'utf8',
      });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };
    const out = join(tmp, 'run');
    const r = onward(
      'train',
      '--task',
      'spikes',
      '--learner',
      'osttp',
      '--device',
      'pcm',
      '--steps',
      '3',
      '--hidden',
      '8',
      '--json',
      '--out',
      out,
    );
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!).result;
    assert.equal(summary.learner, 'osttp');
    assert.equal(summary.metric, 'accuracy');
    const ck = JSON.parse(readFileSync(join(out, 'checkpoint.json'), 'utf8'));
    assert.ok(ck.checkpoint.device.arrays['readout.weight'], 'the checkpoint holds the device state');
    assert.equal(ck.checkpoint.train.device.name, 'pcm');
    const more = onward('train', '--resume', out, '--steps', '4', '--json');
    assert.equal(more.code, 0, more.stderr);
    const ev = onward('eval', '--model-file', join(out, 'model.json'), '--json');
    assert.equal(ev.code, 0, ev.stderr);
    assert.ok(Number.isFinite(JSON.parse(ev.stdout.trim()).result.value));
    const bad = onward('train', '--task', 'spikes', '--device', 'memristor', '--steps', '1');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /device(\.name)? must be one of none, pcm/);
  });
});
