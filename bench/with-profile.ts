// Runs the callbackd CLI with V8's CPU profiler on (`--cpu-prof` is refused in NODE_OPTIONS, and the
// lab benches start the daemon themselves): BENCH_CLI=dist/bench/with-profile.js PROFILE_DIR=DIR
// npm run bench:burst ... writes DIR/daemon-PID.cpuprofile when the daemon gets SIGTERM. Open it in
// Chrome DevTools, or summarise it with dist/bench/profile-summary.js.
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.PROFILE_DIR ?? '.';
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: Number(process.env.PROFILE_INTERVAL_US ?? 500) });
session.post('Profiler.start');
process.once('SIGTERM', () => {
  session.post('Profiler.stop', (err, r) => {
    if (err) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `daemon-${process.pid}.cpuprofile`), JSON.stringify(r.profile));
  });
});
await import('../src/cli.js');
