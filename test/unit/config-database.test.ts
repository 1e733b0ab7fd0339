// database.path (SQLite) or database.url (PostgreSQL): what the configuration accepts, and that a
// PostgreSQL password never reaches a message, a log line or /readyz.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig, looseSecretsWarning } from '../../src/config.js';
import { databaseUrl, databaseWhere } from '../../src/store/open-engine.js';
import { pgWhere } from '../../src/store/pg/engine.js';

const SECRETS = { CALLBACKD_ARI_PASSWORD: 'x', CALLBACKD_AMI_SECRET: 'y' };
const PASSWORD = 's3cr3t-Pa55';
const URL_WITH_PASSWORD = `postgres://callbackd:${PASSWORD}@db.example:6432/center`;

function configFile(text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'cbd-cfg-db-')), 'c.yaml');
  writeFileSync(f, text, { mode: 0o600 });
  return f;
}

const failure = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a failure');
};

describe('config database', () => {
  it('keeps SQLite by default: the path, no url', () => {
    const bounds = { connectTimeoutMs: 5000, queryTimeoutMs: 15000, keepAliveMs: 10000 };
    expect(loadConfig(undefined, SECRETS).database).toEqual({ path: DEFAULTS.database.path, url: undefined, ...bounds });
    expect(loadConfig(configFile('database: { path: /var/lib/callbackd/c.db }\n'), SECRETS).database).toEqual({ path: '/var/lib/callbackd/c.db', url: undefined, ...bounds });
  });

  it('bounds a PostgreSQL connection and statement: defaults, overrides, and bad values refused naming the setting', () => {
    const d = loadConfig(configFile(`database: { url: "${URL_WITH_PASSWORD}", connectTimeoutMs: 2000, queryTimeoutMs: 60000, keepAliveMs: 5000 }\n`), SECRETS).database;
    expect(d).toMatchObject({ connectTimeoutMs: 2000, queryTimeoutMs: 60000, keepAliveMs: 5000 });
    expect(failure(() => loadConfig(configFile('database: { connectTimeoutMs: 0 }\n'), SECRETS))).toMatch(/database\.connectTimeoutMs/);
    expect(failure(() => loadConfig(configFile('database: { queryTimeoutMs: "soon" }\n'), SECRETS))).toMatch(/database\.queryTimeoutMs/);
    expect(failure(() => loadConfig(configFile('database: { keepAliveMs: 1.5 }\n'), SECRETS))).toMatch(/database\.keepAliveMs/);
  });

  it('accepts a postgres:// or postgresql:// url, from the file or CALLBACKD_DATABASE_URL', () => {
    expect(loadConfig(configFile(`database: { url: "${URL_WITH_PASSWORD}" }\n`), SECRETS).database.url).toBe(URL_WITH_PASSWORD);
    const viaEnv = loadConfig(undefined, { ...SECRETS, CALLBACKD_DATABASE_URL: 'postgresql://app@10.0.0.5/cb' });
    expect(viaEnv.database.url).toBe('postgresql://app@10.0.0.5/cb');
    expect(databaseUrl(viaEnv.database)).toBe('postgresql://app@10.0.0.5/cb');
    // A Unix socket: no host in the authority, ?host= names the directory.
    expect(loadConfig(configFile('database: { url: "postgres:///cb?host=/run/postgresql" }\n'), SECRETS).database.url).toBe('postgres:///cb?host=/run/postgresql');
  });

  it('refuses another scheme and both settings at once, naming the setting but never the password', () => {
    const scheme = failure(() => loadConfig(configFile(`database: { url: "mysql://u:${PASSWORD}@h/db" }\n`), SECRETS));
    expect(scheme).toMatch(/database\.url: must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(scheme).not.toContain(PASSWORD);
    const both = failure(() => loadConfig(configFile(`database: { path: ./c.db, url: "${URL_WITH_PASSWORD}" }\n`), SECRETS));
    expect(both).toMatch(/database\.url: set database\.path \(SQLite\) or database\.url \(PostgreSQL\), not both/);
    expect(both).not.toContain(PASSWORD);
    // A file's path and the environment's URL are both at once too: one of them is a mistake.
    expect(failure(() => loadConfig(configFile('database: { path: ./c.db }\n'), { ...SECRETS, CALLBACKD_DATABASE_URL: URL_WITH_PASSWORD }))).toMatch(/not both/);
    expect(failure(() => loadConfig(configFile('database: { url: "" }\n'), SECRETS))).toMatch(/database\.url: must be a postgres/);
  });

  it('says where the database is without user or password', () => {
    expect(pgWhere(URL_WITH_PASSWORD)).toBe('db.example:6432/center');
    expect(pgWhere('postgresql://app@10.0.0.5/cb')).toBe('10.0.0.5:5432/cb');
    expect(pgWhere('postgres:///cb?host=/run/postgresql')).toBe('/run/postgresql:5432/cb');
    expect(databaseWhere({ url: URL_WITH_PASSWORD })).toBe('postgres db.example:6432/center');
    expect(databaseWhere({ path: './c.db' }, {})).toBe('./c.db');
    expect(databaseWhere({ path: './c.db' }, { CALLBACKD_DATABASE_URL: URL_WITH_PASSWORD })).not.toContain(PASSWORD);
  });

  it('warns when a world-readable config file holds a database URL with a password', () => {
    const f = configFile(`database: { url: "${URL_WITH_PASSWORD}" }\n`);
    chmodSync(f, 0o644);
    expect(looseSecretsWarning(f)).toMatch(/readable by every user/);
    const g = configFile('database: { url: "postgres://callbackd@db.example/center" }\n');
    chmodSync(g, 0o644);
    expect(looseSecretsWarning(g)).toBeNull();
  });
});
