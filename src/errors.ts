// Every error callbackd reports on purpose has a row here: its code (what logs, CLI output and
// tests match on), the HTTP status the API answers with (null: a server-side failure, 500), and a
// default message. Messages are written for an admin; a thrown error usually says more.
const TABLE = {
  CONFIG_INVALID: [400, 'the configuration is invalid'],
  CONFIG_NOT_FOUND: [400, 'the configuration file cannot be read'],
  IMPORT_INVALID: [400, 'the import file is invalid'],
  INPUT_INVALID: [400, 'the input is invalid'],
  USAGE: [400, 'wrong command-line usage'],
  NOT_FOUND: [404, 'not found'],
  DB_UNAVAILABLE: [null, 'the database cannot be opened'],
  DB_BUSY: [503, 'the database is busy (another process holds its write lock); nothing was changed, try again'],
  DB_UNREACHABLE: [503, 'the database cannot be reached (stopped, restarting or cut off); nothing was changed, try again'],
  ARI_AUTH: [null, 'Asterisk refused the ARI credentials'],
  ARI_UNREACHABLE: [null, 'Asterisk ARI is not reachable'],
  ARI_TIMEOUT: [null, 'Asterisk ARI did not answer in time'],
  ARI_HTTP: [null, 'Asterisk ARI answered with an error'],
  AMI_AUTH: [null, 'Asterisk refused the AMI credentials'],
  AMI_NOT_CONNECTED: [null, 'not connected to Asterisk AMI'],
  AMI_TIMEOUT: [null, 'Asterisk AMI did not answer in time'],
  AMI_ERROR: [null, 'Asterisk AMI answered with an error'],
  DB_MIGRATION: [null, 'a database migration failed'],
  STORE_MISUSE: [null, 'a store call used the root database connection inside its own transaction'],
  AGI_TIMEOUT: [null, 'the FastAGI peer did not answer in time'],
  AGI_COMMAND: [null, 'a FastAGI command failed'],
  LEASE_LOST: [409, 'another instance holds this callback'],
  UNAUTHENTICATED: [401, 'a valid bearer token is required'],
  FORBIDDEN: [403, 'not allowed for this user'],
  CONFLICT: [409, 'it changed meanwhile; reload and try again'],
  TOO_LARGE: [413, 'the request is too large'],
  RATE_LIMITED: [429, 'too many attempts; wait and try again'],
  // Callback rules (domain/create-rules.ts): the booking is refused and nothing is written.
  RULE_CALLBACKS_OFF: [422, 'callbacks are off for this campaign or agent'],
  RULE_AGENT_NOT_ALLOWED: [422, 'this agent may not book this kind of callback'],
  RULE_OWNER_REQUIRED: [422, 'a USERONLY callback needs an owner'],
  RULE_OWNER_UNKNOWN: [422, 'no such agent'],
  RULE_USERONLY_NOT_ALLOWED: [422, 'USERONLY callbacks are not allowed here'],
  RULE_OUTSIDE_HOURS: [422, 'outside calling hours'],
  RULE_DAYS_LIMIT: [422, "beyond the campaign's days limit"],
  RULE_ACTIVE_LIMIT: [422, "the owner's active callback limit is reached"],
  RULE_LEAD_BUSY: [409, 'the lead already has a callback being dialed'],
} as const satisfies Record<string, readonly [number | null, string]>;

export type ErrorCode = keyof typeof TABLE;
export const ErrorCodes = Object.fromEntries(Object.keys(TABLE).map((k) => [k, k])) as { readonly [K in ErrorCode]: K };

/** The HTTP status a code answers with; 500 for server-side failures and unknown codes. */
export function httpStatus(code: string): number {
  return (TABLE as Record<string, readonly [number | null, string]>)[code]?.[0] ?? 500;
}

export function defaultMessage(code: ErrorCode): string {
  return TABLE[code][1];
}

export class CallbackdError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = defaultMessage(code),
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'CallbackdError';
  }
}

export function isCode(err: unknown, code: ErrorCode): err is CallbackdError {
  return err instanceof CallbackdError && err.code === code;
}

/** The message of anything thrown (an Error, a string, or something else), for logs and replies. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : String(err);
}

/** Node's system error code (ENOENT, EADDRINUSE…) of anything thrown, if it has one. */
export function sysCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
