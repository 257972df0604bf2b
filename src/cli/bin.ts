/**
 * Entry point: run the command line with this process's arguments, behind the last guard.
 *
 * `--max-memory SIZE` (any command, anywhere on the line; SIZE like 8G or 512M) sets the limits of
 * core/limits.ts before the command runs. Typed errors are printed as one line by `main`; anything else that
 * reaches this guard — a bug — is printed as one line too, with "please report", and a non-zero exit code,
 * never as a raw stack trace (ONWARD_DEBUG=1 prints the stack).
 */
import { reportUncaught, takeLimitFlags } from './guard.js';
import { main } from './main.js';

const guard = (e: unknown): void => {
  process.exitCode = reportUncaught(e);
  process.exit();
};
process.on('uncaughtException', guard);
process.on('unhandledRejection', guard);

try {
  process.exitCode = await main(takeLimitFlags(process.argv.slice(2)));
} catch (e) {
  process.exitCode = reportUncaught(e);
}
