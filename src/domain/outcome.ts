// What a hangup means for the customer leg. The real cause comes from ARI's ChannelDestroyed
// (`cause` = Q.850, `tech_cause` = SIP code); ChannelHangupRequest and Dial do not carry it
// reliably (measured on Asterisk 22.10).
export type CustomerOutcome =
  | 'ANSWERED'
  | 'BUSY'
  | 'NO_ANSWER'
  | 'REJECTED'
  | 'UNALLOCATED'
  | 'INVALID_NUMBER'
  | 'CONGESTION'
  | 'UNKNOWN'
  /** Answered while callbackd was away, held past the hold time, heard the apology (callbackd-hold.conf). */
  | 'APOLOGISED'
  /** Answered, then hung up before an agent was connected (held, or waiting in the app). */
  | 'HUNG_UP_WAITING';

export const Q850 = {
  UNALLOCATED: 1,
  NORMAL_CLEARING: 16,
  USER_BUSY: 17,
  NO_USER_RESPONSE: 18,
  NO_ANSWER: 19,
  SUBSCRIBER_ABSENT: 20,
  CALL_REJECTED: 21,
  NUMBER_CHANGED: 22,
  INVALID_NUMBER_FORMAT: 28,
  NORMAL_UNSPECIFIED: 31,
  CONGESTION: 34,
  NETWORK_OUT_OF_ORDER: 38,
  TEMPORARY_FAILURE: 41,
  SWITCH_CONGESTION: 42,
  REQUESTED_CHAN_UNAVAIL: 44,
} as const;

/** Classifies a customer leg that ended before it was answered. */
export function classifyUnanswered(cause: number | null, sipCode: number | null): CustomerOutcome {
  switch (cause) {
    case Q850.USER_BUSY:
      return 'BUSY';
    case Q850.NO_USER_RESPONSE:
    case Q850.NO_ANSWER:
    case Q850.SUBSCRIBER_ABSENT:
      return 'NO_ANSWER';
    case Q850.CALL_REJECTED:
      return 'REJECTED';
    case Q850.UNALLOCATED:
    case Q850.NUMBER_CHANGED:
      return 'UNALLOCATED';
    case Q850.INVALID_NUMBER_FORMAT:
      return 'INVALID_NUMBER';
    case Q850.CONGESTION:
    case Q850.NETWORK_OUT_OF_ORDER:
    case Q850.TEMPORARY_FAILURE:
    case Q850.SWITCH_CONGESTION:
    case Q850.REQUESTED_CHAN_UNAVAIL:
      return 'CONGESTION';
  }
  // Some carriers send only a SIP code that Asterisk maps to a generic cause.
  if (sipCode === 486 || sipCode === 600) return 'BUSY';
  if (sipCode === 408 || sipCode === 480) return 'NO_ANSWER';
  if (sipCode === 403 || sipCode === 603) return 'REJECTED';
  if (sipCode === 404 || sipCode === 410) return 'UNALLOCATED';
  if (sipCode === 484) return 'INVALID_NUMBER';
  if (sipCode !== null && sipCode >= 500 && sipCode < 600) return 'CONGESTION';
  return 'UNKNOWN';
}

/** Outcomes that end the callback for good: the number cannot be reached by retrying. */
export function isPermanentFailure(o: CustomerOutcome): boolean {
  return o === 'REJECTED' || o === 'UNALLOCATED' || o === 'INVALID_NUMBER';
}

const CAUSE_TEXT: Record<number, string> = {
  1: 'unallocated number',
  16: 'normal clearing',
  17: 'user busy',
  18: 'no user response',
  19: 'no answer',
  20: 'subscriber absent',
  21: 'call rejected',
  22: 'number changed',
  28: 'invalid number format',
  31: 'normal, unspecified',
  34: 'no circuit/channel available (congestion)',
  38: 'network out of order',
  41: 'temporary failure',
  42: 'switching equipment congestion',
  44: 'requested channel not available',
};

/** "Q.850 17 (user busy), SIP 486" — how a cause is written for people. */
export function describeCause(cause: number | null, sipCode: number | null): string {
  const parts: string[] = [];
  if (cause !== null) parts.push(`Q.850 ${cause}${CAUSE_TEXT[cause] ? ` (${CAUSE_TEXT[cause]})` : ''}`);
  if (sipCode !== null) parts.push(`SIP ${sipCode}`);
  return parts.join(', ') || 'no cause reported';
}
