/**
 * The playground page: the form (filled from the library's own tables, asked of a worker), one training worker per
 * learner being compared — both built from the same seed, so they start from the same weights and see the same
 * data — and the live charts: loss, metric, predictions against the target on a fresh sequence, cost per step.
 */
import { LineChart, type Series } from './chart.js';
import type { Catalogue, FromWorker, Progress, RunSpec, ToWorker } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};
const select = (id: string): HTMLSelectElement => $<HTMLSelectElement>(id);
const input = (id: string): HTMLInputElement => $<HTMLInputElement>(id);

type SlotKey = 'a' | 'b';
const COLORS: Record<SlotKey, string> = { a: '#1f6fb4', b: '#d9480f' };

interface Slot {
  key: SlotKey;
  mode: 'episodes' | 'stream';
  learner: string;
  worker: Worker;
  spec: RunSpec;
  params: number | null;
  metric: string;
  backend: string;
  last: Progress | null;
  firstEvalLoss: number | null;
  trainLoss: [number, number][];
  evalLoss: [number, number][];
  evalValue: [number, number][];
  cost: [number, number][];
  error: string | null;
  paused: boolean;
}

let catalogue: Catalogue | null = null;
const slots: Partial<Record<SlotKey, Slot>> = {};
const charts = {
  loss: new LineChart($<HTMLCanvasElement>('chart-loss'), { title: 'loss per sequence (eval: solid, training: faint)', xLabel: 'batches', logY: true }),
  metric: new LineChart($<HTMLCanvasElement>('chart-metric'), { title: 'eval metric', xLabel: 'batches' }),
  seqA: new LineChart($<HTMLCanvasElement>('chart-seq-a'), { title: 'predictions', xLabel: 'time step' }),
  seqB: new LineChart($<HTMLCanvasElement>('chart-seq-b'), { title: 'predictions (compare)', xLabel: 'time step' }),
  cost: new LineChart($<HTMLCanvasElement>('chart-cost'), { title: 'cost: µs per time step of training (a batch advancing one step)', xLabel: 'batches' }),
};
const TITLES = {
  episodes: { loss: 'loss per sequence (eval on held-out sequences: solid, training: faint)', metric: 'eval metric', cost: 'cost: µs per time step of training (a batch advancing one step)', x: 'batches' },
  stream: { loss: 'loss per sequence, each prediction made before learning from it (online)', metric: 'online metric', cost: 'cost: µs per sample (predict, learn, update)', x: 'sequences' },
};

function spawn(): Worker {
  return new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
}

const send = (w: Worker, m: ToWorker): void => w.postMessage(m);

// ---- the form, from the catalogue ----

function option(parent: HTMLSelectElement, value: string, text = value, disabled = false): void {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  o.disabled = disabled;
  parent.append(o);
}

function fillForm(c: Catalogue): void {
  const task = select('task'), model = select('model');
  for (const t of c.tasks) option(task, t.name);
  for (const m of c.models) option(model, m.name);
  task.value = c.tasks.find((t) => t.name === 'copy') ? 'copy' : c.tasks[0]!.name;
  task.addEventListener('change', () => applyTaskDefaults());
  select('mode').addEventListener('change', () => {
    input('batch').disabled = select('mode').value === 'stream';
  });
  model.addEventListener('change', () => fillLearners());
  select('learner').addEventListener('change', () => fillLearners());
  select('compare').addEventListener('change', () => describeLearners());
  applyTaskDefaults();
}

function applyTaskDefaults(): void {
  const t = catalogue!.tasks.find((x) => x.name === select('task').value)!;
  $('task-info').textContent = t.description;
  const d = t.defaults;
  if (d) {
    if (d.model) select('model').value = d.model;
    for (const k of ['hidden', 'layers', 'batch', 'lr', 'steps', 'updateEvery'] as const) {
      if (d[k] !== undefined) input(k).value = String(d[k]);
    }
  }
  fillLearners(d?.learner);
}

function fillLearners(preferred?: string): void {
  const model = select('model').value;
  const learner = select('learner'), compare = select('compare');
  const keepA = preferred ?? learner.value, keepB = compare.value;
  learner.replaceChildren();
  compare.replaceChildren();
  option(compare, '', '— none —');
  for (const l of catalogue!.learners) {
    const ok = l.models.includes(model);
    const label = ok ? l.name : `${l.name} (not for ${model})`;
    option(learner, l.name, label, !ok);
    option(compare, l.name, label, !ok);
  }
  const supported = catalogue!.learners.filter((l) => l.models.includes(model)).map((l) => l.name);
  learner.value = supported.includes(keepA) ? keepA : supported[0] ?? '';
  compare.value = supported.includes(keepB) && keepB !== learner.value ? keepB : supported.find((n) => n !== learner.value) ?? '';
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
  $('learner-info').textContent = [model && `${select('model').value}: ${model}`, info(select('learner').value), info(select('compare').value)].filter(Boolean).join(' · ');
}

/** the form as `--set` overrides */
function overrides(): Record<string, unknown> {
  const o: Record<string, unknown> = { model: select('model').value };
  for (const k of ['hidden', 'layers', 'batch', 'lr', 'updateEvery', 'steps', 'seed']) {
    const v = input(k).value.trim();
    if (v !== '') o[k] = v;
  }
  for (const pair of input('extra').value.split(/[\s,]+/).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`'more' takes key=value pairs, got '${pair}'`);
    o[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return o;
}

// ---- runs ----

function stopAll(): void {
  for (const k of ['a', 'b'] as const) {
    slots[k]?.worker.terminate();
    delete slots[k];
  }
}

function startSlot(key: SlotKey, learner: string, spec: RunSpec, paused = false): void {
  const worker = spawn();
  const slot: Slot = {
    key, mode: spec.mode ?? 'episodes', learner, worker, spec, params: null, metric: '', backend: '', last: null, firstEvalLoss: null,
    trainLoss: [], evalLoss: [], evalValue: [], cost: [], error: null, paused,
  };
  slots[key] = slot;
  worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(slot, e.data);
  worker.onerror = (e) => {
    slot.error = e.message || 'the worker failed to start';
    render();
  };
  send(worker, { type: 'start', spec: { ...spec, overrides: { ...spec.overrides, learner } }, paused });
}

function onMessage(slot: Slot, m: FromWorker): void {
  if (slots[slot.key] !== slot) return; // a message from a run that was replaced
  switch (m.type) {
    case 'started':
      slot.params = m.params;
      slot.metric = m.metric;
      slot.backend = m.backend;
      break;
    case 'progress': {
      const p = m.progress;
      slot.last = p;
      if (p.loss !== null) slot.trainLoss.push([p.step, p.loss]);
      if (p.eval) {
        slot.evalLoss.push([p.step, p.eval.loss]);
        slot.evalValue.push([p.step, p.eval.value]);
        slot.firstEvalLoss ??= p.eval.loss;
      }
      if (p.usPerStep !== null) slot.cost.push([p.step, p.usPerStep]);
      break;
    }
    case 'model':
      download(slot, m.text);
      return;
    case 'error':
      slot.error = m.message;
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
  const seed = c.overrides.seed ?? 0, batch = c.overrides.batch;
  $('cli-hint').textContent = `evaluate it from a shell: npx onward eval --model-file ${name} --task ${c.task} --preset ${c.preset} --seed ${seed}` +
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

function draw(): void {
  const active = (['a', 'b'] as const).map((k) => slots[k]).filter((s): s is Slot => !!s);
  // status and table
  const status = $('status');
  status.replaceChildren(...active.map((s) => {
    const span = document.createElement('div');
    const p = s.last;
    if (s.error) {
      span.className = 'error';
      span.textContent = `${s.learner}: ${s.error}`;
    } else {
      const state = !p ? 'starting…' : p.done ? 'done' : s.paused ? 'paused' : 'training';
      span.textContent = `${s.learner}: ${state}${p ? ` — batch ${p.step} / ${p.steps}` : ''}${s.backend ? ` on ${s.backend}` : ''}`;
    }
    return span;
  }));
  const body = $('stats').querySelector('tbody')!;
  body.replaceChildren(...active.map((s) => {
    const tr = document.createElement('tr');
    const p = s.last;
    const evalLoss = s.evalLoss.at(-1)?.[1] ?? null;
    tr.dataset.slot = s.key;
    tr.dataset.step = String(p?.step ?? 0);
    tr.dataset.done = String(p?.done ?? false);
    tr.dataset.evalLoss = String(evalLoss);
    tr.dataset.firstEvalLoss = String(s.firstEvalLoss);
    tr.dataset.evalCount = String(s.evalLoss.length);
    const cells = [
      `<span class="swatch ${s.key}"></span>`, s.learner, p ? `${p.step}` : '–', fmt(s.trainLoss.at(-1)?.[1]), fmt(evalLoss),
      `${fmt(s.evalValue.at(-1)?.[1])} ${s.metric}`, fmt(p?.usPerStep ?? null, 3), p ? bytes(p.stateBytes) : '–', s.params === null ? '–' : String(s.params),
    ];
    tr.innerHTML = cells.map((c) => `<td>${c}</td>`).join('');
    return tr;
  }));
  // curves
  const loss: Series[] = [], metric: Series[] = [], cost: Series[] = [];
  const titles = TITLES[active[0]?.mode ?? 'episodes'];
  charts.loss.setTitle(titles.loss, titles.x);
  charts.metric.setTitle(titles.metric, titles.x);
  charts.cost.setTitle(titles.cost, titles.x);
  for (const s of active) {
    const color = COLORS[s.key];
    if (s.mode === 'stream') loss.push({ label: `${s.learner} online`, color, points: s.evalLoss });
    else loss.push({ label: `${s.learner} train`, color, points: s.trainLoss, style: 'faint' }, { label: `${s.learner} eval`, color, points: s.evalLoss });
    metric.push({ label: `${s.learner} ${s.metric}`, color, points: s.evalValue });
    cost.push({ label: s.learner, color, points: s.cost });
  }
  charts.loss.draw(loss);
  charts.metric.draw(metric);
  charts.cost.draw(cost);
  drawSequence(charts.seqA, slots.a);
  drawSequence(charts.seqB, slots.b);
  const running = active.some((s) => s.last && !s.last.done && !s.error);
  $<HTMLButtonElement>('pause').disabled = !running;
  $<HTMLButtonElement>('pause').textContent = active.some((s) => s.paused) ? 'Resume' : 'Pause';
  $<HTMLButtonElement>('download-a').disabled = !slots.a?.last;
  $<HTMLButtonElement>('download-b').disabled = !slots.b?.last;
}

function drawSequence(chart: LineChart, slot: Slot | undefined): void {
  const seq = slot?.last?.sequence;
  if (!slot || !seq) {
    chart.setTitle('predictions');
    chart.draw([]);
    return;
  }
  const color = COLORS[slot.key];
  // episodes: a fresh sequence after the latest update; stream: the last sequence, predicted live before each learning step
  const which = slot.mode === 'stream' ? 'last sequence of the stream' : 'a fresh sequence';
  const at = (values: number[]): [number, number][] => values.flatMap((v, t) => (seq.mask[t] ? [[t, v] as [number, number]] : []));
  if (seq.kind === 'ce') {
    const counted = seq.confidence.filter((_, t) => seq.mask[t]);
    const mean = counted.reduce((a, b) => a + b, 0) / Math.max(1, counted.length);
    chart.setTitle(`${slot.learner}: ${which} — class${seq.groups > 1 ? ` (group 1 of ${seq.groups})` : ''}, mean p(target) ${mean.toFixed(2)}`);
    chart.draw([
      { label: 'target', color: '#999', points: at(seq.target), style: 'line' },
      { label: 'prediction', color, points: at(seq.predicted), style: 'dots' },
      ...(seq.classes === 2 ? [{ label: 'p(target)', color, points: at(seq.confidence), style: 'faint' as const }] : []),
    ]);
  } else {
    chart.setTitle(`${slot.learner}: ${which} — ${seq.outputs > 1 ? `output 1 of ${seq.outputs}` : 'output'} at scored steps`);
    chart.draw([
      { label: 'target', color: '#999', points: at(seq.target) },
      { label: 'prediction', color, points: at(seq.predicted) },
    ]);
  }
}

// ---- controls ----

function spec(): RunSpec {
  const mode = select('mode').value === 'stream' ? 'stream' : 'episodes';
  const o = overrides();
  if (mode === 'stream') delete o.batch; // a stream is batch 1
  return { mode, task: select('task').value, preset: select('preset').value as RunSpec['preset'], overrides: o };
}

function showError(message: string): void {
  const div = document.createElement('div');
  div.className = 'error';
  div.textContent = message;
  $('status').replaceChildren(div);
}

$('controls').addEventListener('submit', (e) => {
  e.preventDefault();
  try {
    const s = spec();
    stopAll();
    startSlot('a', select('learner').value, s);
    if (select('compare').value) startSlot('b', select('compare').value, s);
    render();
  } catch (err) {
    showError((err as Error).message);
  }
});

$('pause').addEventListener('click', () => {
  const resume = (['a', 'b'] as const).some((k) => slots[k]?.paused);
  for (const k of ['a', 'b'] as const) {
    const s = slots[k];
    if (!s) continue;
    s.paused = !resume;
    send(s.worker, { type: resume ? 'resume' : 'pause' });
  }
  render();
});

for (const k of ['a', 'b'] as const) {
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
    showError((err as Error).message);
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
  document.body.dataset.ready = 'true';
  draw();
};
probe.onerror = (e) => showError(`the training worker could not start: ${e.message}`);
send(probe, { type: 'catalogue' });
