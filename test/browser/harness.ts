import { afterAll, beforeAll, describe, expect } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import YAML from 'yaml';
import type { ApiDeps } from '../../src/api/deps.js';
import { buildApi } from '../../src/api/server.js';
import { EventHub } from '../../src/events/hub.js';
import { setPassword } from '../../src/app/people.js';
import { applyImport, parseImport } from '../../src/import.js';
import { openDb, type Db } from '../../src/store/db.js';

// Browser tests: Debian's Chromium (never a downloaded build) driven by playwright-core, against
// the daemon's API and console (buildApi on a loopback port, a temp database seeded through the
// import path). With CI=true a suite whose Chromium cannot start FAILS instead of skipping.

export const CHROMIUM = process.env.CALLBACKD_CHROMIUM ?? '/usr/bin/chromium';
export const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const inCi = process.env.CI === 'true';
// Screenshots go to docs/ (committed) when CALLBACKD_SCREENSHOTS=docs, else to a temp folder, so an
// ordinary test run leaves the work tree clean.
export const SHOTS = process.env.CALLBACKD_SCREENSHOTS === 'docs' ? join(import.meta.dirname, '../../docs') : mkdtempSync(join(tmpdir(), 'cbd-shots-'));

export interface Browser {
  context: BrowserContext;
  close: () => Promise<void>;
}

/** A fresh profile each time: no cookie or cache carries over between suites. */
export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  const profile = mkdtempSync(join(tmpdir(), 'cbd-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1366, height: 900 }, timezoneId: 'Europe/Berlin', locale: 'en-GB', timeout: 30_000 });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Starts Chromium or says why not; the suite decides (skip loudly, or fail in CI). */
export async function tryLaunch(): Promise<{ ok: true; browser: Browser } | { ok: false; reason: string }> {
  try {
    return { ok: true, browser: await launch() };
  } catch (err) {
    return { ok: false, reason: (err as Error).message.split('\n')[0]! };
  }
}

/**
 * One Chromium per test file around `body`. Outside CI a Chromium that cannot start skips the suite
 * with a loud notice; with CI=true that is a failure. A loaded CI machine (scrypt, a cold Chromium)
 * can take a while: two minutes per test.
 */
export async function describeInChromium(title: string, body: (chromium: { readonly browser: Browser }) => void): Promise<void> {
  const started = await tryLaunch();
  if (!started.ok && !inCi) console.warn(`\n*** ${title} SKIPPED: ${started.reason}\n*** (with CI=true this is a failure)\n`);
  let browser: Browser | undefined;
  describe.skipIf(!started.ok && !inCi)(title, { timeout: 120_000 }, () => {
    beforeAll(() => {
      if (!started.ok) throw new Error(`Chromium did not start: ${started.reason}`);
      browser = started.browser;
    });
    afterAll(async () => {
      if (started.ok) await started.browser.close();
    });
    body({
      get browser(): Browser {
        if (!browser) throw new Error('Chromium is not started yet');
        return browser;
      },
    });
  });
}

/**
 * One test's console over `file` and a fresh page with no cookies. `close()` closes both; when
 * `csp` says what runs, it first checks the page logged no Content Security Policy violation.
 */
export async function openConsole(
  chromium: { readonly browser: Browser },
  file: unknown,
  o: { extra?: Partial<ApiDeps>; csp?: string } = {},
): Promise<{ c: Console; page: Page; close: () => Promise<void> }> {
  const c = await startConsole(file, Date.now, o.extra);
  await chromium.browser.context.clearCookies();
  const page = await chromium.browser.context.newPage();
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  const close = async () => {
    if (o.csp) expect(violations, `${o.csp} under the console CSP without a violation`).toEqual([]);
    await page.close();
    await c.close();
  };
  return { c, page, close };
}

export const PASSWORD = 'console pass 1';

export interface Console {
  db: Db;
  api: FastifyInstance;
  url: string;
  close: () => Promise<void>;
}

/** `extra`: more of the daemon's API deps (e.g. recordingFile) for a suite that needs them. */
export async function startConsole(file: unknown, now: () => number = Date.now, extra: Partial<ApiDeps> = {}): Promise<Console> {
  const db = openDb(join(mkdtempSync(join(tmpdir(), 'cbd-browser-')), 'db.sqlite'));
  const f = parseImport(YAML.stringify(file), 'browser fixture');
  await applyImport(db, f, now());
  for (const u of f.users) await setPassword(db, u.id, PASSWORD, now());
  const log = pino({ level: 'silent' });
  // The event stream (GET /events) as the daemon serves it: the agent screen follows it live.
  const hub = await EventHub.open({ db, log, pollMs: 100 });
  hub.start();
  const api = await buildApi({ db, log, now, nudge: () => {}, ready: () => ({ ari: true, ami: true, presence: true }), bodyLimit: 256 * 1024, events: { hub, heartbeatMs: 5000 }, ...extra });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    db,
    api,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      hub.stop();
      await api.close();
      db.$client.close();
    },
  };
}

/** Fills the sign-in form; with the right password, waits until the console shows who is signed in. */
export async function signIn(page: Page, base: string, user: string, password = PASSWORD): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (password === PASSWORD) await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `console-${name}.png`), fullPage: false });
}
