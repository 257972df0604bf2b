/**
 * The run configuration: every knob of a training run, fully resolved (task preset defaults, then a
 * config file, then --set key=value and the named flags), type-checked, unknown keys refused. The
 * resolved config is saved in the run directory and in every checkpoint.
 */
import { ConfigError } from '../core/errors.js';
import { checkPcmSettings, defaultPcmSettings, type PcmSettings } from '../hardware/pcm.js';
import { createTask, type Preset } from '../tasks/index.js';

export interface TrainConfig {
  task: string;
  preset: Preset;
  /** task settings overriding the preset (e.g. {bits: 4}) */
  taskSettings: Record<string, number>;
  model: string;
  hidden: number;
  layers: number;
  /** lru: complex states per layer (0: hidden/2), |λ| range and phase range at initialisation, dropout, pooling */
  stateSize: number;
  rMin: number;
  rMax: number;
  maxPhase: number;
  dropout: number;
  pooling: 'none' | 'pool_st';
  /** egru, snu, lif: pseudo-/surrogate-derivative height and (half-)width */
  dampening: number;
  width: number;
  /** parameter sparsity of the recurrent weights: kept fraction (1: dense), static random or magnitude pruning */
  density: number;
  maskMethod: 'static' | 'magnitude';
  /** 'off': no recurrent synapses (weight_hh held at zero) — layers diagonal in time */
  recurrent: 'on' | 'off';
  /** magnitude pruning: prune every this many updates until update `pruneUntil` (0: two thirds of the run) */
  pruneEvery: number;
  pruneUntil: number;
  learner: string;
  /** tbptt's truncation window */
  window: number;
  /** osttp: the target projection, 'centered' (rows of zero mean) or 'raw' (DRTP as published) */
  projection: 'centered' | 'raw';
  /** osttp: project the target only at scored steps (mask 1), or at every step (tasks whose target is the
   *  sequence's label, given at every step; DRTP's signal needs no output, so it can teach before the score) */
  targetTiming: 'scored' | 'every-step';
  /** perturbation learners: noise scale σ; decorrelated layer inputs (rnn-family models) and their rate λ */
  noise: number;
  decorrelate: boolean;
  decorLr: number;
  batch: number;
  /** training batches (each a whole sequence) */
  steps: number;
  /** 0: update at the end of each sequence; k > 0: every k time steps */
  updateEvery: number;
  optimizer: 'adam' | 'adamw' | 'sgd';
  lr: number;
  schedule: 'constant' | 'cosine';
  warmup: number;
  clip: number;
  weightDecay: number;
  momentum: number;
  seed: number;
  /**
   * gradient alignment: every this many steps (0: never) the learner's gradient on the step's batch is
   * compared with BPTT's on the same batch and parameters, per layer (cosine, ‖g‖/‖g_bptt‖), into metrics.jsonl
   */
  alignEvery: number;
  /** evaluate (and checkpoint) every this many steps; 0: only at the end */
  evalEvery: number;
  evalBatches: number;
  backend: 'wasm' | 'ts';
  dtype: 'float32' | 'float64';
  /** threads the batch is split over (train/parallel.ts); 1: the calling thread only */
  threads: number;
  /** 'pcm': synaptic weights on simulated phase-change memory, updates applied as pulses (hardware/pcm.ts) */
  device: 'none' | 'pcm';
  /** pcm: nominal pulses over the conductance range; cycle-to-cycle σ; programming-, read-noise and drift
   *  scales (0 switches each off); periodic refresh (updates, 0: saturated pairs only); seconds per time
   *  step; weight range as a multiple of the initial max |w| */
  pcmLevels: number;
  pcmC2c: number;
  pcmProgNoise: number;
  pcmReadNoise: number;
  pcmDrift: number;
  pcmRefreshEvery: number;
  pcmStepSeconds: number;
  pcmHeadroom: number;
}

const numberKeys = ['hidden', 'layers', 'stateSize', 'rMin', 'rMax', 'maxPhase', 'dropout', 'dampening', 'width', 'density', 'pruneEvery', 'pruneUntil', 'window', 'noise', 'decorLr', 'batch', 'steps', 'updateEvery', 'lr', 'warmup', 'clip', 'weightDecay',
  'momentum', 'seed', 'alignEvery', 'evalEvery', 'evalBatches', 'pcmLevels', 'pcmC2c', 'pcmProgNoise', 'pcmReadNoise', 'pcmDrift', 'pcmRefreshEvery', 'pcmStepSeconds',
  'pcmHeadroom', 'threads'] as const;
const choices: Partial<Record<keyof TrainConfig, readonly string[]>> = {
  preset: ['ci', 'paper'],
  pooling: ['none', 'pool_st'],
  maskMethod: ['static', 'magnitude'],
  recurrent: ['on', 'off'],
  optimizer: ['adam', 'adamw', 'sgd'],
  schedule: ['constant', 'cosine'],
  backend: ['wasm', 'ts'],
  dtype: ['float32', 'float64'],
  device: ['none', 'pcm'],
  projection: ['centered', 'raw'],
  targetTiming: ['scored', 'every-step'],
};

/** The defaults for a task and preset: the task's suggestions, then the library's. */
export function defaultConfig(task = 'copy', preset: Preset = 'ci'): TrainConfig {
  const t = createTask(task, preset);
  const d = t.defaults;
  return {
    task, preset, taskSettings: {},
    model: d.model, hidden: d.hidden, layers: d.layers,
    stateSize: d.stateSize ?? 0, rMin: d.rMin ?? 0, rMax: d.rMax ?? 1, maxPhase: 6.28, dropout: d.dropout ?? 0, pooling: d.pooling ?? 'none',
    dampening: d.dampening ?? 0.7, width: d.width ?? 1, density: d.density ?? 1, maskMethod: 'static', recurrent: d.recurrent ?? 'on', pruneEvery: 10, pruneUntil: 0,
    learner: d.learner, window: 8, projection: 'centered', targetTiming: d.targetTiming ?? 'scored', noise: d.noise ?? 1e-3, decorrelate: d.decorrelate ?? false, decorLr: d.decorLr ?? 0,
    batch: d.batch, steps: d.steps, updateEvery: 0,
    optimizer: 'adam', lr: d.lr, schedule: d.schedule ?? 'constant', warmup: d.warmup ?? 0, clip: 1, weightDecay: 0, momentum: 0,
    seed: 0, alignEvery: 0, evalEvery: Math.max(1, Math.floor(d.steps / 10)), evalBatches: 4,
    backend: 'wasm', dtype: 'float32', threads: 1,
    device: 'none', pcmLevels: defaultPcmSettings.levels, pcmC2c: defaultPcmSettings.c2c, pcmProgNoise: defaultPcmSettings.progNoise,
    pcmReadNoise: defaultPcmSettings.readNoise, pcmDrift: defaultPcmSettings.drift, pcmRefreshEvery: defaultPcmSettings.refreshEvery,
    pcmStepSeconds: defaultPcmSettings.stepSeconds, pcmHeadroom: defaultPcmSettings.headroom,
  };
}

/** Apply overrides (from a file, flags or --set) onto a config, checking every key and value. */
export function applyOverrides(config: TrainConfig, overrides: Record<string, unknown>): TrainConfig {
  const out: TrainConfig = { ...config, taskSettings: { ...config.taskSettings } };
  for (const [key, raw] of Object.entries(overrides)) {
    if (raw === undefined) continue;
    if (key.startsWith('task.')) {
      out.taskSettings[key.slice(5)] = toNumber(key, raw);
      continue;
    }
    if (key === 'taskSettings') {
      if (!raw || typeof raw !== 'object') throw new ConfigError(`config: taskSettings must be an object`);
      for (const [k, v] of Object.entries(raw)) out.taskSettings[k] = toNumber(`taskSettings.${k}`, v);
      continue;
    }
    if (!(key in config)) {
      throw new ConfigError(`unknown config key '${key}'; keys: ${Object.keys(config).join(', ')}, task.<setting>`);
    }
    const k = key as keyof TrainConfig;
    if (key === 'decorrelate') {
      if (raw !== true && raw !== false && raw !== 'true' && raw !== 'false') throw new ConfigError(`config: decorrelate must be true or false, got ${JSON.stringify(raw)}`);
      out.decorrelate = raw === true || raw === 'true';
    } else if ((numberKeys as readonly string[]).includes(key)) {
      (out as unknown as Record<string, number>)[key] = toNumber(key, raw);
    } else {
      const v = String(raw);
      const allowed = choices[k];
      if (allowed && !allowed.includes(v)) throw new ConfigError(`config: ${key} must be one of ${allowed.join(', ')}, got '${v}'`);
      (out as unknown as Record<string, string>)[key] = v;
    }
  }
  return out;
}

function toNumber(key: string, raw: unknown): number {
  const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(v)) throw new ConfigError(`config: ${key} must be a number, got ${JSON.stringify(raw)}`);
  return v;
}

/** Check the value ranges that the pieces do not check themselves. */
export function validateConfig(c: TrainConfig): TrainConfig {
  const int = (key: keyof TrainConfig, min: number): void => {
    const v = c[key] as number;
    if (!Number.isInteger(v) || v < min) throw new ConfigError(`config: ${key} must be an integer ≥ ${min}, got ${v}`);
  };
  int('hidden', 1); int('layers', 1); int('stateSize', 0);
  if (!(c.rMin >= 0 && c.rMin <= c.rMax && c.rMax <= 1)) throw new ConfigError(`config: need 0 ≤ rMin ≤ rMax ≤ 1, got ${c.rMin}, ${c.rMax}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new ConfigError(`config: dropout must be in [0, 1), got ${c.dropout}`);
  if (!(c.density > 0 && c.density <= 1)) throw new ConfigError(`config: density must be in (0, 1], got ${c.density}`);
  if (c.recurrent === 'off' && c.maskMethod === 'magnitude') throw new ConfigError("config: recurrent 'off' holds weight_hh at zero; magnitude pruning would revive it");
  int('pruneEvery', 1); int('pruneUntil', 0); int('window', 1); int('batch', 1); int('steps', 0); int('updateEvery', 0);
  int('warmup', 0); int('seed', 0); int('alignEvery', 0); int('evalEvery', 0); int('evalBatches', 1);
  if (!(c.noise >= 0)) throw new ConfigError(`config: noise must be ≥ 0, got ${c.noise}`);
  if (!(c.decorLr >= 0)) throw new ConfigError(`config: decorLr must be ≥ 0, got ${c.decorLr}`);
  if (c.decorrelate && c.model === 'lru') throw new ConfigError('config: decorrelate is available for rnn, gru, lstm and egru models, not lru');
  if (!(c.lr >= 0)) throw new ConfigError(`config: lr must be ≥ 0, got ${c.lr}`);
  if (c.device === 'pcm') checkPcmSettings(pcmSettings(c));
  if (c.backend === 'wasm' && c.dtype === 'float64') throw new ConfigError("config: the wasm backend is float32; use backend 'ts' for float64");
  return c;
}

/** the device settings of a run config */
export function pcmSettings(c: TrainConfig): PcmSettings {
  return {
    ...defaultPcmSettings, levels: c.pcmLevels, c2c: c.pcmC2c, progNoise: c.pcmProgNoise, readNoise: c.pcmReadNoise, drift: c.pcmDrift,
    refreshEvery: c.pcmRefreshEvery, stepSeconds: c.pcmStepSeconds, headroom: c.pcmHeadroom,
  };
}
