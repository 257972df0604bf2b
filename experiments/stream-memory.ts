// Memory of a long stream: runs the streaming example (examples/stream.ts: an LRU learning online to predict a
// live signal, batch 1, an update every sample) for N samples and prints the resident set size (RSS) and its
// peak at 10k, 100k, … samples. Flat numbers mean that nothing grows with the stream.
//   node --expose-gc --import tsx experiments/stream-memory.ts [samples = 1000000]
import { streamExample } from '../examples/stream.js';

const steps = Number(process.argv[2] ?? 1_000_000);
const marks = new Set([1_000, 10_000, 100_000, 1_000_000, 10_000_000].filter((m) => m <= steps));
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const t0 = performance.now();
const rows: { samples: number; rssMiB: string; peakRssMiB: string; heapUsedMiB: string; seconds: string }[] = [];
const report = await streamExample(steps, 1000, (stream) => {
  if (!marks.has(stream.step)) return;
  (globalThis as { gc?: () => void }).gc?.(); // with --expose-gc: measure live memory, not garbage awaiting collection
  const m = process.memoryUsage();
  rows.push({
    samples: stream.step,
    rssMiB: mib(m.rss),
    peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    heapUsedMiB: mib(m.heapUsed),
    seconds: ((performance.now() - t0) / 1000).toFixed(1),
  });
});
console.table(rows);
console.log(
  `MSE ${report.first.toFixed(4)} (first 1000) → ${report.last.toFixed(4)} (last 1000), persistence ${report.persistence.toFixed(4)}; ` +
    `learner state ${report.stateBytes} bytes; ${(((performance.now() - t0) / report.steps) * 1000).toFixed(2)} µs per sample`,
);
