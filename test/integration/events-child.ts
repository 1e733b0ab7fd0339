// A stand-in for the daemon's event side in its own process, for the crash test in
// events-webhooks.test.ts: it is killed with SIGKILL mid-delivery and started again.
import pino from 'pino';
import { startEvents } from '../../src/events/service.js';
import { openDb } from '../../src/store/db.js';

const db = openDb(process.argv[2]!);
await startEvents({
  db,
  log: pino({ level: 'silent' }),
  config: { pollMs: 20, heartbeatMs: 1000, retentionDays: 7 },
  webhooks: { timeoutMs: 60_000, maxAttempts: 5, retryBaseMs: 50, retryMaxMs: 200, concurrency: 4, perEndpoint: 4, idleMs: 50 },
});
process.stdout.write('ready\n');
setInterval(() => {}, 1000);
