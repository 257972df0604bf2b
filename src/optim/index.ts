export {
  createOptimizer,
  clipByGlobalNorm,
  optimizerNames,
  type Optimizer,
  type OptimizerConfig,
  type OptimizerState,
} from './optimizers.js';
export { constant, warmupCosine, type Schedule } from './schedule.js';
