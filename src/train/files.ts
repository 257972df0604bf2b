/**
 * Checkpoints on disk (Node): the drivers build and restore checkpoint files as objects (browsers keep them
 * in memory or hand them to the user as downloads); these functions put them in files, atomically.
 */
import type { Backend } from '../backend/backend.js';
import { writeJsonAtomic } from '../core/atomic-write.js';
import { readModelFile } from '../model/io.js';
import { OnlineStream } from './stream.js';
import { Trainer } from './trainer.js';

/** write the trainer's checkpoint to `path` (atomically: a crash never leaves a half-written file) */
export function saveCheckpoint(trainer: Trainer, path: string): void {
  writeJsonAtomic(path, trainer.checkpointFile());
}

/**
 * a trainer resumed from the checkpoint at `path`; `overrides` may change e.g. the number of steps
 * (`{'train.steps': 20}`); `notes` collects what was converted from an older version's checkpoint
 */
export function resumeTrainer(path: string, overrides: Record<string, unknown> = {}, notes?: string[]): Trainer {
  return Trainer.fromCheckpointFile(readModelFile(path), path, overrides, notes);
}

/** write a stream's checkpoint to `path` (pause: stop consuming, save; resume: `resumeStream`) */
export function saveStreamCheckpoint(stream: OnlineStream, path: string): void {
  writeJsonAtomic(path, stream.checkpointFile());
}

/** a stream resumed from the checkpoint at `path`, continuing bit for bit where it stopped */
export function resumeStream(path: string, backend?: Backend): OnlineStream {
  return OnlineStream.fromCheckpointFile(readModelFile(path), path, backend);
}
