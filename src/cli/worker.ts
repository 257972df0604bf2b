/**
 * `onward worker --queue redis://[:password@]HOST[:PORT][/DB] [--concurrency N] [--lock-seconds S] [--quiet]`:
 * take `onward bench` runs from the queue and send their records back, N at a time (default: all cores),
 * until stopped. Ctrl-C (or SIGTERM) finishes the running jobs first; a second one stops at once (the
 * jobs go back to the queue when their locks expire).
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from '../core/errors.js';
import { parseQueueUrl, startConsumer } from '../bench/queue.js';
import { parse } from './args.js';

export async function workerCommand(argv: string[]): Promise<void> {
  const { values } = parse('worker', argv, {
    queue: { type: 'string' },
    concurrency: { type: 'string' },
    'lock-seconds': { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (typeof values.queue !== 'string')
    throw new ConfigError('worker: --queue redis://HOST:PORT[/DB] is required (the Redis server the sweep was submitted to)');
  const concurrency = values.concurrency === undefined ? availableParallelism() : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new ConfigError(`--concurrency must be a positive integer, got '${String(values.concurrency)}'`);
  const lockSeconds = values['lock-seconds'] === undefined ? undefined : Number(values['lock-seconds']);
  if (lockSeconds !== undefined && !(Number.isFinite(lockSeconds) && lockSeconds > 0)) {
    throw new ConfigError(`--lock-seconds must be a positive number, got '${String(values['lock-seconds'])}'`);
  }
  const url = parseQueueUrl(values.queue);
  // the command line may hold the password: show the redacted one in ps and top
  process.title = `onward worker --queue ${url.display}`;
  const quiet = values.quiet === true;
  const consumer = await startConsumer({
    url: values.queue,
    threads: concurrency,
    lockSeconds,
    onLog: (line) => console.error(line),
    onJob: (line) => {
      if (!quiet) console.error(line);
    },
  });
  console.error(`onward worker ${consumer.name}: working on ${url.display} with ${concurrency} thread(s); Ctrl-C to stop`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    console.error('onward worker: finishing the running jobs, then stopping (Ctrl-C again to stop now)');
    void consumer.close();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await consumer.done;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
