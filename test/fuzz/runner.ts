/**
 * The fuzz runner: cases run in a worker thread (worker.ts) watched from here. A case that sends nothing for
 * `hangSeconds` is a hang (the worker is stopped and a new one continues after it); a worker that runs out of
 * its heap, or whose resident memory passes `maxRssBytes`, is a memory blow-up; an untyped error is a crash.
 */
import { Worker } from 'node:worker_threads';

export interface FuzzReport {
  cases: number;
  outcomes: Record<string, number>;
  crashes: { index: number; kind: string; what: string; error: string; stack: string }[];
  hangs: { index: number; kind: string; what: string }[];
  blowups: { index: number; kind: string; what: string; detail: string }[];
  maxRss: number;
  seconds: number;
}

export interface FuzzOptions {
  seed: number;
  cases: number;
  hangSeconds?: number;
  maxRssBytes?: number;
  /** stop starting new cases after this long (the report counts the cases run) */
  budgetSeconds?: number;
  onProgress?: (done: number, report: FuzzReport) => void;
}

function spawnWorker(data: { seed: number; from: number; to: number }): Worker {
  const here = import.meta.url;
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(new URL('./worker.ts', here).href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), {
    workerData: data,
    resourceLimits: { maxOldGenerationSizeMb: 1024 },
  });
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const hangMs = (o.hangSeconds ?? 30) * 1000,
    maxRss = o.maxRssBytes ?? 2 * 2 ** 30;
  const t0 = performance.now(),
    budgetMs = (o.budgetSeconds ?? Infinity) * 1000;
  const report: FuzzReport = { cases: 0, outcomes: {}, crashes: [], hangs: [], blowups: [], maxRss: 0, seconds: 0 };
  let next = 0;
  while (next < o.cases && performance.now() - t0 < budgetMs) {
    next = await new Promise<number>((resolve) => {
      const w = spawnWorker({ seed: o.seed, from: next, to: o.cases });
      let current = { index: next, kind: '?', what: '' };
      let settled = false;
      let timer: ReturnType<typeof setTimeout>;
      const stop = (resumeAt: number): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void w.terminate();
        resolve(resumeAt);
      };
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          report.hangs.push({ ...current });
          report.cases++;
          stop(current.index + 1);
        }, hangMs);
      };
      arm();
      w.on(
        'message',
        (m: {
          type: string;
          index: number;
          kind: string;
          what: string;
          outcome?: string;
          rss?: number;
          error?: string;
          stack?: string;
        }) => {
          if (m.type === 'start') {
            current = { index: m.index, kind: m.kind, what: m.what };
            if (performance.now() - t0 >= budgetMs) return stop(m.index);
            arm();
          } else if (m.type === 'done') {
            report.cases++;
            report.outcomes[m.outcome!] = (report.outcomes[m.outcome!] ?? 0) + 1;
            report.maxRss = Math.max(report.maxRss, m.rss!);
            if (m.rss! > maxRss) {
              report.blowups.push({ ...current, detail: `resident memory ${(m.rss! / 2 ** 20).toFixed(0)} MiB` });
              return stop(m.index + 1);
            }
            o.onProgress?.(report.cases, report);
          } else if (m.type === 'crash') {
            report.cases++;
            report.crashes.push({ index: m.index, kind: m.kind, what: m.what, error: m.error!, stack: m.stack! });
          } else if (m.type === 'end') stop(o.cases);
        },
      );
      w.on('error', (e) => {
        // out of heap (ERR_WORKER_OUT_OF_MEMORY) is a blow-up; anything else a crash of the case
        report.cases++;
        if (/memory/i.test(String((e as NodeJS.ErrnoException).code ?? e.message))) report.blowups.push({ ...current, detail: e.message });
        else report.crashes.push({ ...current, error: `${e.name}: ${e.message}`, stack: '' });
        stop(current.index + 1);
      });
      w.on('exit', () => stop(current.index + 1));
    });
  }
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}
