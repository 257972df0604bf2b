/**
 * The page's hyper-parameter fields, made from the run configuration's schemas (the catalogue's `options`, the
 * list `onward train --help` prints): each field is one option — its key as `--set` takes it, its type (a number
 * input with the schema's range and step, or a choice), its default and its one line of documentation as the
 * tooltip. A few options lead the form, filled with the task preset's values; every other option of the sections
 * the page exposes is under "all options", blank meaning the preset's value (shown as the placeholder). Nothing
 * here names a type, range or doc of its own: a new option in a schema is a new field.
 */
import type { OptionDoc } from '../src/train/config.js';

/** the sections of the run config whose options are fields (the task's own settings go under "more", as --set) */
export const SECTIONS = ['model', 'learner', 'optimizer', 'train', 'eval', 'device'] as const;

/** options of those sections that are not fields, and why */
export const NOT_FIELDS: Readonly<Record<string, string>> = {
  'model.name': 'the unit model select',
  'learner.name': 'the learner and compare-with selects',
  'train.threads': 'a browser trains the batch on one thread',
  'eval.every': 'the page evaluates at every chart point',
};

/** the options that lead the form, in this order, filled with the task preset's values */
export const MAIN: readonly string[] = [
  'model.hidden',
  'model.layers',
  'train.batch',
  'optimizer.lr',
  'train.updateEvery',
  'train.steps',
  'train.seed',
];

/** what the page adds to an option's own doc: how the page itself uses it */
const PAGE_NOTES: Readonly<Record<string, string>> = {
  'train.batch': 'stream mode is always batch 1',
  'train.steps': 'stream mode: task sequences fed through the stream, back to back',
  'train.seed': 'the same seed gives the same run',
};

export interface FieldSpec {
  /** the run-config key, as --set takes it */
  key: string;
  /** the element id and the URL parameter: a main field's key without its section (the links of older pages), else section-key */
  id: string;
  label: string;
  section: string;
  /** a number input, or a choice among values (booleans: true, false) */
  kind: 'number' | 'choice';
  choices?: readonly string[];
  /** the number input's range and step, from the schema's checks */
  min?: number;
  max?: number;
  step?: '1' | 'any';
  /** the schema's default, as text (none: the task preset gives it, or it is derived) */
  default?: string;
  /** the tooltip: the schema's one line of documentation (and how the page uses the option) */
  doc: string;
  main: boolean;
}

const words = (k: string): string => k.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);

/** the fields of the exposed sections, main ones first (in MAIN's order), then the others section by section */
export function fieldSpecs(options: readonly OptionDoc[]): FieldSpec[] {
  const shown = options.filter((o) => (SECTIONS as readonly string[]).includes(o.key.split('.')[0]!) && !Object.hasOwn(NOT_FIELDS, o.key));
  const specs = shown.map((o): FieldSpec => {
    const [section, leaf] = o.key.split('.') as [string, string];
    const choices = o.choices ?? (o.type === 'boolean' ? ['true', 'false'] : undefined);
    const note = PAGE_NOTES[o.key];
    return {
      key: o.key,
      id: MAIN.includes(o.key) ? leaf : `${section}-${leaf}`,
      label: words(leaf),
      section,
      kind: choices ? 'choice' : 'number',
      ...(choices ? { choices } : {}),
      ...(!choices && o.minimum !== undefined ? { min: o.minimum } : {}),
      ...(!choices && o.maximum !== undefined ? { max: o.maximum } : {}),
      ...(!choices ? { step: o.type === 'integer' ? ('1' as const) : ('any' as const) } : {}),
      ...(o.default !== undefined ? { default: String(o.default) } : {}),
      doc: note ? `${o.doc} (${note})` : o.doc,
      main: MAIN.includes(o.key),
    };
  });
  const main = MAIN.map((k) => specs.find((s) => s.key === k)).filter((s): s is FieldSpec => !!s);
  return [...main, ...specs.filter((s) => !s.main)];
}

/** tooltips of the page's controls that are not run-config options */
export const TOOLTIPS = {
  extra: 'further run-config keys as key=value, separated by spaces, e.g. task.bits=4 optimizer.clip=1',
  mode: 'episodes: batches of sequences from zero state, as onward train; stream: the sequences back to back, batch 1, each prediction made before learning from it',
  preset: 'only the presets a browser can build are listed',
} as const;
