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
  LimitError,
  FileAccessError,
  DivergenceError,
  LockError,
} from './core/errors.js';
export { defaultLimits, getLimits, setLimits, type FileKind, type Limits } from './core/limits.js';

// names of the learners, tasks and models (literal types for editors)
export { learnerNames, taskNames, modelNameList, type LearnerName, type TaskName, type ModelName, type NameOr } from './core/names.js';

// inference: a model file to a ready model, whole sequences or one step at a time
export { Model, Stepper, modelFromFile, type ModelOptions, type Sequence } from './model/predict.js';

// interchange: safetensors with PyTorch's names for rnn/gru/lstm stacks (docs/interchange.md)
export { encodeSafetensors, decodeSafetensors, type SafetensorsFile, type SafetensorsDType, type Tensor } from './model/safetensors.js';
export {
  modelToSafetensors,
  safetensorsToModel,
  exportName,
  projectName,
  type ExportOptions,
  type ImportOptions,
  type NameScheme,
} from './model/interchange.js';

// networks and their pieces
export { Network, validateModelConfig, type ModelConfig } from './model/network.js';
export { unitModels, getUnit, type UnitModel } from './units/index.js';
export { Loss, type LossSpec } from './modules/loss.js';
export type { Module, RecurrentModule, StepContext } from './modules/module.js';

// learners
export {
  learnerTable,
  learnerInfo,
  createLearner,
  hasModulator,
  type ModulatedLearner,
  type Learner,
  type LearnerInfo,
  type LearnerOptions,
  type LearnerState,
} from './learners/index.js';

// optimizers
export {
  createOptimizer,
  clipByGlobalNorm,
  constant,
  warmupCosine,
  type Optimizer,
  type OptimizerConfig,
  type OptimizerState,
  type Schedule,
} from './optim/index.js';

// tasks
export { taskTable, createTask, type Batch, type Task, type Preset } from './tasks/index.js';

// training runs
export { Trainer, type Summary } from './train/trainer.js';
export {
  defaultConfig,
  applyOverrides,
  resolveRunConfig,
  readRunConfig,
  listOptions,
  runConfigJsonSchema,
  runConfigSchema,
  type RunConfig,
  type RunConfigInput,
  type OptionDoc,
} from './train/config.js';
export { presetTable } from './train/presets.js';

// streaming: one sample at a time, predict then learn, constant memory, resumable
export {
  OnlineStream,
  validateStreamConfig,
  type StreamConfig,
  type StreamSample,
  type StreamStep,
  type StreamCheckpoint,
} from './train/stream.js';

// model files without a file system (Node's file helpers are in 'onward/node')
export {
  parseModelFile,
  encodeParams,
  decodeParamsInto,
  MODEL_FORMAT,
  MODEL_VERSION,
  type ModelFile,
  type EncodedArray,
} from './model/format.js';
