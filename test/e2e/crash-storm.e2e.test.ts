// The crash storm of issue 15, CI-sized (bench/crash-storm.ts does the work and the checks):
// 30 callbacks come due over 45 s while callbackd is SIGKILLed every 3–8 s and restarted within
// 1.5 s. A longer soak: npm run bench:crash-soak.
import { describe, expect, it } from 'vitest';
import { crashStorm } from '../../bench/crash-storm.js';
import { tryLab } from '../lab/lab.js';

const lab = tryLab();
const inCi = process.env.CI === 'true';
if (!lab.ok && !inCi) console.warn(`\n*** crash storm SKIPPED: ${lab.reason}\n*** (with CI=true this is a failure)\n`);

describe.skipIf(!lab.ok && !inCi)('crash storm', () => {
  it('SIGKILL every 3–8 s, restarts within 1.5 s, 30 callbacks over 45 s: no dead air, one INVITE per counted attempt, every answer recorded, nothing lost', async () => {
    if (!lab.ok) throw new Error(`the lab could not start: ${lab.reason}`);
    // Throws, naming the promise, if one is broken (see bench/crash-storm.ts).
    const r = await crashStorm({ callbacks: 30, spreadMs: 45_000, killMinMs: 3000, killMaxMs: 8000, downMaxMs: 1500 });
    console.log(`crash storm: ${r.kills} kills, ${r.callbacks} callbacks, ${r.carrierCalls} carrier calls, ${r.answeredWhileDown} answered while callbackd was down, dead-air answers ${r.deadAir}; outcomes ${JSON.stringify(r.outcomes)}`);
    expect(r.kills).toBeGreaterThanOrEqual(5);
    expect(r.deadAir).toBe(0);
    expect(r.callbacks).toBe(30);
  }, 180_000);
});
