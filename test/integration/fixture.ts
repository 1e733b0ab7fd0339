import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import YAML from 'yaml';
import type { ApiDeps } from '../../src/api/deps.js';
import { buildApi } from '../../src/api/server.js';
import { createToken } from '../../src/app/auth.js';
import { applyImport, parseImport } from '../../src/import.js';
import { openDb, type Db } from '../../src/store/db.js';

// The integration tests' call center and API, written once: a fresh database with an import file,
// a token per user, and the HTTP API through fastify's inject (test/integration/{api,events,
// hostile-*,agi}.test.ts).

/** Monday 10:00 in New York. */
export const NOW = Date.parse('2026-11-23T15:00:00Z');

type ImportFile = Record<string, Record<string, unknown>[]>;

/** One trunk, 'carrier', and the outbound number +15550100001 on it. */
export const ONE_TRUNK: ImportFile = {
  trunks: [{ id: 'carrier' }],
  numbers: [{ number: '+15550100001', trunk: 'carrier' }],
};

/**
 * Two campaigns (C1 in New York, C2 in London) on one trunk, a list each, two agents of C1 with a
 * phone each, three leads in C1 and one in C2, an admin and a manager of C1 who may modify leads.
 * `more` adds rows after these, section by section.
 */
export function callCenter(more: ImportFile = {}): ImportFile {
  const base: ImportFile = {
    ...ONE_TRUNK,
    campaigns: [
      { id: 'C1', name: 'One', time_zone: 'America/New_York', outbound_number: '+15550100001' },
      { id: 'C2', name: 'Two', time_zone: 'Europe/London', outbound_number: '+15550100001' },
    ],
    lists: [{ id: 'L1', campaign: 'C1' }, { id: 'L2', campaign: 'C2' }],
    agents: [
      { id: 'a1', name: 'A1', campaigns: ['C1'] },
      { id: 'a2', name: 'A2', campaigns: ['C1'] },
    ],
    phones: [{ endpoint: 'p1', agent: 'a1' }, { endpoint: 'p2', agent: 'a2' }],
    leads: [
      { id: 'n1', list: 'L1', first_name: 'Ann', phone: '+12125550101' },
      { id: 'n2', list: 'L1', phone: '+12125550102' },
      { id: 'n3', list: 'L1', phone: '+12125550103' },
      { id: 'u1', list: 'L2', phone: '+442079460018' },
    ],
    users: [
      { id: 'root', role: 'admin' },
      { id: 'mgr', role: 'manager', campaigns: ['C1'], lead_modify: true },
    ],
  };
  const out: ImportFile = { ...base };
  for (const [k, rows] of Object.entries(more)) out[k] = [...(base[k] ?? []), ...rows];
  return out;
}

/** A new database in its own temporary directory with `file` imported at `now`. */
export function importedDb(prefix: string, file: ImportFile, now = NOW): { db: Db; dbPath: string } {
  const dbPath = join(mkdtempSync(join(tmpdir(), `cbd-${prefix}-`)), 'db.sqlite');
  const db = openDb(dbPath);
  applyImport(db, parseImport(YAML.stringify(file), 'fixture'), now);
  return { db, dbPath };
}

/** An API token for each of the file's users, by user id. */
export function tokensFor(db: Db, file: ImportFile, now = NOW): Record<string, string> {
  const tok: Record<string, string> = {};
  for (const u of file.users ?? []) tok[u.id as string] = createToken(db, u.id as string, 'test', now).token;
  return tok;
}

/** The HTTP API over `db`: silent log, the clock at NOW, ready, nothing to nudge, unless `o` says otherwise. */
export function testApi(db: Db, o: Partial<ApiDeps> = {}): Promise<FastifyInstance> {
  return buildApi({
    db, log: pino({ level: 'silent' }), now: () => NOW, nudge: () => undefined,
    ready: () => ({ ari: true, ami: true, presence: true }), bodyLimit: 128 * 1024, ...o,
  });
}
