// Every error callbackd reports on purpose has a code here, so logs, CLI output and tests can
// match on the code while the message stays written for an admin.
export const ErrorCodes = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  CONFIG_NOT_FOUND: 'CONFIG_NOT_FOUND',
  IMPORT_INVALID: 'IMPORT_INVALID',
  INPUT_INVALID: 'INPUT_INVALID',
  NOT_FOUND: 'NOT_FOUND',
  ARI_AUTH: 'ARI_AUTH',
  ARI_UNREACHABLE: 'ARI_UNREACHABLE',
  ARI_TIMEOUT: 'ARI_TIMEOUT',
  ARI_HTTP: 'ARI_HTTP',
  AMI_AUTH: 'AMI_AUTH',
  AMI_NOT_CONNECTED: 'AMI_NOT_CONNECTED',
  AMI_TIMEOUT: 'AMI_TIMEOUT',
  AMI_ERROR: 'AMI_ERROR',
  DB_MIGRATION: 'DB_MIGRATION',
  LEASE_LOST: 'LEASE_LOST',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class CallbackdError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'CallbackdError';
  }
}

export function isCode(err: unknown, code: ErrorCode): err is CallbackdError {
  return err instanceof CallbackdError && err.code === code;
}
