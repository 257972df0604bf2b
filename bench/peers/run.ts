/**
 * `npm run bench:peers`: onward and its PyTorch peers (bench/peers/torch_peers.py) side by side, in one run on
 * this machine: per case onward's step is timed, then the peer's, so both see the same load. Writes
 * bench/results/peers/records.json and report.md (a ratio table with the targets of DESIGN §9) and copies the
 * table into README.md between <!-- peers:start --> and <!-- peers:end -->.
 *
 *   npm run bench:peers [-- --only ID,ID] [--no-readme]
 *
 * The peer runs on one thread with the BLAS torch finds (each record names the library); without python3 and
 * torch the peer columns say so and the ratios are left out.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLearnerPerf } from '../../src/perf/learners.js';
import { nativeAvailable } from '../../src/backend/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PYTHON = process.env.ONWARD_PYTHON ?? '/usr/bin/python3';

interface PeerCase {
  id: string;
  label: string;
  /** onward: the learner's step ('inference' = the model's forward step alone) */
  onward: { model: 'gru' | 'rnn' | 'lru'; hidden: number; B: number; T: number; learner: string; inference?: boolean; threads?: number; backend?: 'wasm' | 'native' };
  peer: { case: string; B: number; n: number; T: number };
  /** the largest onward ÷ PyTorch time ratio DESIGN §9 allows, and why this one */
  target?: { ratio: number; why: string };
}

const small = { ratio: 0.5, why: 'B = 1 or n ≤ 128: ≤ 0.5×' };
export const peerCases: PeerCase[] = [
  { id: 'bptt-b1-fused', label: 'GRU BPTT, B=1, n=64 (fused nn.GRU)', onward: { model: 'gru', hidden: 64, B: 1, T: 100, learner: 'bptt' }, peer: { case: 'gru-bptt-fused', B: 1, n: 64, T: 100 }, target: small },
  { id: 'bptt-b1-cell', label: 'GRU BPTT, B=1, n=64 (GRUCell loop)', onward: { model: 'gru', hidden: 64, B: 1, T: 100, learner: 'bptt' }, peer: { case: 'gru-bptt-cell', B: 1, n: 64, T: 100 }, target: small },
  { id: 'bptt-b16-fused', label: 'GRU BPTT, B=16, n=256 (fused nn.GRU)', onward: { model: 'gru', hidden: 256, B: 16, T: 100, learner: 'bptt', threads: 2 }, peer: { case: 'gru-bptt-fused', B: 16, n: 256, T: 100 }, target: { ratio: 1, why: 'B = 16, n = 256: ≤ 1×' } },
  { id: 'bptt-b16-cell', label: 'GRU BPTT, B=16, n=256 (GRUCell loop)', onward: { model: 'gru', hidden: 256, B: 16, T: 100, learner: 'bptt', threads: 2 }, peer: { case: 'gru-bptt-cell', B: 16, n: 256, T: 100 }, target: { ratio: 1, why: 'B = 16, n = 256: ≤ 1×' } },
  { id: 'bptt-b16-native', label: 'GRU BPTT, B=16, n=256 (fused nn.GRU)', onward: { model: 'gru', hidden: 256, B: 16, T: 100, learner: 'bptt', backend: 'native' }, peer: { case: 'gru-bptt-fused', B: 16, n: 256, T: 100 }, target: { ratio: 1, why: 'B = 16, n = 256: ≤ 1×' } },
  { id: 'bptt-b16-n1024', label: 'GRU BPTT, B=16, n=1024 (fused nn.GRU)', onward: { model: 'gru', hidden: 1024, B: 16, T: 20, learner: 'bptt', threads: 2 }, peer: { case: 'gru-bptt-fused', B: 16, n: 1024, T: 20 } },
  { id: 'bptt-n1024-native', label: 'GRU BPTT, B=16, n=1024 (fused nn.GRU)', onward: { model: 'gru', hidden: 1024, B: 16, T: 20, learner: 'bptt', backend: 'native' }, peer: { case: 'gru-bptt-fused', B: 16, n: 1024, T: 20 }, target: { ratio: 1, why: 'n = 1024: ≤ 1× with the native backend' } },
  { id: 'infer-b16', label: 'GRU inference, B=16, n=256 (GRUCell, no_grad)', onward: { model: 'gru', hidden: 256, B: 16, T: 100, learner: 'bptt', inference: true }, peer: { case: 'gru-inference', B: 16, n: 256, T: 100 }, target: { ratio: 1, why: 'B = 16, n = 256: ≤ 1×' } },
  { id: 'infer-b16-native', label: 'GRU inference, B=16, n=256 (GRUCell, no_grad)', onward: { model: 'gru', hidden: 256, B: 16, T: 100, learner: 'bptt', inference: true, backend: 'native' }, peer: { case: 'gru-inference', B: 16, n: 256, T: 100 }, target: { ratio: 1, why: 'B = 16, n = 256: ≤ 1×' } },
  { id: 'eprop-b1', label: 'e-prop, GRU, B=1, n=128', onward: { model: 'gru', hidden: 128, B: 1, T: 100, learner: 'eprop' }, peer: { case: 'eprop-gru', B: 1, n: 128, T: 100 }, target: small },
  { id: 'eprop-b16', label: 'e-prop, GRU, B=16, n=256', onward: { model: 'gru', hidden: 256, B: 16, T: 50, learner: 'eprop' }, peer: { case: 'eprop-gru', B: 16, n: 256, T: 50 } },
  { id: 'lru-b1', label: 'online LRU, copy paper model, B=1', onward: { model: 'lru', hidden: 128, B: 1, T: 48, learner: 'online-lru' }, peer: { case: 'online-lru', B: 1, n: 128, T: 48 }, target: small },
  { id: 'lru-b50', label: 'online LRU, copy paper model, B=50', onward: { model: 'lru', hidden: 128, B: 50, T: 48, learner: 'online-lru', threads: 2 }, peer: { case: 'online-lru', B: 50, n: 128, T: 48 }, target: { ratio: 1, why: 'online LRU, B = 50: ≤ 1×' } },
  { id: 'tanp-b1', label: 'TANP, RNN, B=1, n=128', onward: { model: 'rnn', hidden: 128, B: 1, T: 200, learner: 'tanp' }, peer: { case: 'tanp-rnn', B: 1, n: 128, T: 200 }, target: small },
];

export interface PeerRecord {
  id: string;
  label: string;
  onwardUs: number;
  torchUs: number | null;
  ratio: number | null;
  target: number | null;
  met: boolean | null;
  torch: string | null;
  blas: string[];
  load: number;
  /** onward's threads (the inference row and PyTorch: one) */
  threads: number;
  /** onward's backend: 'wasm', or 'native' (wasm with OpenBLAS's matrix products and fused cells) */
  backend: 'wasm' | 'native';
}

function onwardUs(c: PeerCase): number {
  const o = c.onward;
  const lru = o.model === 'lru' ? { layers: 4, stateSize: 64, inputSize: 8, outputSize: 14 } : { layers: 1, inputSize: 8, outputSize: 8 };
  const [r] = runLearnerPerf({ model: o.model, hidden: o.hidden, B: [o.B], T: [o.T], learners: [o.learner], threads: o.threads ?? 1, backend: o.backend ?? 'wasm', ...lru });
  return o.inference ? r!.inferenceUsPerStep : r!.usPerStep;
}

function peerRun(c: PeerCase): { us: number; torch: string; blas: string[] } | { error: string } {
  const p = c.peer;
  const res = spawnSync(PYTHON, [join(root, 'bench', 'peers', 'torch_peers.py'), '--case', p.case, '--B', String(p.B), '--n', String(p.n), '--T', String(p.T)],
    { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } });
  if (res.error || res.status !== 0) return { error: (res.error?.message ?? res.stderr.trim().split('\n').pop() ?? 'failed').slice(0, 200) };
  const rec = JSON.parse(res.stdout.trim().split('\n').pop()!) as { usPerStep: number; torch: string; blas: string[] };
  return { us: rec.usPerStep, torch: rec.torch, blas: rec.blas };
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function peerTable(records: PeerRecord[]): string {
  const lines = ['| case | onward µs/step | PyTorch µs/step | onward ÷ PyTorch | target | |', '|---|---:|---:|---:|---:|---|'];
  for (const r of records) {
    const how = [r.backend === 'native' ? 'native backend' : '', r.threads > 1 ? `${r.threads} threads` : ''].filter(Boolean).join(', ');
    lines.push(`| ${r.label}${how ? `, onward ${how}` : ''} | ${fmt(r.onwardUs)} | ${r.torchUs === null ? 'n/a' : fmt(r.torchUs)} | ${r.ratio === null ? '-' : `${r.ratio.toFixed(2)}×`} | ` +
      `${r.target === null ? '-' : `≤ ${r.target}×`} | ${r.met === null ? '' : r.met ? 'met' : '**missed**'} |`);
  }
  return lines.join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? new Set(args[args.indexOf('--only') + 1]!.split(',')) : null;
  const cases = peerCases.filter((c) => !only || only.has(c.id));
  const records: PeerRecord[] = [];
  let torch: string | null = null, blas: string[] = [];
  const native = nativeAvailable();
  for (const c of cases) {
    if (c.onward.backend === 'native' && !native) {
      console.error(`  ${c.id}: skipped (the native backend needs koffi and libopenblas0-pthread)`);
      continue;
    }
    const load = loadavg()[0]!;
    const us = onwardUs(c);
    const peer = peerRun(c);
    const torchUs = 'us' in peer ? peer.us : null;
    if ('us' in peer) { torch = peer.torch; blas = peer.blas; }
    const ratio = torchUs === null ? null : us / torchUs;
    const rec: PeerRecord = {
      id: c.id, label: c.label, onwardUs: us, torchUs, ratio, target: c.target?.ratio ?? null,
      met: ratio === null || !c.target ? null : ratio <= c.target.ratio, torch: 'us' in peer ? peer.torch : null, blas: 'us' in peer ? peer.blas : [], load,
      threads: c.onward.inference ? 1 : c.onward.threads ?? 1,
      backend: c.onward.backend ?? 'wasm',
    };
    records.push(rec);
    console.error(`  ${c.id}: onward ${fmt(us)} µs, PyTorch ${torchUs === null ? ('error' in peer ? peer.error : 'n/a') : fmt(torchUs)} µs`);
  }
  const out = join(root, 'bench', 'results', 'peers');
  mkdirSync(out, { recursive: true });
  const write = (path: string, text: string): void => {
    writeFileSync(path + '.tmp', text);
    renameSync(path + '.tmp', path);
  };
  write(join(out, 'records.json'), JSON.stringify(records, null, 1) + '\n');
  const machine = `${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, load ${records.map((r) => r.load.toFixed(1)).join('/')} at the cases' starts; ` +
    `onward: wasm backend and one thread unless the row says (native: OpenBLAS through koffi, one BLAS thread); PyTorch ${torch ?? 'not found'}, one thread, BLAS ${blas.find((b) => b.includes('openblas')) ?? blas[0] ?? 'unknown'}`;
  const table = peerTable(records);
  const date = execFileSync('date', ['-u', '+%Y-%m-%d %H:%M UTC'], { encoding: 'utf8' }).trim();
  write(join(out, 'report.md'), `# onward vs PyTorch, per time step\n\n${table}\n\nOne run of \`npm run bench:peers\`, ${date}: ${machine}.\n`);
  console.log(table);
  if (!args.includes('--no-readme') && !only) {
    const readmePath = join(root, 'README.md');
    const readme = readFileSync(readmePath, 'utf8');
    const START = '<!-- peers:start -->', END = '<!-- peers:end -->';
    const a = readme.indexOf(START), b = readme.indexOf(END);
    if (a >= 0 && b > a) {
      write(readmePath, readme.slice(0, a + START.length) + `\n${table}\n\n<sub>Generated by \`npm run bench:peers\` (${date}; ${machine}).</sub>\n` + readme.slice(b));
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
