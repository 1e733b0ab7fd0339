// A genuine black hole for a PostgreSQL cluster of test/lab/postgres.ts: its postmaster and every
// backend stopped with SIGSTOP. The kernel still accepts connections and acknowledges what is sent
// (no RST, no refusal), but nothing ever answers: what a client sees when the network to the
// database host drops packets, or the host hangs. SIGCONT resumes them where they were.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The postmaster's pid (first line of data/postmaster.pid) and its children's (from /proc). */
export function clusterPids(dir: string): number[] {
  const postmaster = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  if (!Number.isInteger(postmaster) || postmaster <= 0) throw new Error(`no postmaster pid in ${dir}/data/postmaster.pid`);
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) children.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return [postmaster, ...children];
}

/** Stops the cluster's processes (SIGSTOP); the returned function resumes them (SIGCONT, idempotent). */
export function freezeCluster(dir: string): () => void {
  const pids = clusterPids(dir);
  // The postmaster first: it cannot fork a new backend between the two steps.
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  let thawed = false;
  return () => {
    if (thawed) return;
    thawed = true;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // exited
      }
    }
  };
}
