/**
 * The timer behind `onward perf`: warm up, pick a batch size so one batch lasts long enough to time,
 * then report the median per-call time over repeated batches (the machines are shared and noisy; the
 * median of batches is stable to a few percent where a single timing is not).
 */
export interface Timing {
  /** median nanoseconds per call */
  nsPerCall: number;
  /** 10th and 90th percentile of the per-batch means */
  p10: number;
  p90: number;
  callsPerBatch: number;
}

export interface MeasureOptions {
  warmupMs?: number;
  batchMs?: number;
  batches?: number;
}

export function measure(fn: () => void, { warmupMs = 150, batchMs = 15, batches = 11 }: MeasureOptions = {}): Timing {
  // warm-up: at least 3 calls, and long enough for the JIT to settle
  let calls = 0;
  const t0 = performance.now();
  while (calls < 3 || performance.now() - t0 < warmupMs) {
    fn();
    calls++;
  }
  const perCall = (performance.now() - t0) / calls;
  const callsPerBatch = Math.max(1, Math.ceil(batchMs / Math.max(perCall, 1e-6)));
  const samples: number[] = [];
  for (let b = 0; b < batches; b++) {
    const s = performance.now();
    for (let i = 0; i < callsPerBatch; i++) fn();
    samples.push(((performance.now() - s) * 1e6) / callsPerBatch);
  }
  samples.sort((a, b) => a - b);
  const q = (p: number): number => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
  return { nsPerCall: q(0.5), p10: q(0.1), p90: q(0.9), callsPerBatch };
}

export interface AllocationReport {
  calls: number;
  /** growth of the JS heap over the loop (bytes; small noise either way is normal) */
  heapGrowthBytes: number;
  /** garbage collections that ran during the loop: any allocation per call would force some */
  gcCount: number;
}

/**
 * Run `fn` `calls` times and report whether the loop allocated: a function that allocates even a few
 * bytes per call fills the young generation many times over in a million calls and triggers
 * scavenges, which the 'gc' performance entries reveal.
 *
 * The JIT allocates while it warms up (unoptimised code boxes intermediate numbers), and a large function
 * may be optimised only well into the run; so the check warms up for at least 300 ms and measures up to
 * `rounds` times, reporting the cleanest round. Allocation in the function itself shows in every round.
 */
export async function allocationCheck(fn: () => void, calls = 1_000_000, rounds = 3): Promise<AllocationReport> {
  const { PerformanceObserver } = await import('node:perf_hooks');
  const start = performance.now();
  for (let i = 0; i < 10_000 || performance.now() - start < 300; i++) fn();
  let best: AllocationReport | null = null;
  // a clean round has no collection and next to no heap growth; under load the JIT may re-optimise mid-round
  // (hundreds of KB of code and feedback), so an unclean round is measured again — allocation in fn itself
  // (8+ bytes per call, megabytes per round) shows in every round and is never hidden this way
  const clean = (r: AllocationReport | null): boolean => r !== null && r.gcCount === 0 && r.heapGrowthBytes < 1 << 20;
  const better = (r: AllocationReport, than: AllocationReport | null): boolean =>
    than === null || r.gcCount < than.gcCount || (r.gcCount === than.gcCount && r.heapGrowthBytes < than.heapGrowthBytes);
  for (let round = 0; round < rounds && !clean(best); round++) {
    await new Promise((resolve) => setTimeout(resolve, 20)); // drain GC entries from before
    let gcCount = 0;
    const observer = new PerformanceObserver((list) => {
      gcCount += list.getEntries().length;
    });
    observer.observe({ entryTypes: ['gc'] });
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < calls; i++) fn();
    const after = process.memoryUsage().heapUsed;
    await new Promise((resolve) => setTimeout(resolve, 20)); // GC entries are delivered asynchronously
    observer.disconnect();
    const report = { calls, heapGrowthBytes: after - before, gcCount };
    if (better(report, best)) best = report;
  }
  return best!;
}
