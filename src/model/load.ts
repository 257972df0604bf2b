/** Loading a model file from disk into a ready-to-run model (Node; browsers parse the text and call modelFromFile). */
import { readModelFile } from './io.js';
import { Model, type ModelOptions } from './predict.js';

export function loadModel(path: string, options: ModelOptions = {}): Model {
  return Model.fromFile(readModelFile(path), { source: path, ...options });
}
