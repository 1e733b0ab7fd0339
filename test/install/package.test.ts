import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The package as a user gets it: `npm pack` (prepack builds), installed from the tarball into an
// empty directory from the registry, then the bin run directly. Needs the npm registry; slow
// (better-sqlite3 compiles from source here), so it runs once for the whole file.

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'callbackd-pack-'));
const app = join(work, 'app');
let files: string[] = [];
let installLog = '';

beforeAll(async () => {
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: repo, maxBuffer: 64 << 20 });
  // prepack's build prints first; npm's JSON report is the last thing, starting on a line of its own.
  const info = JSON.parse(packed.stdout.slice(packed.stdout.search(/^\[\s*$/m))) as { filename: string; files: { path: string }[] }[];
  files = info[0]!.files.map((f) => f.path);
  mkdirSync(app);
  // npm 11 asks the installing project to approve its dependencies' install scripts; better-sqlite3's
  // builds (or fetches) its native binding, so the directory starts with that approval and nothing
  // else, as README "Install on a server" shows.
  writeFileSync(join(app, 'package.json'), JSON.stringify({ private: true, allowScripts: { 'better-sqlite3': true } }));
  const inst = await run('npm', ['install', '--no-audit', '--no-fund', join(work, info[0]!.filename)], {
    cwd: app, maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  installLog = inst.stdout + inst.stderr;
}, 15 * 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const bin = () => join(app, 'node_modules/.bin/callbackd');

describe('npm package', () => {
  it('ships what a user needs and nothing else', () => {
    for (const need of ['package.json', 'README.md', 'LICENSE', 'sql/0001_init.sql', 'dialplan/callbackd.conf', 'sip-config/pjsip.conf', 'examples/callcenter.yaml', 'examples/callbackd.yaml', 'deploy/callbackd.service']) {
      expect(files, need).toContain(need);
    }
    if (existsSync(join(repo, 'SECURITY.md'))) expect(files).toContain('SECURITY.md');
    if (existsSync(join(repo, 'dist/console/index.html'))) expect(files).toContain('dist/console/index.html');
    const binPath = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.callbackd!;
    expect(files).toContain(binPath.replace(/^\.\//, ''));
    const unwanted = files.filter((f) => /\.map$|^dist\/(test|bench)\/|^(src|test|bench|node_modules|\.ci)\/|tsconfig|vitest/.test(f));
    expect(unwanted).toEqual([]);
  });

  it('installs into an empty directory with no warning', () => {
    expect(installLog).not.toMatch(/npm warn|EBADENGINE|deprecated/i);
  });

  it('leaves the dialplan readable by Asterisk (another user) at the path README shows', () => {
    const pkg = join(app, 'node_modules/callbackd');
    expect(statSync(join(pkg, 'dialplan/callbackd.conf')).mode & 0o777).toBe(0o644);
    for (const dir of [pkg, join(pkg, 'dialplan')]) expect(statSync(dir).mode & 0o755).toBe(0o755);
  });

  it('runs callbackd --help, migrate, and start (Asterisk absent: /readyz 503, SIGTERM exits 0)', async () => {
    const help = await run(bin(), ['--help'], { cwd: app });
    expect(help.stdout).toMatch(/Usage: callbackd/);

    const db = join(app, 'callbackd.db');
    const mig = await run(bin(), ['migrate', '--db', db], { cwd: app });
    expect(mig.stdout).toMatch(/up to date/);
    expect(readFileSync(db).subarray(0, 15).toString()).toBe('SQLite format 3');

    // Nothing listens on port 9: ARI and AMI stay down, the HTTP API takes a free port.
    const cfg = join(app, 'callbackd.yaml');
    writeFileSync(cfg, [
      `database: { path: ${JSON.stringify(db)} }`,
      'ari: { url: "http://127.0.0.1:9", password: x }',
      'ami: { host: 127.0.0.1, port: 9, secret: x }',
      'api: { port: 0 }',
      'agi: { enabled: false }',
      'reconnect: { initialDelayMs: 1000, maxDelayMs: 2000 }',
    ].join('\n'));
    const child = spawn(bin(), ['start', '-c', cfg], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (c: Buffer) => (log += c));
    child.stderr.on('data', (c: Buffer) => (log += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const port = await new Promise<number>((ok, fail) => {
      const t = setInterval(() => {
        const m = /"port":(\d+)[^\n]*HTTP API listening/.exec(log);
        if (m) { clearInterval(t); ok(Number(m[1])); }
      }, 100);
      setTimeout(() => { clearInterval(t); fail(new Error(`no "HTTP API listening" line:\n${log}`)); }, 30_000);
    });
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, ari: false, ami: false });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(log).toContain('callbackd stopped');
  }, 60_000);
});
