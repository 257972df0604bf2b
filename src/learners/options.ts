/**
 * The learner options, each declared once: type, default, check and one line of documentation, as schemas
 * (zod) that also give the TypeScript types and the JSON Schema of the run configuration (`onward schema`).
 * A learner row of the learner table names the options it reads from here; the run configuration's
 * `learner` section is these options and the learner's name. Every option has a default, so a learner that
 * does not read an option is not affected by it.
 */
import { z } from 'zod';

export const learnerOptionSchemas = {
  window: z.number().int().min(1).default(8).describe('tbptt: the truncation window k — a backward sweep every k time steps'),
  projection: z
    .enum(['centered', 'raw'])
    .default('centered')
    .describe("osttp: the fixed random target projection, 'centered' (rows of zero mean) or 'raw' (DRTP as published)"),
  targetTiming: z
    .enum(['scored', 'every-step'])
    .default('scored')
    .describe(
      "osttp: project the target at scored steps only, or at 'every-step' (tasks whose target at every step is the sequence's label)",
    ),
  noise: z.number().min(0).default(1e-3).describe('perturbation learners (wp, np, anp, tanp): the noise scale σ'),
  decorrelationRate: z
    .number()
    .min(0)
    .default(0)
    .describe('perturbation learners on decorrelated models (model.decorrelate): the rate λ of the decorrelation rule (0: D stays fixed)'),
  kappa: z
    .number()
    .min(0)
    .lt(1)
    .default(0)
    .describe("eprop, ostl: e-prop's low-pass filter κ on the eligibility traces, ē = κ·ē + e (0: none, e-prop as is)"),
  feedback: z
    .enum(['random', 'transposed'])
    .default('random')
    .describe("rflo: the output error through fixed 'random' matrices (Murray 2019) or the 'transposed' weights above (backprop at t)"),
  traceDecay: z
    .number()
    .min(0)
    .lt(1)
    .default(0.5)
    .describe('pp-prop: the exponential smoothing α of its factorised input and output traces (0: the immediate derivative only)'),
  syntheticLr: z
    .number()
    .min(0)
    .default(0.01)
    .describe("dni: the learning rate η of the synthetic gradient's linear maps (0: they stay at zero and dni is tbptt)"),
} as const;

export type LearnerOptionName = keyof typeof learnerOptionSchemas;

/** the `learner` section of a run configuration: a learner of the table by name, and its options */
export const learnerSectionSchema = z.strictObject({
  name: z.string().min(1).describe('the learner, by its name in the learner table (onward list)'),
  ...learnerOptionSchemas,
});

export type LearnerSection = z.output<typeof learnerSectionSchema>;
