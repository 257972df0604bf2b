/**
 * What a user meets first: `--help` for every command (options, defaults, one line each), `--version`, the
 * one JSON envelope of every `--json`, predict / export / import from the command line, `list --task`,
 * named task settings, Ctrl-C during training (checkpoint, model, the resume command), and a progress line
 * that never wraps in an 80-column terminal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commands } from '../../src/cli/commands.js';
import { buildProgram } from '../../src/cli/main.js';
import { formatProgress, ProgressBar, StatusLine, width } from '../../src/cli/progress.js';
import { loadModel } from '../../src/model/load.js';
import { readModelFile } from '../../src/model/io.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'onward-surface-'));
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const cliArgs = (args: string[]): string[] => ['--import', import.meta.resolve('tsx'), join(root, 'src/cli/bin.ts'), ...args];

function onward(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, cliArgs(args), { cwd: tmp, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** the last stdout line as an envelope, checked to name the command and the version */
function envelope(stdout: string, command: string): Record<string, unknown> {
  const line = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  assert.equal(line.command, command);
  assert.equal(line.version, version);
  return line;
}

test('onward --version prints the package version; --help lists every command with one line', () => {
  const r = onward('--version');
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), version);
  const help = onward('--help');
  assert.equal(help.code, 0);
  for (const c of commands) assert.match(help.stdout, new RegExp(`^  ${c.name} \\[options\\] +\\S`, 'm'), c.name);
  const unknown = onward('trian');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'trian'[\s\S]*Did you mean train\?/);
});

test('every command has --help: each option of its table with its one line and its default', () => {
  const program = buildProgram();
  for (const c of commands) {
    // the help commander prints for `onward NAME --help` (in this process: one spawn per command is slow)
    const cmd = program.commands.find((k) => k.name() === c.name)!;
    const r = { stdout: cmd.helpInformation() };
    assert.match(r.stdout, new RegExp(`^Usage: onward ${c.name}`), c.name);
    for (const [name, o] of Object.entries(c.options)) {
      assert.ok(o.help, `${c.name} --${name} has a help line`);
      assert.match(r.stdout, new RegExp(`--${name}\\b`), `${c.name} --${name}`);
      const dflt = o.default !== undefined && o.default !== false ? String(o.default) : o.defaultText;
      if (dflt) assert.ok(r.stdout.replace(/\s+/g, ' ').includes(`default: ${dflt}`), `${c.name} --${name} default ${dflt}`);
    }
  }
  const spawned = onward('train', '--help');
  assert.equal(spawned.code, 0);
  const train = spawned.stdout;
  // every option of the run config, from the schemas (test/train/config.test.ts checks the whole list)
  for (const key of ['optimizer.lr', 'eval.every', 'optimizer.name', '("adam")', 'learner.noise', 'task.<setting>'])
    assert.ok(train.includes(key), `train --help lists --set ${key}`);
  assert.ok(onward('help', 'eval').stdout.startsWith('Usage: onward eval'), 'onward help COMMAND');
});

test('--json: one envelope {command, version, result} for every command; errors too; train names its run folder and model', () => {
  const run = join(tmp, 'json-run');
  const train = onward(
    'train',
    '--task',
    'adding',
    '--model',
    'gru',
    '--learner',
    'rtrl',
    '--hidden',
    '4',
    '--steps',
    '3',
    '--set',
    'evalEvery=2',
    '--json',
    '--out',
    run,
  );
  assert.equal(train.code, 0, train.stderr);
  const lines = train.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(
    lines.slice(0, -1).every((l) => l.command === 'train' && l.event === 'eval' && l.version === version),
    'events before the result',
  );
  const result = envelope(train.stdout, 'train').result as Record<string, unknown>;
  assert.equal(result.runDir, run);
  assert.equal(result.modelFile, join(run, 'model.json'));
  assert.equal(result.checkpoint, join(run, 'checkpoint.json'));
  assert.ok(existsSync(result.modelFile as string));
  assert.deepEqual(Object.keys(result).slice(0, 9), ['task', 'preset', 'model', 'learner', 'metric', 'value', 'loss', 'steps', 'seconds']);

  const ev = envelope(onward('eval', '--model-file', join(run, 'model.json'), '--json').stdout, 'eval').result as Record<string, unknown>;
  assert.deepEqual(Object.keys(ev).sort(), ['data', 'loss', 'metric', 'model', 'modelFile', 'preset', 'sequences', 'task', 'value']);
  assert.ok(!('learner' in ev) && !('steps' in ev) && !('seconds' in ev), 'no train-only fields');

  const list = envelope(onward('list', '--json').stdout, 'list').result as {
    models: { name: string }[];
    learners: { name: string; exact: boolean; models: string[] }[];
  };
  assert.ok(
    list.models.some((m) => m.name === 'lru'),
    'list names lru',
  );
  assert.ok(list.learners.find((l) => l.name === 'rtrl')!.exact);
  const gc = envelope(onward('gradcheck', '--models', 'rnn', '--learners', 'rtrl', '--json').stdout, 'gradcheck').result as {
    checks: unknown[];
    alignment: unknown[];
  };
  assert.ok(gc.checks.length > 0 && gc.alignment.length > 0);

  const bad = onward('eval', '--model-file', join(tmp, 'missing.json'), '--json');
  assert.equal(bad.code, 2);
  const err = envelope(bad.stdout, 'eval').error as { code: string; name: string; message: string };
  // a missing file is an access problem (issue 21: FileAccessError names the file and the cause), not a damaged one
  assert.deepEqual([err.code, err.name], ['FILE_ACCESS', 'FileAccessError']);
  assert.match(err.message, /missing\.json/);
});

test("onward predict: T×B×o outputs from a model file, equal to the library's; export → import → predict agrees", () => {
  const run = join(tmp, 'predict-run');
  assert.equal(
    onward('train', '--task', 'adding', '--model', 'lstm', '--learner', 'bptt', '--hidden', '6', '--steps', '2', '--quiet', '--out', run)
      .code,
    0,
  );
  const data = join(tmp, 'adding.seq.json');
  assert.equal(onward('data', '--task', 'adding', '--n', '3', '--out', data).code, 0);
  const x = (JSON.parse(readFileSync(data, 'utf8')) as { x: number[][][] }).x;
  const r = onward('predict', '--model-file', join(run, 'model.json'), '--data', data, '--json');
  assert.equal(r.code, 0, r.stderr);
  const res = envelope(r.stdout, 'predict').result as { T: number; B: number; outputSize: number; output: number[][][] };
  assert.deepEqual([res.T, res.B, res.outputSize], [x.length, 3, 1]);
  assert.deepEqual(res.output, loadModel(join(run, 'model.json')).predict(x));

  const st = join(tmp, 'lstm.safetensors'),
    back = join(tmp, 'lstm.model.json');
  const ex = envelope(onward('export', '--model-file', join(run, 'model.json'), '--out', st, '--json').stdout, 'export').result as {
    bytes: number;
  };
  assert.ok(ex.bytes > 0 && existsSync(st));
  assert.equal(onward('import', '--file', st, '--out', back).code, 0);
  assert.deepEqual(readModelFile(back).config, readModelFile(join(run, 'model.json')).config);
  assert.deepEqual(loadModel(back).predict(x), res.output, 'a float32 run exports to F32 exactly');
});

test('onward list --task NAME: every setting with its preset values, help and named choices; names work in --set', () => {
  const r = onward('list', '--task', 'seq-image');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /source +synthetic \/ fashion-mnist +where the images come from/);
  assert.match(r.stdout, /choices: pixels \(1\), rows \(2\)/);
  assert.match(r.stdout, /score +last \/ last/);
  const d = JSON.parse(onward('data', '--task', 'seq-image', '--n', '1', '--set', 'task.order=rows').stdout) as {
    settings: { order: number };
    x: number[][][];
  };
  assert.deepEqual([d.settings.order, d.x.length, d.x[0]![0]!.length], [2, 8, 8]);
  const wrong = onward('train', '--task', 'seq-image', '--steps', '0', '--set', 'task.order=columns', '--out', join(tmp, 'x'));
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /setting order has no choice 'columns'; choices: pixels \(1\), rows \(2\)/);
});

test('Ctrl-C (SIGINT) during train: the checkpoint and the model are written, the resume command printed; it resumes', async () => {
  const run = join(tmp, 'interrupted');
  const child = spawn(process.execPath, cliArgs(['train', '--steps', '100000', '--out', run]), {
    cwd: tmp,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const started = new Promise<void>((done) =>
    child.stderr.on('data', (s: string) => {
      stderr += s;
      if (/\d+\/100000/.test(stderr)) done(); // the first progress line: steps are running
    }),
  );
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  await started;
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  assert.match(stderr, /stopped by SIGINT at step \d+ of 100000/);
  assert.ok(stderr.includes(`resume with: onward train --resume ${run}`), stderr);
  const ck = readModelFile(join(run, 'checkpoint.json')) as { checkpoint?: { step: number } };
  const step = ck.checkpoint!.step;
  assert.ok(step >= 1 && step < 100000, `stopped at step ${step}`);
  assert.ok(existsSync(join(run, 'model.json')));
  const more = onward('train', '--resume', run, '--steps', String(step + 2), '--json');
  assert.equal(more.code, 0, more.stderr);
  assert.equal((envelope(more.stdout, 'train').result as { steps: number }).steps, step + 2);
});

/** a stream that looks like an 80-column terminal and records what is written */
function fakeTerminal(columns: number): NodeJS.WriteStream & { text: string } {
  const t = {
    isTTY: true,
    columns,
    text: '',
    write(s: string): boolean {
      t.text += s;
      return true;
    },
  };
  return t as unknown as NodeJS.WriteStream & { text: string };
}

test('the progress line fits the terminal: no redraw is wider than columns − 1, at 80 and at 40 columns', () => {
  for (const columns of [80, 40]) {
    const out = fakeTerminal(columns);
    const bar = new ProgressBar(1_000_000, 'seq-image/paper lru online-lru-with-a-long-name', { out });
    for (const done of [1, 10, 999, 123_456, 1_000_000]) {
      bar.update(done, { loss: 123456.789, accuracy: 0.3291, 'bits per char': 1.2345 });
      bar.log(`  step ${done}: eval`);
    }
    bar.done();
    const redraws = out.text
      .split(/\r|\n/)
      .map((s) => s.replaceAll('\x1b[K', ''))
      .filter(Boolean);
    assert.ok(redraws.length >= 5);
    for (const line of redraws) assert.ok(width(line) <= columns - 1, `${width(line)} > ${columns - 1}: ${line}`);
    const status = fakeTerminal(columns);
    new StatusLine('onward perf', status).update('learners: measured 12 (sparse-rtrl B=16 T=128) and a long tail of text to cut');
    assert.ok(width(status.text.replaceAll('\r', '').replaceAll('\x1b[K', '')) <= columns - 1);
  }
  // what a wide terminal shows: everything
  const wide = formatProgress(
    { label: 'copy/ci lru online-lru', done: 50, total: 200, rate: 25, eta: 6, fields: { loss: 0.5, bit_accuracy: 0.75 } },
    200,
  );
  assert.equal(
    wide,
    `copy/ci lru online-lru  ${'█'.repeat(6)}${'░'.repeat(18)}  50/200  25.0 steps/s  ETA 6s  loss 0.500  bit_accuracy 0.750`,
  );
});

test('gradcheck shows what it is checking while it works (stderr; stdout keeps the table)', () => {
  const r = onward('gradcheck', '--models', 'rnn,gru', '--learners', 'rtrl');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^onward gradcheck: model 1\/2 \(rnn\)/m);
  assert.match(r.stdout, /^model +learner/m);
});

test('after --resume the rate and ETA count only the steps run in this process', () => {
  const out = fakeTerminal(120);
  const bar = new ProgressBar(2000, 'copy', { out, startAt: 1000 });
  const t0 = performance.now();
  const line = bar.line(1100, {}, t0 + 10_000); // 100 steps in ~10 s here, 1000 before the resume
  const rate = Number(/([\d.]+) steps\/s/.exec(line)![1]);
  assert.ok(rate > 9 && rate < 11, line);
  assert.match(line, /ETA 1m(2|3)\ds/, '900 steps left at ~10 steps/s');
  assert.ok(!bar.line(1000, {}).includes('steps/s'), 'no rate before the first step here');
});
