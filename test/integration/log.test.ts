import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';

describe('logging', () => {
  it('never writes passwords, secrets or tokens', () => {
    let out = '';
    const sink = new Writable({ write(c, _e, cb) { out += c; cb(); } });
    const log = createLogger('info', sink);
    log.info({ ari: { password: 'p4ss' }, secret: 's3cret', config: { ami: { secret: 'x9' } }, token: 't0k' }, 'config loaded');
    log.warn({ action: { Action: 'Login', Username: 'callbackd', Secret: 'amiS3cret' }, req: { headers: { authorization: 'Bearer cbd_abc' } } }, 'AMI login');
    expect(out).toContain('config loaded');
    expect(out).toContain('"Username":"callbackd"');
    for (const s of ['p4ss', 's3cret', 'x9', 't0k', 'amiS3cret', 'cbd_abc']) expect(out).not.toContain(s);
  });
});
