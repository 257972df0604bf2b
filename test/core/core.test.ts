/** The core: seeded RNG, parameter store, buffer planning, typed errors. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { ParamStore } from '../../src/core/params.js';
import { BufferPlan } from '../../src/core/plan.js';
import { ConfigError, NonFiniteError, OnwardError, ShapeError, UnknownNameError } from '../../src/core/errors.js';
import { TsBackend } from '../../src/backend/ts.js';
import { WasmBackend } from '../../src/backend/wasm.js';
import { createBackend } from '../../src/backend/index.js';

describe('Rng (xoshiro128**)', () => {
  test('matches the reference C implementation from state [1, 2, 3, 4]', () => {
    // first outputs of Vigna's xoshiro128starstar.c with s = {1, 2, 3, 4}, compiled and run independently
    const r = Rng.fromState([1, 2, 3, 4]);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map(() => r.nextU32()),
      [11520, 0, 5927040, 70819200, 2031721883, 1637235492],
    );
  });

  test('the same seed gives the same stream; different seeds differ, including seeds above 2^32', () => {
    const draw = (seed: number): number[] => {
      const r = new Rng(seed);
      return Array.from({ length: 8 }, () => r.nextU32());
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
    assert.notDeepEqual(draw(5), draw(5 + 2 ** 32));
  });

  test('save and restore the state resumes the exact stream', () => {
    const r = new Rng(7);
    for (let i = 0; i < 13; i++) r.normal();
    const saved = r.getState();
    const a = [r.uniform(), r.normal(), r.int(10), r.bernoulli(0.3) ? 1 : 0, ...r.permutation(6)];
    const s = Rng.fromState(JSON.parse(JSON.stringify(saved)));
    const b = [s.uniform(), s.normal(), s.int(10), s.bernoulli(0.3) ? 1 : 0, ...s.permutation(6)];
    assert.deepEqual(a, b);
    r.setState(saved);
    assert.equal(r.uniform(), a[0]);
  });

  test('distributions have the right moments', () => {
    const r = new Rng(1);
    const n = 200_000;
    let su = 0,
      su2 = 0,
      sn = 0,
      sn2 = 0,
      sn4 = 0,
      hits = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      assert.ok(u >= 0 && u < 1);
      su += u;
      su2 += u * u;
      const z = r.normal();
      sn += z;
      sn2 += z * z;
      sn4 += z ** 4;
      if (r.bernoulli(0.25)) hits++;
    }
    // tolerances are ~5 standard errors
    assert.ok(Math.abs(su / n - 0.5) < 5 * Math.sqrt(1 / 12 / n));
    assert.ok(Math.abs(su2 / n - 1 / 3) < 0.003);
    assert.ok(Math.abs(sn / n) < 5 / Math.sqrt(n));
    assert.ok(Math.abs(sn2 / n - 1) < 5 * Math.sqrt(2 / n));
    assert.ok(Math.abs(sn4 / n - 3) < 0.1);
    assert.ok(Math.abs(hits / n - 0.25) < 5 * Math.sqrt((0.25 * 0.75) / n));
  });

  test('int is unbiased and in range; permutation is a permutation and uniform over positions', () => {
    const r = new Rng(3);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[r.int(7)]++;
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `count ${c}`);
    const first = new Array(5).fill(0);
    for (let i = 0; i < 50_000; i++) {
      const p = r.permutation(5);
      assert.deepEqual([...p].sort(), [0, 1, 2, 3, 4]);
      first[p[0]!]++;
    }
    for (const c of first) assert.ok(Math.abs(c - 10_000) < 500, `first-position count ${c}`);
  });

  test('fork gives an independent, reproducible stream', () => {
    const a = new Rng(9),
      b = new Rng(9);
    const fa = a.fork(),
      fb = b.fork();
    assert.equal(fa.nextU32(), fb.nextU32());
    assert.notEqual(fa.nextU32(), a.nextU32());
  });

  test('bad seeds, states and arguments are ConfigErrors', () => {
    assert.throws(() => new Rng(-1), ConfigError);
    assert.throws(() => new Rng(1.5), ConfigError);
    assert.throws(() => Rng.fromState([0, 0, 0, 0]), ConfigError);
    assert.throws(() => Rng.fromState([1, 2, 3] as unknown as [number, number, number, number]), ConfigError);
    assert.throws(() => Rng.fromState([1, 2, 3, 2 ** 32]), ConfigError);
    assert.throws(() => new Rng(1).bernoulli(1.5), ConfigError);
    assert.throws(() => new Rng(1).int(0), ConfigError);
  });
});

describe('ParamStore', () => {
  for (const be of [new TsBackend('float64'), new WasmBackend()]) {
    test(`named views over one flat buffer (${be.name})`, () => {
      const store = new ParamStore(be, [
        { name: 'layers.0.weight_ih', shape: [6, 2] },
        { name: 'layers.0.bias_ih', shape: [6] },
        { name: 'readout.weight', shape: [1, 2] },
      ]);
      assert.equal(store.size, 12 + 6 + 2);
      assert.equal(store.flat.length, 20);
      assert.deepEqual(store.names(), ['layers.0.weight_ih', 'layers.0.bias_ih', 'readout.weight']);
      store.set('layers.0.bias_ih', [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(Array.from(store.flat.data.subarray(12, 18)), [1, 2, 3, 4, 5, 6]);
      be.scale(2, store.flat); // a kernel on the flat buffer is seen through every view
      assert.deepEqual(Array.from(store.get('layers.0.bias_ih')), [2, 4, 6, 8, 10, 12]);
      assert.deepEqual(store.shape('layers.0.weight_ih'), [6, 2]);
      assert.equal(store.entry('readout.weight').offset, 18);
      const grads = store.like();
      assert.equal(grads.size, store.size);
      assert.ok(grads.get('layers.0.bias_ih').every((v) => v === 0));
      grads.copyFrom(store);
      assert.deepEqual(Array.from(grads.get('layers.0.bias_ih')), [2, 4, 6, 8, 10, 12]);
    });
  }

  test('wrong sizes, shapes, names and non-finite values are refused', () => {
    const store = new ParamStore(new TsBackend(), [{ name: 'w', shape: [2, 3] }]);
    assert.throws(() => store.set('w', [1, 2, 3]), /parameter 'w' has 6 elements \(shape \[2, 3\]\), got 3/);
    assert.throws(() => store.set('w', [1, 2, 3, 4, 5, 6], [3, 2]), ShapeError);
    assert.throws(() => store.set('w', [1, 2, NaN, 4, 5, 6]), NonFiniteError);
    assert.throws(() => store.set('w', [1, 2, 3, Infinity, 5, 6]), /element 3 is Infinity/);
    assert.throws(() => store.get('v'), UnknownNameError);
    assert.throws(() => store.get('v'), /unknown parameter 'v'; known parameters: w/);
    assert.throws(
      () =>
        new ParamStore(new TsBackend(), [
          { name: 'w', shape: [2] },
          { name: 'w', shape: [3] },
        ]),
      ShapeError,
    );
    assert.throws(() => new ParamStore(new TsBackend(), [{ name: 'w', shape: [2, -1] }]), ShapeError);
  });
});

describe('BufferPlan', () => {
  test('one allocation, aligned views, nothing shared between buffers', () => {
    const be = new WasmBackend();
    const before = be.bytesInUse();
    const { flat, bufs } = new BufferPlan().add('h', 5).add('e', 7).add('z', 0).add('g', 3).allocate(be);
    assert.equal(be.bytesInUse() - before, flat.length * 4);
    for (const b of Object.values(bufs)) assert.equal(b.ptr % 16, 0, 'each view starts on a 16-byte boundary');
    be.fill(bufs.e!, 1);
    assert.ok(bufs.h!.data.every((v) => v === 0) && bufs.g!.data.every((v) => v === 0));
    assert.equal(bufs.e!.length, 7);
    assert.throws(() => new BufferPlan().add('a', 1).add('a', 2), ConfigError);
    assert.throws(() => new BufferPlan().add('a', -2), ShapeError);
  });
});

describe('backends and memory', () => {
  test('createBackend picks wasm for float32 and ts for float64, and refuses the rest', () => {
    assert.equal(createBackend().name, 'wasm');
    assert.equal(createBackend({ dtype: 'float64' }).name, 'ts');
    assert.equal(createBackend({ backend: 'ts', dtype: 'float32' }).dtype, 'float32');
    assert.throws(() => createBackend({ backend: 'wasm', dtype: 'float64' }), ConfigError);
    assert.throws(() => createBackend({ backend: 'gpu' as never }), UnknownNameError);
    assert.throws(() => createBackend({ dtype: 'float16' as never }), /unknown dtype 'float16'/);
  });

  test('growing the wasm memory keeps every buffer readable with its values', () => {
    const be = new WasmBackend();
    const small = be.from([1, 2, 3]);
    const view = small.view(1, 2);
    const pages = be.memory.buffer.byteLength;
    const big = be.alloc(8_000_000); // 32 MB: forces the memory to grow
    assert.ok(be.memory.buffer.byteLength > pages);
    assert.deepEqual(Array.from(small.data), [1, 2, 3]);
    assert.deepEqual(Array.from(view.data), [2, 3]);
    be.scale(2, small);
    assert.deepEqual(Array.from(view.data), [4, 6]);
    assert.equal(big.data.length, 8_000_000);
  });

  test('freed blocks are reused and come back zeroed', async () => {
    const be = new WasmBackend();
    const baseline = be.bytesInUse();
    const makeGarbage = (): void => {
      for (let i = 0; i < 50; i++) be.fill(be.alloc(100_000), 7);
    };
    makeGarbage();
    const gc = (globalThis as { gc?: () => void }).gc;
    assert.ok(gc, 'run the tests with --expose-gc (npm test does)');
    assert.ok(be.bytesInUse() - baseline >= 50 * 400_000);
    for (let i = 0; i < 5 && be.bytesInUse() - baseline >= 400_000; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10)); // finalizers run after the collection
    }
    assert.ok(be.bytesInUse() - baseline < 400_000, `unreachable buffers were returned (${be.bytesInUse() - baseline} bytes still in use)`);
    const fresh = be.alloc(100_000);
    assert.ok(fresh.data.every((v) => v === 0));
  });

  test('all errors are OnwardErrors with a stable code', () => {
    for (const e of [new ShapeError('x'), new ConfigError('x'), new NonFiniteError('x'), new UnknownNameError('task', 'x', ['a'])]) {
      assert.ok(e instanceof OnwardError && e instanceof Error);
      assert.match(e.code, /^[A-Z_]+$/);
      assert.equal(e.name, e.constructor.name);
    }
  });
});

test('fillUniform draws exactly the numbers of repeated uniformIn calls', () => {
  const a = new Rng(21),
    b = new Rng(21);
  const out = new Float64Array(37);
  a.fillUniform(out, -2, 3);
  assert.deepEqual(
    Array.from(out),
    Array.from({ length: 37 }, () => b.uniformIn(-2, 3)),
  );
  assert.equal(a.nextU32(), b.nextU32());
});
