import { hostname } from 'node:os';
import { destination as pinoDestination, pino, type Logger } from 'pino';
import { CallbackdError } from './errors.js';

// Secrets must never reach a log line, whatever object a caller passes in.
export const REDACT_PATHS = [
  'password', '*.password', '*.*.password',
  'secret', '*.secret', '*.*.secret',
  'token', '*.token', 'authorization', '*.authorization', '*.headers.authorization',
  // AMI keeps Asterisk's spelling: a Login action carries "Secret".
  'Secret', '*.Secret', '*.*.Secret',
];

/**
 * JSON lines on stderr (journald stores them under systemd). pino's own pid and hostname are kept
 * next to the service name, so lines from several daemons or restarts can be told apart.
 * For reading by eye during development: `callbackd start -c x.yaml 2>&1 | npx pino-pretty`.
 *
 * Written asynchronously: a synchronous write per line (each call logs about seven) was 10 % of the
 * daemon's busy CPU in a 500-call burst, the event loop waiting on the pipe (README "Performance").
 * Lines logged while a write is under way go out together with the next one. pino flushes what is
 * left when the process exits, also on process.exit() and an uncaught exception
 * (test/integration/log.test.ts); only a SIGKILL can lose the last lines.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { pid: process.pid, hostname: hostname(), service: 'callbackd' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    destination ?? pinoDestination({ dest: 2, sync: false }),
  );
}

/**
 * A fatal error as one JSON line in the log stream, never a plain-text stack: a user's mistake
 * (a CallbackdError) by its code and message; anything else also carries its stack as a field.
 */
export function logFatal(log: Logger, err: unknown): void {
  if (err instanceof CallbackdError) log.fatal({ code: err.code }, err.message);
  else if (err instanceof Error) log.fatal({ err }, `unexpected error: ${err.message}`); // pino's serializer: type, message, stack
  else log.fatal({ err: String(err) }, 'unexpected error');
}
export type { Logger };
