import { writeFileSync } from 'node:fs';
import pino from 'pino';
import { openDb } from '../store/db.js';
import { buildApi } from './server.js';

// Build step: writes the API's OpenAPI document (from buildApi over an empty in-memory database)
// to the file given; openapi-typescript then turns it into the console's client types, so the
// console's client is typed from the same zod schemas that validate the requests.

const out = process.argv[2];
if (!out) {
  console.error('usage: node dist/src/api/console-openapi.js <out.json>');
  process.exit(2);
}
const db = openDb(':memory:');
const api = await buildApi({ db, log: pino({ level: 'silent' }), now: Date.now, nudge: () => {}, ready: () => ({ ari: false, ami: false, presence: false }), bodyLimit: 1024, consoleDir: null });
writeFileSync(out, JSON.stringify(api.swagger(), null, 2) + '\n');
await api.close();
await db.close();
