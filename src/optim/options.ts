/** The `optimizer` section of a run configuration: each option declared once (type, default, check, doc). */
import { z } from 'zod';
import { optimizerNames, type OptimizerConfig } from './optimizers.js';

export const optimizerSectionSchema = z.strictObject({
  name: z.enum(optimizerNames).default('adam').describe('the optimizer: adam, adamw (decoupled weight decay) or sgd'),
  lr: z.number().min(0).describe('the learning rate (the peak of a cosine schedule)'),
  schedule: z.enum(['constant', 'cosine']).default('constant').describe("'cosine': linear warm-up, then cosine decay to 0 over the run"),
  warmup: z.number().int().min(0).default(0).describe('cosine schedule: warm-up updates'),
  clip: z.number().min(0).default(1).describe('clip the gradient by its global norm (0: no clipping)'),
  weightDecay: z.number().min(0).default(0).describe('weight decay (adamw: decoupled)'),
  momentum: z.number().min(0).lt(1).default(0).describe('sgd: momentum μ'),
});

export type OptimizerSection = z.output<typeof optimizerSectionSchema>;

/** the optimizer of a stream (train/stream.ts): the section's options but the schedule (a stream has no length), and adam's betas */
export type StreamOptimizer = Pick<OptimizerSection, 'name' | 'lr'> &
  Partial<Pick<OptimizerSection, 'clip' | 'weightDecay' | 'momentum'>> &
  Pick<OptimizerConfig, 'beta1' | 'beta2'>;
