// bench: how fast can this lab's Asterisk start N calls through ARI, with no daemon in the way?
// N POST /channels (the same originate callbackd sends: our own channel id, the hold context) fired
// with C in flight over kept-alive connections, for each C given; lateness = start → the carrier's
// INVITE (SIPp's log). It is the floor under the 500-call burst (issue 18 item 6): a daemon cannot
// place its calls faster than Asterisk takes them.
//   node dist/bench/ari-floor.js [N] [C,C,...]     (default 500 and 8,16,32)
import { KeepAliveHttp } from '../src/asterisk/ari-http.js';
import { carrier, provisionLab, startAsterisk, stopAsterisk, tempDir, waitFor, sleep } from '../test/lab/lab.js';
import { traced } from './lab-bench.js';
import { takeLabLock } from './lab-lock.js';

const N = Number(process.argv[2] ?? 500);
const CONCURRENCY = (process.argv[3] ?? '8,16,32').split(',').map(Number);
const ARI = 'http://127.0.0.1:8088/ari';
const AUTH = 'Basic ' + Buffer.from('callbackd:lab-ari-secret').toString('base64');

const release = await takeLabLock('ari-floor');
const dir = tempDir('ari-floor');
provisionLab();
startAsterisk();
const trunk = carrier('answer', dir);
try {
  await sleep(2000);
  for (const [round, c] of CONCURRENCY.entries()) {
    const http = new KeepAliveHttp(false, c);
    const prefix = `+1555${400 + round}`;
    const t0 = Date.now();
    let next = 0;
    const answered: number[] = [];
    const worker = async () => {
      while (next < N) {
        const i = next++;
        const num = `${prefix}${String(i).padStart(4, '0')}`;
        const url = new URL(`${ARI}/channels/floor-${t0}-${i}`);
        for (const [k, v] of Object.entries({ endpoint: `PJSIP/${num}@carrier`, context: 'callbackd-hold', extension: 'leg', priority: '1', callerId: '+15550100001', timeout: '30' })) url.searchParams.set(k, v);
        const r = await http.request('POST', url, { Authorization: AUTH, 'Content-Type': 'application/json' }, JSON.stringify({ variables: { CALLBACKD_APP: 'nobody', CALLBACKD_ARGS: 'customer,0' } }), 10_000);
        if (r.status !== 200) throw new Error(`originate ${i}: ${r.status} ${r.text}`);
        answered.push(Date.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: c }, worker));
    const restDone = Date.now() - t0;
    const invites = () => {
      const first = new Map<string, number>();
      for (const m of traced(trunk)) {
        const num = /^INVITE sip:(\+\d+)@/.exec(m.firstLine)?.[1];
        if (m.direction === 'received' && num?.startsWith(prefix) && !first.has(num)) first.set(num, m.at - t0);
      }
      return first;
    };
    await waitFor('every INVITE', () => invites().size >= N, 60_000, 1000);
    const at = [...invites().values()].sort((a, b) => a - b);
    console.log(`ari-floor N=${N} in flight=${c}: REST answered in ${restDone} ms; INVITEs first +${at[0]} ms, p50 +${at[Math.floor(at.length / 2)]} ms, last +${at[at.length - 1]} ms`);
    http.close();
    await sleep(8000); // the carrier ends its calls (3 s talk) before the next round
  }
} finally {
  trunk.stop();
  stopAsterisk();
  release();
}
