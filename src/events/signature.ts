import { createHmac, timingSafeEqual } from 'node:crypto';

// Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the endpoint's secret, sent as
// `Callbackd-Signature: v1=<hex>` next to `Callbackd-Timestamp: <unix seconds>`. The timestamp is
// inside the signed text so a captured request cannot be replayed later with a new one.

export function sign(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** For receivers written in TypeScript (README has the same in a few lines). */
export function verify(secret: string, timestamp: number, body: string, signature: string, now: number, toleranceSec = 300): boolean {
  if (Math.abs(now / 1000 - timestamp) > toleranceSec) return false;
  const want = Buffer.from(sign(secret, timestamp, body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
