import type { OutboxEvent } from '../store/events.js';

// What every consumer receives for one event: the SSE `data:` line and the webhook body are the
// same JSON, so a client can switch between them.

export interface EventPayload {
  id: number;
  type: string;
  at: string;
  callbackId: number;
  version: number;
  actor: string | null;
  data: Record<string, unknown>;
}

export function eventPayload(e: OutboxEvent): EventPayload {
  return { id: e.id, type: e.type, at: new Date(e.at).toISOString(), callbackId: e.callbackId, version: e.version, actor: e.actor, data: e.data };
}
