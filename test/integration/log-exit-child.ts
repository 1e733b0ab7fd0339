// Child of test/integration/log.test.ts: logs N lines to the daemon's stderr logger, then ends as told.
import { createLogger } from '../../src/log.js';

const [how, n] = [process.argv[2], Number(process.argv[3] ?? 20000)];
const log = createLogger('info');
for (let i = 0; i < n; i++) log.info({ i, pad: 'x'.repeat(100) }, 'line');
log.info('last line');
if (how === 'exit') process.exit(3);
if (how === 'throw') throw new Error('crash after logging');
