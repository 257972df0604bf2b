/** `onward gradcheck`'s alignment table: rows that measure nothing say so instead of printing a number. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runGradcheck } from '../../src/cli/grad.js';
import { alignment } from '../../src/check/gradcheck.js';

test('gradcheck: where finite differences are zero under a spiking surrogate, the row says n/a instead of a number', () => {
  const log = console.log;
  const lines: string[] = [];
  console.log = (s: unknown) => lines.push(String(s));
  try {
    const rows = alignment({ models: ['lif', 'gru'], learners: ['eprop'], T: 4 }).filter((r) => r.learner === 'bptt vs finite differences');
    const lif = rows.filter((r) => r.model === 'lif');
    // the step's derivative is zero almost everywhere: no finite difference reaches the hidden layers
    for (const layer of ['layers.0', 'layers.1', 'all']) {
      const r = lif.find((x) => x.layer === layer)!;
      assert.match(r.notMeasured ?? '', /^n\/a \(surrogate: FD is zero/, layer);
      assert.ok(Number.isNaN(r.relErr) && Number.isNaN(r.cosine), layer);
    }
    const readout = lif.find((x) => x.layer === 'readout')!;
    assert.ok(readout.notMeasured === undefined && readout.relErr < 1e-6, 'the readout is measured');
    assert.ok(rows.filter((r) => r.model === 'gru').every((r) => r.notMeasured === undefined && r.relErr < 1e-6));
    assert.equal(runGradcheck(['--models', 'lif', '--learners', 'eprop', '--steps', '4']), 0);
    const fdLines = lines
      .join('\n')
      .split('\n')
      .filter((l) => l.includes('bptt vs finite differences'));
    assert.equal(fdLines.length, 4);
    for (const l of fdLines.filter((l) => !l.includes('readout'))) {
      assert.match(l, /n\/a \(surrogate: FD is zero/);
      assert.doesNotMatch(l, /e\+\d{3}|NaN/);
    }
  } finally {
    console.log = log;
  }
});
