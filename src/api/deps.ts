import type { EventHub } from '../events/hub.js';
import type { Logger } from '../log.js';
import type { Conn } from '../store/conn.js';

// What the HTTP API needs from the daemon; its own file so route modules and server.ts do not
// import each other.

export interface ApiDeps {
  db: Conn;
  log: Logger;
  now: () => number;
  /** Wakes the scheduler: a change made here is acted on at once. */
  nudge: () => void;
  /** Readiness: is the daemon connected to Asterisk? */
  /** server and database: which Asterisk server and which database this daemon uses (README "Running several servers"). */
  ready: () => { ari: boolean; ami: boolean; presence: boolean; server?: string; database?: { engine: 'sqlite' | 'pg'; where: string } };
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** How long a client may take to send its headers / its whole request (default 10 s / 30 s). */
  timeouts?: { headersMs: number; requestMs: number };
  /** The outbox follower behind GET /events (src/events); without it the route is not served. */
  events?: { hub: EventHub; heartbeatMs: number };
  /** The built console (dist/console); default: found next to the code, null: not served. */
  consoleDir?: string | null;
  /** A stored call recording's file from Asterisk (src/api/recordings.ts); null: none by that name. */
  recordingFile?: (name: string) => Promise<Response | null>;
  /** The AI context URLs' HMAC secret (config ai.contextSecretFile); without it GET /ai/context answers 404. */
  aiContextSecret?: Buffer;
}
