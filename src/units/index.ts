/** The registry of unit models, by the names used on the command line and in model files. */
import { UnknownNameError } from '../core/errors.js';
import type { UnitModel } from './unit.js';
import { rnnUnit } from './rnn.js';
import { gruUnit } from './gru.js';
import { lstmUnit } from './lstm.js';
import { egruUnit } from './egru.js';
import { leakyUnit } from './leaky.js';

export type { UnitModel } from './unit.js';
export { createEgruUnit, type EgruOptions } from './egru.js';

export const unitModels: Readonly<Record<string, UnitModel>> = {
  rnn: rnnUnit,
  gru: gruUnit,
  lstm: lstmUnit,
  egru: egruUnit,
  leaky: leakyUnit,
};

export function getUnit(name: string): UnitModel {
  const u = unitModels[name];
  if (!u) throw new UnknownNameError('model', name, Object.keys(unitModels));
  return u;
}
