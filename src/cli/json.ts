/**
 * The one JSON shape every `--json` command prints (docs/cli.md): one object per line, each naming the
 * command and the onward version. The last line is the result, `{command, version, result}`; commands that
 * report as they go (train) print `{command, version, event, data}` lines before it; a failure prints
 * `{command, version, error: {code, name, message}}` (and exit code 2).
 */
import type { OnwardError } from '../core/errors.js';
import { VERSION } from './package-info.js';

export interface ResultEnvelope<R> {
  command: string;
  version: string;
  result: R;
}

export interface EventEnvelope<D> {
  command: string;
  version: string;
  event: string;
  data: D;
}

export interface ErrorEnvelope {
  command: string;
  version: string;
  error: { code: string; name: string; message: string };
}

export function resultEnvelope<R>(command: string, result: R): ResultEnvelope<R> {
  return { command, version: VERSION, result };
}

// console.log, not process.stdout.write: callers that capture console output (tests of a command) see it too
export function printResult(command: string, result: unknown): void {
  console.log(JSON.stringify(resultEnvelope(command, result)));
}

export function printEvent(command: string, event: string, data: unknown): void {
  const line: EventEnvelope<unknown> = { command, version: VERSION, event, data };
  console.log(JSON.stringify(line));
}

export function printError(command: string, e: OnwardError): void {
  const line: ErrorEnvelope = { command, version: VERSION, error: { code: e.code, name: e.name, message: e.message } };
  console.log(JSON.stringify(line));
}
