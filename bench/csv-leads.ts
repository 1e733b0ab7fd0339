import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';

// What the CSV import bench (bench/csv-import.ts) and its CI-sized test share: a leads CSV written
// row by row, and the CLI run as its own process with its peak resident memory read from /proc.

/** Writes `n` leads of list `list` as a VICIdial-like CSV (BOM, CRLF, quoted names, national and E.164 numbers). */
export async function writeLeadsCsv(file: string, n: number, list: string, prefix = 'csv'): Promise<void> {
  const out = createWriteStream(file);
  out.write('\uFEFFid,list,First Name,Last Name,Phone Number,time_zone\r\n');
  for (let i = 0; i < n; i++) {
    const local = String(1_000_000 + (i % 9_000_000)).slice(-7);
    const phone = i % 2 ? `(212) ${local.slice(0, 3)}-${local.slice(3)}` : `+1646${local}`;
    const zone = i % 3 ? '' : 'America/Chicago';
    const line = `${prefix}${i},${list},"Ann ""${i}""","Smith, Jr",${phone},${zone}\r\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** the process's peak resident set (VmHWM), KiB */
  peakKb: number;
}

// dist/bench → dist/src; from the sources (vitest) → the build in dist/.
const CLI = join(import.meta.dirname, import.meta.dirname.endsWith('/dist/bench') ? '../src/cli.js' : '../dist/src/cli.js');

/** Runs the built CLI (dist/src/cli.js) and samples its VmHWM until it exits. */
export async function runCliMeasured(args: string[]): Promise<Measured> {
  const t0 = performance.now();
  const c = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let stdout = '';
  let stderr = '';
  c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  let peakKb = 0;
  const sample = () => {
    try {
      peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'))?.[1] ?? 0));
    } catch {
      /* exited between samples */
    }
  };
  const timer = setInterval(sample, 20);
  const [code] = (await once(c, 'exit')) as [number | null];
  clearInterval(timer);
  return { code, stdout, stderr, ms: performance.now() - t0, peakKb };
}
