// Opt-in soak of the crash storm (bench/crash-storm.ts), the size of issue 15's report: 120
// callbacks over 4 minutes, SIGKILL every 3–8 s, restart within 1.5 s. Prints the figures; exits
// non-zero if a promise broke. Run under the lab lock: flock /tmp/callbackd-lab.lock npm run bench:crash-soak
import { crashStorm } from './crash-storm.js';

const n = Number(process.argv[2] ?? 120);
const spreadMs = Number(process.argv[3] ?? 240_000);
try {
  const r = await crashStorm({ callbacks: n, spreadMs, killMinMs: 3000, killMaxMs: 8000, downMaxMs: 1500 });
  console.log(`crash soak: ${r.kills} kills, ${r.callbacks} callbacks, ${r.carrierCalls} carrier calls, ${r.answeredWhileDown} answered while callbackd was down, dead-air answers ${r.deadAir}; outcomes ${JSON.stringify(r.outcomes)}`);
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
}
