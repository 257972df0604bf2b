/**
 * Every exactness claim of every learner row (learners/claims.ts), checked by the one oracle
 * (check/oracle.ts checkClaim: prefixes and a window in the middle, masked weights excluded) on every
 * unit model the claim names; and `onward gradcheck` exits 1 when a row claims more than it delivers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLearner, learnerInfo, learnerTable, type LearnerInfo } from '../../src/learners/index.js';
import { describeClaim, scopeIndices } from '../../src/learners/claims.js';
import { checkClaim, f64Network } from '../../src/check/oracle.js';
import { runGradcheck } from '../../src/cli/grad.js';

for (const info of learnerTable) {
  for (const claim of info.claims) {
    describe(`${info.name}: exact on ${describeClaim(claim)}`, () => {
      for (const model of (claim.when.models ?? info.models).filter((m) => info.models.includes(m))) {
        test(model, () => {
          const checks = checkClaim(info, claim, model);
          assert.ok(checks.length >= 1);
          for (const c of checks) assert.ok(c.pass, `${c.span}: relative error ${c.relErr} > ${c.tolerance}`);
        });
      }
    });
  }
}

test('the scopes: top = the top recurrent module and above, readout = above it; masked weights are not compared', () => {
  const net = f64Network({ model: 'gru', inputSize: 3, hidden: 4, layers: 2, outputSize: 2, loss: { kind: 'mse' }, recurrent: false });
  const hh = net.params.entry('layers.1.weight_hh'),
    top = net.params.entry('layers.1.weight_ih'),
    out = net.params.entry('readout.weight');
  const t = new Set(scopeIndices(net, 'top')),
    r = new Set(scopeIndices(net, 'readout')),
    all = new Set(scopeIndices(net, 'all'));
  assert.ok(t.has(top.offset) && !r.has(top.offset) && r.has(out.offset) && t.has(out.offset));
  assert.ok(!all.has(hh.offset) && !t.has(hh.offset), 'weight_hh is held at zero by recurrent: false');
  assert.ok(!t.has(net.params.entry('layers.0.weight_ih').offset));
});

/** a row that claims more than its learner delivers, and one whose learner computes a wrong gradient */
function wrongRows(): LearnerInfo[] {
  const eprop = learnerInfo('eprop'),
    rtrl = learnerInfo('rtrl');
  return [
    {
      ...eprop,
      name: 'eprop-overclaimed',
      claims: [
        {
          params: 'all',
          when: { models: ['gru'] },
          tolerance: 1e-9,
          reason: "wrong on purpose: e-prop drops the recurrent synapses' path",
        },
      ],
    },
    {
      ...rtrl,
      name: 'rtrl-off-by-a-bit',
      create: (net, o) => {
        const l = createLearner('rtrl', net, o);
        const step = l.step.bind(l);
        return Object.assign(l, {
          step: (x: ArrayLike<number>, y: ArrayLike<number> | null, m: ArrayLike<number> | null) => {
            const v = step(x, y, m);
            net.grads.flat.data[0] = net.grads.flat.data[0]! * 1.001;
            return v;
          },
        });
      },
    },
  ];
}

test('gradcheck exits 1 when a claim fails, 0 when every claim holds; --json has pass/fail per check', () => {
  const log = console.log;
  const lines: string[] = [];
  console.log = (s: unknown) => lines.push(String(s));
  try {
    const [over, off] = wrongRows();
    assert.equal(runGradcheck(['--models', 'gru', '--json'], [over!]), 1);
    const report = JSON.parse(lines.pop()!).result as { checks: { learner: string; pass: boolean }[] };
    assert.ok(
      report.checks.length > 0 && report.checks.every((c) => c.learner === 'eprop-overclaimed') && report.checks.some((c) => !c.pass),
    );
    assert.equal(runGradcheck(['--models', 'gru'], [off!]), 1);
    assert.match(lines.join('\n'), /FAIL/);
    assert.equal(runGradcheck(['--models', 'gru', '--json'], [learnerInfo('eprop'), learnerInfo('rtrl')]), 0);
    const good = JSON.parse(lines.pop()!).result as { checks: { pass: boolean }[] };
    assert.ok(good.checks.length > 0 && good.checks.every((c) => c.pass));
  } finally {
    console.log = log;
  }
});
