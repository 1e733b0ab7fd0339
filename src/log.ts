import { destination as pinoDestination, pino, type Logger } from 'pino';

// Secrets must never reach a log line, whatever object a caller passes in.
export const REDACT_PATHS = [
  'password', '*.password', '*.*.password',
  'secret', '*.secret', '*.*.secret',
  'token', '*.token', 'authorization', '*.authorization', '*.headers.authorization',
  // AMI keeps Asterisk's spelling: a Login action carries "Secret".
  'Secret', '*.Secret', '*.*.Secret',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: 'callbackd' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    destination ?? pinoDestination({ dest: 2, sync: true }),
  );
}
export type { Logger };
