import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

// Every FastAGI request carries auth=SHA1(secret:UNIQUEID), computed by the shipped dialplan
// (dialplan/callbackd.conf) from CALLBACKD_AGI_SECRET, a global variable Asterisk reads from a
// file outside the repo (#tryinclude callbackd-agi-secret.conf). Hashing with the channel's
// UNIQUEID keeps the secret itself out of Asterisk's verbose log (which prints AGI()'s
// arguments) and binds each token to the one channel it was made for.

/** What a secret may look like: long, and nothing Asterisk's config parser treats specially (; is a comment). */
export const SECRET_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;

/** The token the dialplan sends for this channel. */
export function agiToken(secret: string, uniqueid: string): string {
  return createHash('sha1').update(`${secret}:${uniqueid}`).digest('hex');
}

/** Why this request is not authenticated, or null when it is. */
export function agiAuthRefusal(secret: string | null, env: Record<string, string>, auth: string | null): string | null {
  if (!secret) return 'callbackd has no AGI secret (set agi.secretFile); every AGI request is refused';
  const uniqueid = env.agi_uniqueid ?? '';
  if (!uniqueid) return 'the AGI header has no agi_uniqueid';
  if (!auth) return 'no auth= in the AGI URL';
  const want = Buffer.from(agiToken(secret, uniqueid));
  const got = Buffer.from(auth.toLowerCase());
  if (got.length !== want.length || !timingSafeEqual(got, want)) return 'auth= does not match (does Asterisk read the same secret file?)';
  return null;
}

/**
 * Reads the secret file, shared with Asterisk: a line `CALLBACKD_AGI_SECRET=value` (the form the
 * dialplan #tryincludes into [globals]). Read on every request, so a new secret takes effect
 * without a restart (after `dialplan reload` on Asterisk's side).
 */
export function readAgiSecret(file: string): { secret: string } | { error: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { error: `cannot read agi.secretFile ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  const m = /^\s*CALLBACKD_AGI_SECRET\s*=>?\s*(\S*)\s*$/m.exec(text);
  if (!m) return { error: `agi.secretFile ${file} has no line CALLBACKD_AGI_SECRET=…` };
  if (!SECRET_PATTERN.test(m[1]!)) return { error: `the secret in ${file} must be 16-256 letters, digits, _ or - (e.g. openssl rand -hex 32)` };
  return { secret: m[1]! };
}
