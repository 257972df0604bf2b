/**
 * The page's whole state in the URL (after #, as query parameters), so a link reproduces a run: the task, preset,
 * mode, unit model, the two learners, every hyper-parameter field that is filled (by its id, fields.ts) and the
 * extra `--set` pairs. Opening such a link fills the form and starts the run; with the same seed it trains to the
 * same numbers.
 */

export interface PageState {
  task: string;
  preset: string;
  mode: string;
  model: string;
  learner: string;
  compare: string;
  /** field id → value, in the form's order */
  fields: Record<string, string>;
  extra: string;
}

/** the parameters that are not fields */
const FIXED: readonly string[] = ['task', 'preset', 'mode', 'model', 'learner', 'compare', 'set'];

export function toHash(s: PageState): string {
  const q = new URLSearchParams({ task: s.task, preset: s.preset, mode: s.mode, model: s.model, learner: s.learner, compare: s.compare });
  for (const [k, v] of Object.entries(s.fields)) if (v !== '' && !FIXED.includes(k)) q.set(k, v);
  if (s.extra.trim()) q.set('set', s.extra.trim());
  return `#${q.toString()}`;
}

/** the state in a hash, or null when it holds none */
export function fromHash(hash: string): PageState | null {
  const q = new URLSearchParams(hash.replace(/^#/, ''));
  const task = q.get('task');
  if (!task) return null;
  const fields: PageState['fields'] = {};
  for (const [k, v] of q) if (!FIXED.includes(k)) fields[k] = v;
  return {
    task,
    preset: q.get('preset') ?? 'ci',
    mode: q.get('mode') ?? 'episodes',
    model: q.get('model') ?? '',
    learner: q.get('learner') ?? '',
    compare: q.get('compare') ?? '',
    fields,
    extra: q.get('set') ?? '',
  };
}
