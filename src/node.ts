/**
 * onward for Node: the whole public API (index.ts, which also bundles for browsers) plus what needs a file
 * system — model files and checkpoints on disk.  import { ... } from 'onward/node'
 */
export * from './index.js';
export { readModelFile, writeJsonAtomic } from './model/io.js';
export { loadModel } from './model/load.js';
export { saveCheckpoint, resumeTrainer, saveStreamCheckpoint, resumeStream } from './train/files.js';
