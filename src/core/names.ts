/**
 * The names of the learners, tasks and models, as literal types for editors and type checks. The tables
 * (learners/index.ts, tasks/index.ts, units/index.ts) are the source; test/model/predict.test.ts keeps these lists equal
 * to them. Functions that take a name accept `Known | (string & {})`: an editor completes the known names, and a
 * name read at run time (a command line, a config file) is still accepted and checked by the table.
 */
export const learnerNames = [
  'bptt',
  'tbptt',
  'bptt-detached',
  'rtrl',
  'deep-rtrl',
  'sparse-rtrl',
  'deep-eprop',
  'online-lru',
  'spatial',
  'truncated1',
  'eprop',
  'ostl',
  'osttp',
  'eprop-random',
  'snap1',
  'snap2',
  'uoro',
  'kf-rtrl',
  'wp',
  'np',
  'anp',
  'tanp',
  'rflo',
  'pp-prop',
  'three-factor',
  'dni',
] as const;

export const taskNames = [
  'copy',
  'adding',
  'delayed-xor',
  'listops',
  'seq-image',
  'spiral',
  'mackey-glass',
  'weather',
  'token-copy',
  'store-recall',
  'cue-accumulation',
  'spikes',
] as const;

export const modelNameList = [
  'rnn',
  'gru',
  'lstm',
  'egru',
  'leaky',
  'snu',
  'lif',
  'snu-sigmoid',
  'lif-sigmoid',
  'alif',
  'alif-sigmoid',
  'mgu',
  'mingru',
  'minlstm',
  'ur-lstm',
  'lru',
] as const;

export type LearnerName = (typeof learnerNames)[number];
export type TaskName = (typeof taskNames)[number];
export type ModelName = (typeof modelNameList)[number];

/** a known name, completed by editors, or any string (checked when used) */
export type NameOr<Known extends string> = Known | (string & {});
