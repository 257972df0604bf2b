/** The registry of unit models, by the names used on the command line and in model files. */
import { UnknownNameError } from '../core/errors.js';
import type { UnitModel } from './unit.js';
import { rnnUnit } from './rnn.js';
import { gruUnit } from './gru.js';
import { lstmUnit } from './lstm.js';
import { createEgruUnit, egruUnit } from './egru.js';
import { leakyUnit } from './leaky.js';
import { createSpikingUnit } from './spiking.js';
import { createAlifUnit } from './alif.js';
import { minGruUnit } from './mingru.js';
import { minLstmUnit } from './minlstm.js';
import { mguUnit } from './mgu.js';
import { urLstmUnit } from './ur-lstm.js';

export type { UnitModel } from './unit.js';
export { createEgruUnit, type EgruOptions } from './egru.js';
export { createSpikingUnit, type SpikingKind, type SpikingOptions } from './spiking.js';
export { createAlifUnit, type AlifOptions } from './alif.js';

export const unitModels: Readonly<Record<string, UnitModel>> = {
  rnn: rnnUnit,
  gru: gruUnit,
  lstm: lstmUnit,
  egru: egruUnit,
  leaky: leakyUnit,
  snu: createSpikingUnit('snu'),
  lif: createSpikingUnit('lif'),
  'snu-sigmoid': createSpikingUnit('snu', { output: 'sigmoid' }),
  'lif-sigmoid': createSpikingUnit('lif', { output: 'sigmoid' }),
  alif: createAlifUnit(),
  'alif-sigmoid': createAlifUnit({ output: 'sigmoid' }),
  mgu: mguUnit,
  mingru: minGruUnit,
  minlstm: minLstmUnit,
  'ur-lstm': urLstmUnit,
};

/** the spiking unit models (their step output has a surrogate derivative of height `dampening`, width `width`) */
export const spikingModels: readonly string[] = ['snu', 'lif', 'snu-sigmoid', 'lif-sigmoid', 'alif', 'alif-sigmoid'];

export function getUnit(name: string): UnitModel {
  const u = Object.hasOwn(unitModels, name) ? unitModels[name] : undefined; // own entries only: 'toString' is no unit
  if (!u) throw new UnknownNameError('model', name, Object.keys(unitModels));
  return u;
}

/** A unit model with its pseudo-/surrogate-derivative settings (egru, snu, lif, alif); others ignore them. */
export function createUnit(name: string, { dampening, width }: { dampening?: number; width?: number } = {}): UnitModel {
  const base = getUnit(name);
  if (name === 'egru') return createEgruUnit({ dampening, width });
  if (name === 'snu' || name === 'lif') return createSpikingUnit(name, { dampening, width });
  if (name === 'alif') return createAlifUnit({ dampening, width });
  return base;
}
