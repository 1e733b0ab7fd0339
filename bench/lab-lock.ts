// The machine-wide lab lock (/tmp/callbackd-lab.lock, the one `flock … npx vitest run test/e2e/…`
// takes), held by a bench only while it uses the lab: a bench that first generates millions of rows
// does not keep other engineers' e2e tests waiting meanwhile. Phases compared side by side run under
// one hold, back to back (a hold inside a hold is free).
// Run under `flock /tmp/callbackd-lab.lock …` it sees the lock held by an ancestor and does nothing
// (taking it again from a second open file would wait for itself).
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';

export const LAB_LOCK = process.env.CALLBACKD_LAB_LOCK ?? '/tmp/callbackd-lab.lock';

/** The pids holding a flock on `file`, from /proc/locks ("1: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF"). */
function holders(file: string): number[] {
  let ino: number;
  try {
    ino = statSync(file).ino;
  } catch {
    return [];
  }
  return readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === 'FLOCK' && Number(f[5]?.split(':')[2]) === ino)
    .map((f) => Number(f[4]));
}

function ancestors(): Set<number> {
  const out = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !out.has(pid)) {
    out.add(pid);
    // /proc/PID/stat: the field after ") STATE " is the parent's pid.
    const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
    if (!ppid) break;
    pid = ppid;
  }
  return out;
}

/** How many holds this process has: the lock is taken again inside a hold for nothing (a bench's phases under one hold). */
let holds = 0;

/** Waits for the lab lock (printing that it waits); the returned function releases it. */
export async function takeLabLock(what: string): Promise<() => void> {
  if (holds > 0) {
    holds++;
    return () => void holds--;
  }
  const mine = ancestors();
  if (holders(LAB_LOCK).some((p) => mine.has(p))) return () => undefined;
  const t0 = Date.now();
  // flock(1) holds the lock while its child (cat, reading our pipe) lives; closing the pipe ends cat,
  // and so the lock, also when this process dies.
  const child = spawn('flock', [LAB_LOCK, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const slow = setTimeout(() => console.log(`  (waiting for ${LAB_LOCK}: another lab run is on; ${what})`), 2000);
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`flock ${LAB_LOCK} exited ${code}`)));
  });
  clearTimeout(slow);
  if (Date.now() - t0 > 2000) console.log(`  (lab lock taken after ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  holds = 1;
  return () => {
    if (--holds === 0) child.stdin.end();
  };
}
