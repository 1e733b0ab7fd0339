import { createHmac, timingSafeEqual } from 'node:crypto';

// The signed, expiring URL an AI voice agent fetches its callback's context with (README "AI voice
// agents"). The signature is an HMAC-SHA256 over the callback id and the expiry, so a URL works for
// one callback only and only until it expires; the secret never leaves the daemon. No I/O here.

/** The SIP headers callbackd adds to the INVITE sent to an AI endpoint. */
export const HEADER_CALLBACK_ID = 'X-Callbackd-Callback-Id';
export const HEADER_CONTEXT_URL = 'X-Callbackd-Context-Url';

/** The path of the context route; the id and the query are appended. */
export const CONTEXT_PATH = '/ai/context';

function mac(secret: Buffer, callbackId: number, expiresAtSec: number): Buffer {
  // A fixed prefix keeps this MAC from ever matching one made with the same secret for another purpose.
  return createHmac('sha256', secret).update(`callbackd-ai-context:v1:${callbackId}:${expiresAtSec}`).digest();
}

/** The hex signature for one callback and expiry (epoch seconds). */
export function signContext(secret: Buffer, callbackId: number, expiresAtSec: number): string {
  return mac(secret, callbackId, expiresAtSec).toString('hex');
}

/**
 * Whether `sig` is a valid signature for this callback and expiry, and the expiry is still ahead.
 * The comparison takes the same time whatever the signature holds (timingSafeEqual on equal lengths).
 */
export function verifyContext(secret: Buffer, callbackId: number, expiresAtSec: number, sig: string, nowSec: number): boolean {
  if (!Number.isSafeInteger(callbackId) || !Number.isSafeInteger(expiresAtSec) || !/^[0-9a-f]{64}$/.test(sig)) return false;
  const ok = timingSafeEqual(mac(secret, callbackId, expiresAtSec), Buffer.from(sig, 'hex'));
  return ok && nowSec < expiresAtSec;
}

/** When a URL made now expires: the agent's ring time plus a grace for the bot to fetch it mid-call. */
export function contextExpiry(nowMs: number, ringSec: number, graceSec: number): number {
  return Math.floor(nowMs / 1000) + ringSec + graceSec;
}

/** The full URL: `base` is where the AI endpoint reaches the API (config ai.contextBaseUrl). */
export function contextUrl(base: string, secret: Buffer, callbackId: number, expiresAtSec: number): string {
  const root = base.replace(/\/+$/, '');
  return `${root}${CONTEXT_PATH}/${callbackId}?exp=${expiresAtSec}&sig=${signContext(secret, callbackId, expiresAtSec)}`;
}

/** Channel variables that make Asterisk's chan_pjsip add the headers to the outgoing INVITE. */
export function inviteHeaderVariables(callbackId: number, url: string): Record<string, string> {
  return {
    [`PJSIP_HEADER(add,${HEADER_CALLBACK_ID})`]: String(callbackId),
    [`PJSIP_HEADER(add,${HEADER_CONTEXT_URL})`]: url,
  };
}
