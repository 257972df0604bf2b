/** reproduce one fuzz case: node --import tsx test/fuzz/one.ts SEED INDEX (prints the mutation, the outcome and the time) */
import { setLimits } from '../../src/core/limits.js';
import { baseFiles, makeCase, runCase } from './engine.js';

const [seed, index] = process.argv.slice(2).map(Number) as [number, number];
setLimits({ maxMemory: 256 * 2 ** 20 });
const c = makeCase(baseFiles(), seed, index);
console.log(c.kind, c.what, new TextDecoder().decode(c.bytes.subarray(0, 300)));
const t0 = performance.now();
console.log(runCase(c), `${((performance.now() - t0) / 1000).toFixed(2)} s`);
