/**
 * The page's hyper-parameter fields: each is a run-config key (as `onward train --set key=value` takes it) with a
 * one-line tooltip, and the order they appear in the URL.
 */
export const FIELDS = ['hidden', 'layers', 'batch', 'lr', 'updateEvery', 'steps', 'seed'] as const;
export type Field = (typeof FIELDS)[number];

export const TOOLTIPS: Readonly<Record<Field | 'extra' | 'mode' | 'preset', string>> = {
  hidden: 'units per recurrent layer (lru: the model width)',
  layers: 'recurrent layers (lru: residual LRU blocks) stacked on each other',
  batch: 'sequences per training batch (stream mode is always batch 1)',
  lr: 'learning rate of the optimizer (adam by default; optimizer=sgd in "more" to change)',
  updateEvery: "apply an update every k time steps; 0: once at the end of each sequence (the papers' gradients)",
  steps: 'training batches (stream mode: task sequences fed through the stream, back to back)',
  seed: 'one seed for everything that samples: weights, data, noise — the same seed gives the same run',
  extra: 'further run-config keys as key=value, separated by spaces, e.g. clip=1 optimizer=adamw task.bits=4',
  mode: 'episodes: batches of sequences from zero state, as onward train; stream: the sequences back to back, batch 1, each prediction made before learning from it',
  preset: "ci: sizes that train in seconds; paper: the paper's sizes (only presets a browser can build are listed)",
};
