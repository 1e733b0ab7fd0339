import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// deploy/callbackd.service: supervision and hardening settings present, and systemd's own checker
// accepts the file (syntax, every value understood) when systemd is installed. This machine has no
// systemd as PID 1, so the unit is checked, not run: README "Install on a server" says so.

const unit = readFileSync(resolve(import.meta.dirname, '../../deploy/callbackd.service'), 'utf8');
const settings = new Map(unit.split('\n').filter((l) => /^[A-Za-z]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('deploy/callbackd.service', () => {
  it('restarts at once, runs the bin directly as a system user, and keeps its sandbox open only where it works', () => {
    expect(Object.fromEntries(settings)).toMatchObject({
      Restart: 'always', RestartSec: '1', StartLimitIntervalSec: '0', User: 'callbackd', Group: 'callbackd',
      ExecStart: '/opt/callbackd/node_modules/.bin/callbackd start -c /etc/callbackd/callbackd.yaml',
      ProtectSystem: 'strict', ReadWritePaths: '/var/lib/callbackd', StateDirectory: 'callbackd', ProtectHome: 'yes', PrivateTmp: 'yes',
      NoNewPrivileges: 'yes', CapabilityBoundingSet: '', RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
    });
    expect(settings.get('ExecStart')).not.toMatch(/npx|npm /);
    expect(settings.has('MemoryDenyWriteExecute')).toBe(false); // V8's JIT needs it off
  });

  it.skipIf(!hasAnalyze)('passes `systemd-analyze verify` with no complaint and rates exposure OK', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbd-unit-'));
    // verify insists that ExecStart exists and is executable: stand in for the installed bin.
    const bin = join(dir, 'callbackd');
    writeFileSync(bin, '#!/bin/sh\nexit 0\n');
    chmodSync(bin, 0o755);
    const file = join(dir, 'callbackd.service');
    writeFileSync(file, unit.replace('/opt/callbackd/node_modules/.bin/callbackd', bin));
    const v = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect(v.stdout + v.stderr).toBe(''); // a misspelt or bad value is only a warning line, exit 0
    expect(v.status).toBe(0);
    const s = spawnSync('systemd-analyze', ['security', '--offline=true', file], { encoding: 'utf8' });
    const level = /Overall exposure level for callbackd\.service: ([\d.]+) (\w+)/.exec(s.stdout);
    expect(level, s.stdout + s.stderr).not.toBeNull();
    expect(Number(level![1])).toBeLessThan(2);
  });
});
if (!hasAnalyze) console.warn('SKIPPED: systemd-analyze not installed; deploy/callbackd.service not verified');
