// A one-line progress bar on a terminal: stderr only, redrawn in place at most every 100 ms, and
// nothing at all when stderr is not a TTY (a pipe, a log, cron) or the output is --json.

export interface ProgressBar {
  update(label: string, done: number, total: number, detail: string): void;
  end(): void;
}

const WIDTH = 30;

export function progressBar(stream: NodeJS.WriteStream = process.stderr, enabled = true, clock: () => number = Date.now): ProgressBar {
  if (!enabled || !stream.isTTY) return { update: () => undefined, end: () => undefined };
  let last = 0;
  let drawn = false;
  return {
    update(label, done, total, detail) {
      const now = clock();
      if (now - last < 100 && done < total) return;
      last = now;
      const f = total > 0 ? Math.min(1, done / total) : 0;
      const full = Math.round(f * WIDTH);
      stream.write(`\r\x1b[K${label} [${'#'.repeat(full)}${'-'.repeat(WIDTH - full)}] ${String(Math.floor(f * 100)).padStart(3)}% ${detail}`);
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
