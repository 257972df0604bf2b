/**
 * The `model` section of a run configuration: the network's shape and unit model, each option declared once
 * (type, default, check, one line of documentation) as a zod schema. The task adds what the data decides
 * (input and output sizes, the loss); `modelConfigFor` (train/run-config.ts) turns the two into the
 * ModelConfig a Network is built from, and that ModelConfig is what a model file stores.
 */
import { z } from 'zod';

export const modelSectionSchema = z.strictObject({
  name: z.string().min(1).describe('the unit model (rnn, gru, lstm, egru, leaky, snu, lif, …) or lru (the LRU stack)'),
  hidden: z.number().int().min(1).describe('units per layer (lru: the model width H)'),
  layers: z.number().int().min(1).describe('recurrent layers (lru: blocks)'),
  stateSize: z.number().int().min(0).default(0).describe('lru: complex states per layer (0: hidden/2)'),
  rMin: z.number().min(0).max(1).default(0).describe('lru: smallest |λ| at initialisation'),
  rMax: z.number().min(0).max(1).default(1).describe('lru: largest |λ| at initialisation'),
  maxPhase: z.number().min(0).default(6.28).describe('lru: phases of λ drawn in [0, maxPhase)'),
  dropout: z.number().min(0).lt(1).default(0).describe('lru: dropout probability in each block'),
  pooling: z.enum(['none', 'pool_st']).default('none').describe("lru: 'pool_st' pools over time for sequence classification"),
  dampening: z.number().min(0).default(0.7).describe('egru, snu, lif: height of the pseudo-/surrogate derivative'),
  width: z.number().gt(0).default(1).describe('egru, snu, lif: (half-)width of the pseudo-/surrogate derivative'),
  density: z.number().gt(0).max(1).default(1).describe('recurrent weights kept (1: dense); masked weights are exactly zero'),
  maskMethod: z
    .enum(['static', 'magnitude'])
    .default('static')
    .describe("sparse recurrent weights: 'static' random mask, or 'magnitude' pruning during training (train.pruneEvery)"),
  recurrent: z.boolean().default(true).describe('false: no recurrent synapses (weight_hh held at zero), layers diagonal in time'),
  decorrelate: z
    .boolean()
    .default(false)
    .describe('rnn-family models: layer inputs decorrelated by a learned matrix D (perturbation learners)'),
});

export type ModelSection = z.output<typeof modelSectionSchema>;
