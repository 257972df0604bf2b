/** The memory guard: a learner whose state cannot fit is refused when it is built, with a typed error. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackend } from '../../src/backend/index.js';
import { plannedBytes } from '../../src/backend/memory.js';
import { TsBackend } from '../../src/backend/ts.js';
import { MemoryLimitError } from '../../src/core/errors.js';
import { createLearner } from '../../src/learners/index.js';
import { Network, type ModelConfig } from '../../src/model/network.js';
import type { RecurrentLayer } from '../../src/modules/recurrent.js';
import { createInfluence } from '../../src/learners/traces/influence.js';

const gru = (hidden: number): ModelConfig => ({ model: 'gru', inputSize: 8, hidden, layers: 1, outputSize: 8, loss: { kind: 'mse' } });

describe('memory guard', () => {
  test('rtrl on gru n=256 B=16 is refused with the bytes, the 4 GiB wasm limit and the learners that fit', () => {
    const be = createBackend();
    const net = new Network(gru(256), be, 1);
    const before = be.bytesInUse();
    let err: unknown;
    try {
      createLearner('rtrl', net, { batchSize: 16 });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof MemoryLimitError, `expected a MemoryLimitError, got ${String(err)}`);
    assert.equal(err.code, 'MEMORY_LIMIT');
    assert.equal(err.limitBytes, 2 ** 32);
    assert.ok(err.neededBytes > 2 ** 32, `needed ${err.neededBytes}`);
    for (const name of ['eprop', 'osttp', 'bptt']) assert.ok(err.fits.includes(name), `${name} fits: ${err.fits.join(', ')}`);
    for (const name of ['rtrl', 'deep-rtrl', 'sparse-rtrl']) assert.ok(!err.fits.includes(name), `${name} does not fit`);
    assert.match(err.message, /^rtrl: the influence matrices .* needs [\d.]+ GiB \(\d+ bytes\), but the limit is 4\.0 GiB/);
    assert.match(err.message, /a learner that fits: .*eprop/);
    // refused before the influence was allocated: the memory did not grow by gigabytes
    assert.ok(be.bytesInUse() - before < 2 ** 28, `allocated ${be.bytesInUse() - before} bytes`);
  });

  test('a maxMemory the user sets refuses a learner whose traces exceed it, on both backends', () => {
    for (const backend of ['wasm', 'ts'] as const) {
      const be = createBackend({ backend, maxMemory: 2 << 20 });
      const net = new Network(gru(128), be, 1); // 0.2 MiB of parameters; eprop's traces at B=16: 3.2 MiB
      assert.throws(
        () => createLearner('eprop', net, { batchSize: 16 }),
        (e: unknown) =>
          e instanceof MemoryLimitError &&
          e.limitBytes === 2 << 20 &&
          e.neededBytes === 16 * (net.modules[0] as RecurrentLayer).ownRows * 4 &&
          e.fits.includes('bptt') &&
          !e.fits.includes('ostl'),
      );
      assert.doesNotThrow(() => createLearner('eprop', net, { batchSize: 1 }));
    }
  });

  test('an allocation past the limit is a MemoryLimitError, not a RangeError from Memory.grow()', () => {
    const be = createBackend({ maxMemory: 1 << 24 });
    assert.throws(
      () => be.alloc(1 << 23),
      (e: unknown) => e instanceof MemoryLimitError && e.neededBytes === 1 << 25,
    );
    assert.throws(() => createBackend({ maxMemory: -1 }), /maxMemory must be a positive number/);
  });

  test('plannedBytes counts exactly what a builder allocates, without allocating it', () => {
    const be = new TsBackend('float32');
    const net = new Network(gru(16), be, 1);
    const layer = net.modules[0] as RecurrentLayer;
    const planned = plannedBytes('float32', (plan) => {
      createInfluence(layer, plan, 0);
    });
    const before = be.bytesInUse();
    const kept = createInfluence(layer, be, 0);
    assert.equal(be.bytesInUse() - before, planned);
    assert.ok(planned >= kept.bytes && planned > 0);
  });
});
