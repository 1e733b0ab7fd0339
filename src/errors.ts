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
  AGI_TIMEOUT: 'AGI_TIMEOUT',
  AGI_COMMAND: 'AGI_COMMAND',
  LEASE_LOST: 'LEASE_LOST',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  CONFLICT: 'CONFLICT',
  TOO_LARGE: 'TOO_LARGE',
  RATE_LIMITED: 'RATE_LIMITED',
  // Callback rules (domain/create-rules.ts): the booking is refused and nothing is written.
  RULE_CALLBACKS_OFF: 'RULE_CALLBACKS_OFF',
  RULE_AGENT_NOT_ALLOWED: 'RULE_AGENT_NOT_ALLOWED',
  RULE_OWNER_REQUIRED: 'RULE_OWNER_REQUIRED',
  RULE_OWNER_UNKNOWN: 'RULE_OWNER_UNKNOWN',
  RULE_USERONLY_NOT_ALLOWED: 'RULE_USERONLY_NOT_ALLOWED',
  RULE_OUTSIDE_HOURS: 'RULE_OUTSIDE_HOURS',
  RULE_DAYS_LIMIT: 'RULE_DAYS_LIMIT',
  RULE_ACTIVE_LIMIT: 'RULE_ACTIVE_LIMIT',
  RULE_LEAD_BUSY: 'RULE_LEAD_BUSY',
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

/** The HTTP status each code answers with (api/server.ts); anything unlisted is a 500. */
export const HttpStatus: Partial<Record<ErrorCode, number>> = {
  INPUT_INVALID: 400,
  IMPORT_INVALID: 400,
  CONFIG_INVALID: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  LEASE_LOST: 409,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  RULE_CALLBACKS_OFF: 422,
  RULE_AGENT_NOT_ALLOWED: 422,
  RULE_OWNER_REQUIRED: 422,
  RULE_OWNER_UNKNOWN: 422,
  RULE_USERONLY_NOT_ALLOWED: 422,
  RULE_OUTSIDE_HOURS: 422,
  RULE_DAYS_LIMIT: 422,
  RULE_ACTIVE_LIMIT: 422,
  RULE_LEAD_BUSY: 409,
};
