import { readFileSync } from 'node:fs';

// The AI context URLs' HMAC secret (README "AI voice agents"): the env CALLBACKD_AI_CONTEXT_SECRET,
// else the file ai.contextSecretFile (its whole content, trimmed). Read once at start; never logged.

const MIN_LENGTH = 16;

export function readAiContextSecret(file: string | null, env: NodeJS.ProcessEnv = process.env): { secret: Buffer | null } | { error: string } {
  let text = env.CALLBACKD_AI_CONTEXT_SECRET;
  let from = 'CALLBACKD_AI_CONTEXT_SECRET';
  if (!text && file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return { error: `cannot read ai.contextSecretFile ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
    from = `ai.contextSecretFile ${file}`;
  }
  if (!text) return { secret: null };
  const s = text.trim();
  if (s.length < MIN_LENGTH) return { error: `the AI context secret (${from}) must be at least ${MIN_LENGTH} characters (e.g. openssl rand -hex 32)` };
  return { secret: Buffer.from(s, 'utf8') };
}
