/**
 * onward — train recurrent networks online.
 *
 * The curated public API: everything a user imports comes from here, by name.
 */

// numeric backends
export type { Backend, BackendName, Buf, DType, FloatArray } from './backend/backend.js';
export { createBackend, loadBackend, backendNames, type BackendOptions } from './backend/index.js';
export { TsBackend } from './backend/ts.js';
export { WasmBackend, compileWasmKernels } from './backend/wasm.js';

// core
export { Rng, type RngState } from './core/rng.js';
export { ParamStore, type ParamSpec, type ParamEntry } from './core/params.js';
export { BufferPlan } from './core/plan.js';
export { type Shape, shapeSize, formatShape } from './core/shapes.js';
export {
  OnwardError,
  ShapeError,
  ConfigError,
  UnknownNameError,
  NonFiniteError,
  UnsupportedError,
  FileFormatError,
} from './core/errors.js';
