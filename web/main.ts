/**
 * The playground page: the form (filled from the library's own tables, asked of a worker), one training worker per
 * learner being compared — both built from the same seed, so they start from the same weights and see the same
 * data — and the live views: loss, metric (its axis always includes the task's chance level or 0/1), the
 * per-layer cosine to BPTT's gradient, the cost per step, and inside each network the last sequence's input,
 * target and prediction, hidden states (a raster for spiking units) and the size of the learner's traces.
 * The whole form lives in the URL, so a link reproduces a run from its seed.
 */
import { ConfigError } from '../src/core/errors.js';
import { LineChart, type Series } from './chart.js';
import { fieldSpecs, TOOLTIPS, type FieldSpec } from './fields.js';
import { drawHeatmap } from './heatmap.js';
import { fromHash, toHash, type PageState } from './url.js';
import type { Catalogue, FromWorker, Progress, RunInfo, RunSpec, ToWorker } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};
const select = (id: string): HTMLSelectElement => $<HTMLSelectElement>(id);
const input = (id: string): HTMLInputElement => $<HTMLInputElement>(id);

type SlotKey = 'a' | 'b';
const KEYS: readonly SlotKey[] = ['a', 'b'];
const COLORS: Record<SlotKey, string> = { a: '#1f6fb4', b: '#d9480f' };
const LAYER_COLORS = ['#1f6fb4', '#2f9e44', '#9c36b5', '#e67700', '#0c8599', '#c2255c', '#5c940d', '#862e9c'];

interface Slot {
  key: SlotKey;
  mode: 'episodes' | 'stream';
  learner: string;
  worker: Worker;
  spec: RunSpec;
  info: RunInfo | null;
  last: Progress | null;
  /** the step reached between points (ticks) */
  step: number;
  firstEvalLoss: number | null;
  trainLoss: [number, number][];
  evalLoss: [number, number][];
  evalValue: [number, number][];
  cost: [number, number][];
  alignment: Map<string, [number, number][]>;
  error: string | null;
  paused: boolean;
  inside: InsidePanel;
}

let catalogue: Catalogue | null = null;
/** the hyper-parameter fields, made from the catalogue's options (the run config's schemas) */
let fields: FieldSpec[] = [];
const slots: Partial<Record<SlotKey, Slot>> = {};
const charts = {
  loss: new LineChart($('chart-loss'), { title: 'loss per sequence', xLabel: 'batches', logY: true }),
  metric: new LineChart($('chart-metric'), { title: 'eval metric', xLabel: 'batches' }),
  align: new LineChart($('chart-align'), { title: 'cosine to BPTT', xLabel: 'batches', include: [0, 1] }),
  cost: new LineChart($('chart-cost'), { title: 'cost', xLabel: 'batches', height: 160 }),
};
const TITLES = {
  episodes: {
    loss: 'loss per sequence (eval on held-out sequences: solid; training: faint)',
    metric: 'eval metric',
    cost: 'µs per time step of training (a batch advancing one step)',
    x: 'batches',
  },
  stream: {
    loss: 'loss per sequence, each prediction made before learning from it',
    metric: 'online metric',
    cost: 'µs per sample (predict, learn, update)',
    x: 'sequences',
  },
};

function spawn(): Worker {
  return new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
}

const send = (w: Worker, m: ToWorker): void => w.postMessage(m);

// ---- the form, from the catalogue ----

/** one field's label and control: a number input with the schema's range, or a choice (blank: the preset's value) */
function fieldElement(f: FieldSpec): HTMLLabelElement {
  const label = document.createElement('label');
  label.title = `${f.key}: ${f.doc}${f.default !== undefined ? ` (default ${f.default})` : ''}`;
  label.dataset.key = f.key;
  label.append(`${f.label} `);
  if (f.kind === 'choice') {
    const el = document.createElement('select');
    el.id = f.id;
    option(el, '', '');
    for (const c of f.choices ?? []) option(el, c);
    label.append(el);
  } else {
    const el = document.createElement('input');
    el.id = f.id;
    el.type = 'number';
    el.step = f.step ?? 'any';
    if (f.min !== undefined) el.min = String(f.min);
    if (f.max !== undefined) el.max = String(f.max);
    label.append(el);
  }
  return label;
}

function buildFields(c: Catalogue): void {
  fields = fieldSpecs(c.options);
  const extra = input('extra').closest('label')!;
  for (const f of fields.filter((x) => x.main)) extra.before(fieldElement(f));
  const more = $('fields-more');
  let section = '';
  for (const f of fields.filter((x) => !x.main)) {
    if (f.section !== section) {
      section = f.section;
      more.append(Object.assign(document.createElement('h4'), { textContent: section }));
    }
    more.append(fieldElement(f));
  }
}

const field = (f: FieldSpec): HTMLInputElement | HTMLSelectElement => $<HTMLInputElement | HTMLSelectElement>(f.id);

function option(parent: HTMLSelectElement, value: string, text = value, disabled = false, title = ''): void {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  o.disabled = disabled;
  if (title) o.title = title;
  parent.append(o);
}

function fillForm(c: Catalogue): void {
  const task = select('task'),
    model = select('model');
  buildFields(c);
  for (const t of c.tasks) option(task, t.name);
  for (const m of c.models) option(model, m.name, m.spiking ? `${m.name} (spiking)` : m.name);
  task.value = c.tasks.find((t) => t.name === 'copy') ? 'copy' : c.tasks[0]!.name;
  task.addEventListener('change', () => applyTaskDefaults());
  select('mode').addEventListener('change', () => {
    input('batch').disabled = select('mode').value === 'stream';
  });
  model.addEventListener('change', () => fillLearners());
  select('learner').addEventListener('change', () => fillLearners());
  select('compare').addEventListener('change', () => describeLearners());
  const presetDoc = c.options.find((o) => o.key === 'task.preset')?.doc ?? '';
  $('extra').closest('label')!.title = TOOLTIPS.extra;
  $('mode').closest('label')!.title = TOOLTIPS.mode;
  $('preset').closest('label')!.title = `${presetDoc} (${TOOLTIPS.preset})`;
  applyTaskDefaults();
}

function applyTaskDefaults(): void {
  const t = catalogue!.tasks.find((x) => x.name === select('task').value)!;
  $('task-info').textContent = t.description;
  const preset = select('preset'),
    keep = preset.value;
  preset.replaceChildren();
  for (const p of t.presets) option(preset, p);
  preset.value = t.presets.includes(keep as never) ? keep : (t.presets[0] ?? '');
  const d = t.defaults;
  if (d) {
    if (d['model.name'] !== undefined) select('model').value = String(d['model.name']);
    for (const f of fields) {
      const v = d[f.key];
      const el = field(f);
      // the main fields hold the preset's values; the others show them, blank meaning "the preset's"
      if (f.main && f.key !== 'train.seed') el.value = v === undefined ? '' : String(v);
      else if (el instanceof HTMLInputElement) el.placeholder = v === undefined ? '' : String(v);
      else el.options[0]!.textContent = v === undefined ? '' : `(${String(v)})`;
    }
  }
  fillLearners(d?.['learner.name'] === undefined ? undefined : String(d['learner.name']));
}

function fillLearners(preferred?: string): void {
  const model = select('model').value;
  const learner = select('learner'),
    compare = select('compare');
  const keepA = preferred ?? learner.value,
    keepB = compare.value;
  learner.replaceChildren();
  compare.replaceChildren();
  option(compare, '', '— none —');
  for (const l of catalogue!.learners) {
    const ok = l.models.includes(model);
    const label = ok ? l.name : `${l.name} (not for ${model})`;
    // the table's reason a learner refuses this model, as the option's tooltip
    const why = ok ? l.description : (l.refusals[model] ?? `${l.name} does not run on ${model}`);
    option(learner, l.name, label, !ok, why);
    option(compare, l.name, label, !ok, why);
  }
  const supported = catalogue!.learners.filter((l) => l.models.includes(model)).map((l) => l.name);
  learner.value = supported.includes(keepA) ? keepA : (supported[0] ?? '');
  compare.value = supported.includes(keepB) && keepB !== learner.value ? keepB : (supported.find((n) => n !== learner.value) ?? '');
  const modelInfo = catalogue!.models.find((m) => m.name === model);
  $('learner-info').dataset.model = modelInfo?.description ?? '';
  describeLearners();
}

function describeLearners(): void {
  const info = (name: string): string => {
    const l = catalogue!.learners.find((x) => x.name === name);
    return l ? `${l.name}${l.exact ? ' (exact)' : ''}: ${l.description}` : '';
  };
  const model = $('learner-info').dataset.model ?? '';
  $('learner-info').textContent = [
    model && `${select('model').value}: ${model}`,
    info(select('learner').value),
    info(select('compare').value),
  ]
    .filter(Boolean)
    .join(' · ');
}

/** the form as a page state (what the URL holds) */
function pageState(): PageState {
  const values: PageState['fields'] = {};
  for (const f of fields) values[f.id] = field(f).value.trim();
  return {
    task: select('task').value,
    preset: select('preset').value,
    mode: select('mode').value,
    model: select('model').value,
    learner: select('learner').value,
    compare: select('compare').value,
    fields: values,
    extra: input('extra').value,
  };
}

/** a page state into the form, in the order the form's own defaults follow (task first, then model, learners, fields) */
function applyState(s: PageState): void {
  const known = (id: string, v: string): boolean => Array.from(select(id).options).some((o) => o.value === v && !o.disabled);
  if (!known('task', s.task))
    throw new ConfigError(`the link names the task '${s.task}', which this playground does not have; pick a task from the list`);
  select('task').value = s.task;
  applyTaskDefaults();
  if (known('preset', s.preset)) select('preset').value = s.preset;
  select('mode').value = s.mode === 'stream' ? 'stream' : 'episodes';
  input('batch').disabled = s.mode === 'stream';
  if (s.model && known('model', s.model)) {
    select('model').value = s.model;
    fillLearners(s.learner);
  }
  if (known('learner', s.learner)) select('learner').value = s.learner;
  select('compare').value = s.compare && known('compare', s.compare) ? s.compare : '';
  describeLearners();
  for (const [id, v] of Object.entries(s.fields)) {
    const f = fields.find((x) => x.id === id);
    if (!f) throw new ConfigError(`the link sets '${id}', which is no field of this playground; give it under "more" as key=value`);
    field(f).value = v;
  }
  input('extra').value = s.extra;
}

/** the form as `--set` overrides */
function overrides(): Record<string, unknown> {
  const o: Record<string, unknown> = { model: select('model').value };
  for (const f of fields) {
    const v = field(f).value.trim();
    if (v !== '') o[f.key] = v;
  }
  for (const pair of input('extra')
    .value.split(/[\s,]+/)
    .filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(`'more' takes key=value pairs separated by spaces (e.g. optimizer.clip=1), got '${pair}'`);
    o[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return o;
}

// ---- runs ----

function stopAll(): void {
  for (const k of KEYS) {
    slots[k]?.worker.terminate();
    delete slots[k];
  }
}

function startSlot(key: SlotKey, learner: string, spec: RunSpec, paused = false): void {
  slots[key]?.worker.terminate();
  const worker = spawn();
  const slot: Slot = {
    key,
    mode: spec.mode ?? 'episodes',
    learner,
    worker,
    spec,
    info: null,
    last: null,
    step: 0,
    firstEvalLoss: null,
    trainLoss: [],
    evalLoss: [],
    evalValue: [],
    cost: [],
    alignment: new Map(),
    error: null,
    paused,
    inside: new InsidePanel($(`inside-${key}`), key),
  };
  slots[key] = slot;
  worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(slot, e.data);
  worker.onerror = (e) => {
    slot.error = `the training worker failed: ${e.message || 'it could not start'}`;
    render();
  };
  send(worker, { type: 'start', spec: { ...spec, overrides: { ...spec.overrides, learner } }, paused });
}

function onMessage(slot: Slot, m: FromWorker): void {
  if (slots[slot.key] !== slot) return; // a message from a run that was replaced
  switch (m.type) {
    case 'started': {
      const { type: _type, ...info } = m;
      slot.info = info;
      break;
    }
    case 'progress': {
      const p = m.progress;
      slot.last = p;
      slot.step = p.step;
      if (p.loss !== null) slot.trainLoss.push([p.step, p.loss]);
      if (p.eval) {
        slot.evalLoss.push([p.step, p.eval.loss]);
        slot.evalValue.push([p.step, p.eval.value]);
        slot.firstEvalLoss ??= p.eval.loss;
      }
      if (p.usPerStep !== null) slot.cost.push([p.step, p.usPerStep]);
      for (const a of p.alignment ?? []) {
        const list = slot.alignment.get(a.layer) ?? [];
        list.push([p.step, a.cosine]);
        slot.alignment.set(a.layer, list);
      }
      break;
    }
    case 'tick':
      slot.step = m.step;
      break;
    case 'model':
      download(slot, m.text);
      return;
    case 'error':
      slot.error = `${m.name}: ${m.message}`;
      break;
    case 'catalogue':
      return;
  }
  render();
}

function download(slot: Slot, text: string): void {
  const c = slot.spec;
  const name = `onward-${c.task}-${String(c.overrides.model)}-${slot.learner}.json`;
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  const seed = c.overrides['train.seed'] ?? 0,
    batch = c.overrides['train.batch'];
  $('cli-hint').textContent =
    `evaluate it from a shell: npx onward eval --model-file ${name} --task ${c.task} --preset ${c.preset} --seed ${seed}` +
    (batch !== undefined ? ` --batch ${batch}` : '');
}

// ---- drawing ----

let frame = 0;
function render(): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    draw();
  });
}

function fmt(v: number | null | undefined, digits = 4): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : Number(v.toPrecision(digits)).toString();
}

function bytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

const unit = (s: Slot): string => (s.mode === 'stream' ? 'sequence' : 'batch');

function draw(): void {
  const active = KEYS.map((k) => slots[k]).filter((s): s is Slot => !!s);
  drawStatus(active);
  drawTable(active);
  drawCharts(active);
  for (const k of KEYS) {
    const s = slots[k];
    if (s) s.inside.draw(s);
    else $(`inside-${k}`).replaceChildren();
  }
  const running = active.some((s) => s.last && !s.last.done && !s.error);
  $<HTMLButtonElement>('pause').disabled = !running;
  $<HTMLButtonElement>('pause').textContent = active.some((s) => s.paused) ? 'Resume' : 'Pause';
  $<HTMLButtonElement>('step').disabled = !running;
  $<HTMLButtonElement>('reset').disabled = active.length === 0 || active.some((s) => s.spec.modelText !== undefined);
  $<HTMLButtonElement>('download-a').disabled = !slots.a?.last;
  $<HTMLButtonElement>('download-b').disabled = !slots.b?.last;
}

function drawStatus(active: Slot[]): void {
  // the same error from both learners (a typo in the shared settings) is said once, for both
  const shown = new Set<string>();
  $('status').replaceChildren(
    ...active.flatMap((s) => {
      const div = document.createElement('div');
      const p = s.last;
      if (s.error) {
        if (shown.has(s.error)) return [];
        shown.add(s.error);
        div.className = 'error';
        div.textContent = `${active
          .filter((o) => o.error === s.error)
          .map((o) => o.learner)
          .join(', ')}: ${s.error}`;
      } else {
        const state = !p ? 'starting…' : p.diverged ? 'diverged' : p.done ? 'done' : s.paused ? 'paused' : 'training';
        div.textContent = `${s.learner}: ${state}${p ? ` — ${unit(s)} ${s.step} / ${p.steps}` : ''}${s.info ? ` on ${s.info.backend}` : ''}`;
      }
      return [div];
    }),
  );
  const diverged = active.filter((s) => s.last?.diverged);
  const warning = $('warning');
  warning.hidden = diverged.length === 0;
  warning.replaceChildren(
    ...diverged.map((s) => {
      const d = s.last!.diverged!;
      const div = document.createElement('div');
      div.dataset.slot = s.key;
      div.dataset.step = String(d.step);
      div.textContent =
        `${s.learner} diverged at ${unit(s)} ${d.step}: ${d.what}. Training stopped there; lower the learning rate ` +
        `(now ${String(s.spec.overrides['optimizer.lr'] ?? "the preset's")}) or set clip under "all options", and train again.`;
      return div;
    }),
  );
}

function drawTable(active: Slot[]): void {
  const body = $('stats').querySelector('tbody')!;
  body.replaceChildren(
    ...active.map((s) => {
      const tr = document.createElement('tr');
      const p = s.last;
      const evalLoss = s.evalLoss.at(-1)?.[1] ?? null,
        value = s.evalValue.at(-1)?.[1] ?? null;
      const cos = s.alignment.get('all')?.at(-1)?.[1] ?? null;
      Object.assign(tr.dataset, {
        slot: s.key,
        step: String(p?.step ?? 0),
        done: String(p?.done ?? false),
        evalLoss: String(evalLoss),
        firstEvalLoss: String(s.firstEvalLoss),
        evalCount: String(s.evalLoss.length),
        value: String(value),
        metric: s.info?.metric ?? '',
        diverged: String(p?.diverged?.step ?? ''),
      });
      const cells = [
        `<span class="swatch ${s.key}"></span>`,
        s.learner,
        `${s.step}`,
        fmt(s.trainLoss.at(-1)?.[1]),
        fmt(evalLoss),
        `${fmt(value)} ${s.info?.metric ?? ''}`,
        s.learner === 'bptt' ? 'reference' : fmt(cos, 3),
        fmt(p?.usPerStep ?? null, 3),
        p ? bytes(p.stateBytes) : '–',
        s.info ? String(s.info.params) : '–',
      ];
      tr.innerHTML = cells.map((c) => `<td>${c}</td>`).join('');
      return tr;
    }),
  );
}

function drawCharts(active: Slot[]): void {
  const loss: Series[] = [],
    metric: Series[] = [],
    cost: Series[] = [],
    align: Series[] = [];
  const first = active[0];
  const titles = TITLES[first?.mode ?? 'episodes'];
  const info = first?.info;
  const metricName = info?.metric ?? '';
  const reference = info
    ? info.higherIsBetter
      ? `chance ${fmt(info.reference, 3)}`
      : info.metric === 'nrmse'
        ? '1: predicting the mean'
        : '0: exact'
    : '';
  charts.loss.setTitle(titles.loss, titles.x);
  charts.metric.setTitle(`${titles.metric}${metricName ? `: ${metricName.replace('_', ' ')} (${reference})` : ''}`, titles.x);
  charts.metric.setInclude(info ? (info.higherIsBetter ? [info.reference, 1] : [0, info.reference]) : undefined);
  charts.cost.setTitle(titles.cost, titles.x);
  charts.align.setTitle(
    `cosine of each layer's gradient to BPTT's on the same batch (1: exact${active.some((s) => s.learner === 'bptt') ? '; bptt is the reference' : ''})`,
    titles.x,
  );
  for (const s of active) {
    const color = COLORS[s.key];
    if (s.mode === 'stream') loss.push({ label: `${s.learner} online`, color, points: s.evalLoss });
    else
      loss.push(
        { label: `${s.learner} train`, color, points: s.trainLoss, style: 'faint' },
        { label: `${s.learner} eval`, color, points: s.evalLoss },
      );
    metric.push({ label: `${s.learner}`, color, points: s.evalValue });
    cost.push({ label: s.learner, color, points: s.cost });
    let i = 0;
    for (const [layer, points] of s.alignment) {
      align.push({
        label: `${s.learner} ${layer}`,
        color: layer === 'all' ? '#222' : LAYER_COLORS[i++ % LAYER_COLORS.length]!,
        points,
        dash: s.key === 'b' ? [5, 4] : undefined,
      });
    }
  }
  charts.loss.draw(loss);
  charts.metric.draw(metric);
  charts.cost.draw(cost);
  charts.align.draw(align);
}

/** one learner's look inside: input, target and prediction, hidden states per layer, trace sizes */
class InsidePanel {
  private readonly title = document.createElement('h3');
  private readonly inputCaption = document.createElement('div');
  private readonly inputCanvas = document.createElement('canvas');
  private readonly seqBox = document.createElement('div');
  private readonly seq: LineChart;
  private readonly layersBox = document.createElement('div');
  private readonly align = document.createElement('div');
  private readonly traces = document.createElement('div');

  constructor(
    readonly root: HTMLElement,
    readonly key: SlotKey,
  ) {
    this.inputCaption.className = 'caption';
    this.inputCanvas.className = 'heat input';
    this.seqBox.className = 'chart seq';
    this.traces.className = 'traces';
    this.align.className = 'align';
    root.replaceChildren(this.title, this.inputCaption, this.inputCanvas, this.seqBox, this.layersBox, this.align, this.traces);
    this.seq = new LineChart(this.seqBox, { title: 'target and prediction', xLabel: 'time step', height: 170 });
  }

  draw(s: Slot): void {
    const p = s.last;
    const which =
      s.mode === 'stream'
        ? 'the last sequence of the stream, predicted before learning from it'
        : 'a fresh sequence, after the latest update';
    this.title.innerHTML = `<span class="swatch ${this.key}"></span> ${s.learner}: ${which}`;
    if (!p) return;
    const seq = p.sequence,
      T = seq.target.length;
    const width = seq.input[0]?.length ?? 0;
    this.inputCaption.textContent = `input x_t: ${width} feature${width === 1 ? '' : 's'} (rows) × ${T} time steps; marks above: scored steps`;
    drawHeatmap(this.inputCanvas, seq.input, { marks: seq.mask });
    const scored = (values: number[]): [number, number][] => values.flatMap((v, t) => (seq.mask[t] ? [[t, v] as [number, number]] : []));
    const all = (values: number[]): [number, number][] => values.map((v, t) => [t, v] as [number, number]);
    const color = COLORS[this.key];
    if (seq.kind === 'ce') {
      const counted = seq.confidence.filter((_, t) => seq.mask[t]);
      const mean = counted.reduce((a, b) => a + b, 0) / Math.max(1, counted.length);
      this.seq.setTitle(
        `class${seq.groups > 1 ? ` (group 1 of ${seq.groups})` : ''}: target (grey) at scored steps, prediction at every step; mean p(target) ${mean.toFixed(2)}`,
      );
      this.seq.draw([
        { label: 'target', color: '#bbb', points: scored(seq.target), style: 'dots', size: 11 },
        { label: 'predicted', color, points: all(seq.predicted), style: 'dots' },
      ]);
    } else {
      this.seq.setTitle(`${seq.outputs > 1 ? `output 1 of ${seq.outputs}` : 'output'}: target at scored steps, prediction at every step`);
      this.seq.draw([
        { label: 'target', color: '#999', points: scored(seq.target), style: scored(seq.target).length > T / 2 ? 'line' : 'dots', size: 9 },
        { label: 'prediction', color, points: all(seq.predicted) },
      ]);
    }
    const spiking = p.inside.spiking;
    const rows = p.inside.layers.map((layer) => {
      const caption = document.createElement('div');
      caption.className = 'caption';
      const canvas = document.createElement('canvas');
      canvas.className = `heat hidden${spiking ? ' raster' : ''}`;
      canvas.dataset.layer = layer.name;
      const box = document.createElement('div');
      box.append(caption, canvas);
      return { box, caption, canvas, layer };
    });
    this.layersBox.replaceChildren(...rows.map((r) => r.box));
    for (const r of rows) {
      const max = drawHeatmap(r.canvas, r.layer.values, { raster: spiking });
      const shown = r.layer.units < r.layer.total ? `${r.layer.units} of ${r.layer.total}` : `${r.layer.total}`;
      r.caption.textContent = spiking
        ? `${r.layer.name}: spikes of ${shown} units over time (${r.canvas.dataset.spikes} in this sequence)`
        : `${r.layer.name}: outputs of ${shown} units over time (blue −${fmt(max, 2)} … red +${fmt(max, 2)})`;
    }
    const a = p.alignment ?? [];
    this.align.replaceChildren(
      ...(a.length === 0
        ? []
        : [
            Object.assign(document.createElement('div'), {
              className: 'caption',
              textContent: `per layer, ${s.learner}'s gradient against BPTT's on the same batch: cosine (1: same direction) and size ‖g‖ / ‖g_BPTT‖`,
            }),
            ...a.map((x) => {
              const row = document.createElement('div');
              row.className = 'bar';
              row.dataset.layer = x.layer;
              row.innerHTML = `<span>${x.layer}</span><i style="width:${(100 * Math.max(0, Math.min(1, x.cosine))).toFixed(1)}%"></i><b>${fmt(x.cosine, 3)} · ×${fmt(x.normRatio, 3)}</b>`;
              return row;
            }),
          ]),
    );
    const t = p.inside.traces;
    const maxRms = Math.max(1e-300, ...t.map((x) => x.rms));
    this.traces.replaceChildren(
      Object.assign(document.createElement('div'), {
        className: 'caption',
        textContent:
          t.length === 0
            ? `${s.learner} carries no traces: it stores the window of activations it sweeps back over (${bytes(p.stateBytes)} at most)`
            : `what ${s.learner} carries from step to step (influence matrices or eligibility traces): RMS of each array`,
      }),
      ...t.map((x) => {
        const row = document.createElement('div');
        row.className = 'bar';
        row.innerHTML = `<span>${x.label} (${x.numbers})</span><i style="width:${((100 * x.rms) / maxRms).toFixed(1)}%"></i><b>${fmt(x.rms, 3)}</b>`;
        return row;
      }),
    );
  }
}

// ---- controls ----

function spec(): RunSpec {
  const mode = select('mode').value === 'stream' ? 'stream' : 'episodes';
  const o = overrides();
  if (mode === 'stream') delete o['train.batch']; // a stream is batch 1
  return { mode, task: select('task').value, preset: select('preset').value as RunSpec['preset'], overrides: o };
}

function showError(message: string): void {
  const div = document.createElement('div');
  div.className = 'error';
  div.textContent = message;
  $('status').replaceChildren(div);
}

function train(): void {
  try {
    const s = spec();
    history.replaceState(null, '', toHash(pageState()));
    $('cli-hint').textContent = ''; // it named the previous run's model file
    stopAll();
    startSlot('a', select('learner').value, s);
    if (select('compare').value) startSlot('b', select('compare').value, s);
    render();
  } catch (err) {
    showError(`Error: ${(err as Error).message}`);
  }
}

$('controls').addEventListener('submit', (e) => {
  e.preventDefault();
  train();
});

$('pause').addEventListener('click', () => {
  const resume = KEYS.some((k) => slots[k]?.paused);
  for (const k of KEYS) {
    const s = slots[k];
    if (!s) continue;
    s.paused = !resume;
    send(s.worker, { type: resume ? 'resume' : 'pause' });
  }
  render();
});

$('step').addEventListener('click', () => {
  for (const k of KEYS) {
    const s = slots[k];
    if (!s) continue;
    if (!s.paused) send(s.worker, { type: 'pause' });
    s.paused = true;
    send(s.worker, { type: 'step' });
  }
  render();
});

$('reset').addEventListener('click', () => {
  // the same runs again from their seed: fresh weights, the same data, paused at step 0 (Step or Resume go on)
  for (const k of KEYS) {
    const s = slots[k];
    if (s) startSlot(k, s.learner, s.spec, true);
  }
  render();
});

for (const k of KEYS) {
  $(`download-${k}`).addEventListener('click', () => {
    const s = slots[k];
    if (s) send(s.worker, { type: 'model' });
  });
}

input('load').addEventListener('change', async () => {
  const file = input('load').files?.[0];
  if (!file) return;
  try {
    const text = await file.text();
    stopAll();
    // the loaded weights are evaluated at once; Resume trains on from them
    startSlot('a', select('learner').value, { ...spec(), modelText: text, modelName: file.name }, true);
    render();
  } catch (err) {
    showError(`Error: ${(err as Error).message}`);
  }
  input('load').value = '';
});

// the catalogue comes from the library's tables, asked of a worker (the page itself bundles no library code)
const probe = spawn();
probe.onmessage = (e: MessageEvent<FromWorker>) => {
  if (e.data.type !== 'catalogue') return;
  catalogue = e.data.catalogue;
  probe.terminate();
  fillForm(catalogue);
  const linked = fromHash(location.hash);
  if (linked) {
    try {
      applyState(linked);
      train(); // a link reproduces its run
    } catch (err) {
      showError(`Error: ${(err as Error).message}`);
    }
  }
  document.body.dataset.ready = 'true';
  draw();
};
probe.onerror = (e) => showError(`the training worker could not start: ${e.message}`);
send(probe, { type: 'catalogue' });
