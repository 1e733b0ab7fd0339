import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';

// Runs the CLI in this process (no build needed): what it prints and the exit code it returns.

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const ENV_KEYS = ['CALLBACKD_TOKEN', 'CALLBACKD_TOKEN_FILE', 'CALLBACKD_API', 'CALLBACKD_DB', 'CALLBACKD_DATABASE_URL', 'CALLBACKD_ARI_PASSWORD', 'CALLBACKD_AMI_SECRET'];

export async function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, env);
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ') + '\n')),
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ') + '\n')),
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => out.push(String(s)) > 0),
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => err.push(String(s)) > 0),
  ];
  try {
    const code = await main(['node', 'callbackd', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    for (const s of spies) s.mockRestore();
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}
