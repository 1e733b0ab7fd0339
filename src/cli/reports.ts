import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { callbacksCsv } from '../app/export.js';
import { callbackReport } from '../app/report.js';
import type { ReportDim } from '../domain/report.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import type { Conn } from '../store/conn.js';
import { CALLBACK_STATES } from '../store/schema.js';

// `callbackd report` and `callbackd export`: the same report and CSV as GET /reports/callbacks and
// GET /export/callbacks.csv, read from the database (an admin's view: every campaign).

type WithDb = <T>(o: { db?: string; config?: string }, f: (db: Conn) => Promise<T>) => Promise<T>;
const list = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);
function instant(v: string): number {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `"${v}" is not a date or ISO 8601 instant`);
  return t;
}
const DAY = 86_400_000;

export function reportCommands(program: Command, dbHelp: string, withDb: WithDb): void {
  program
    .command('report')
    .description('promises kept per campaign / agent / due day: booked, dialed, kept on time, outcomes, median lateness')
    .option('--from <when>', 'due at or after (date or ISO instant; default 7 days ago)')
    .option('--to <when>', 'due before (default now)')
    .option('--campaign <ids>', 'comma-separated campaigns')
    .option('--agent <ids>', 'comma-separated owner agents')
    .option('--by <dims>', 'group by any of campaign,agent,day', 'campaign,agent,day')
    .option('--on-time-sec <n>', 'dialed within this many seconds of due (or of the window opening) counts as kept', '60')
    .option('--json', 'print JSON')
    .option('--db <file>', dbHelp)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action(async (o: { from?: string; to?: string; campaign?: string; agent?: string; by: string; onTimeSec: string; json?: boolean; db?: string; config?: string }) => {
      const by = list(o.by);
      const bad = by.find((b) => !['campaign', 'agent', 'day'].includes(b));
      if (bad) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `--by: "${bad}" is not one of campaign, agent, day`);
      const onTimeSec = Number(o.onTimeSec);
      if (!Number.isInteger(onTimeSec) || onTimeSec < 0) throw new CallbackdError(ErrorCodes.INPUT_INVALID, '--on-time-sec must be a whole number of 0 or more');
      const to = o.to ? instant(o.to) : Date.now();
      const from = o.from ? instant(o.from) : to - 7 * DAY;
      const rows = await withDb(o, async (db) =>
        await callbackReport(db, { scope: { kind: 'all' }, from, to, campaign: o.campaign ? list(o.campaign) : undefined, agent: o.agent ? list(o.agent) : undefined, by: by as ReportDim[], onTimeSec }),
      );
      if (o.json) return console.log(JSON.stringify({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), onTimeSec, items: rows }, null, 2));
      if (rows.length === 0) return console.log('no callbacks due in that period');
      const head = ['CAMPAIGN', 'AGENT', 'DAY', 'BOOKED', 'DIALED', 'ON TIME', 'COMPLETED', 'NO ANSWER', 'BUSY', 'FAILED', 'CANCELLED', 'OPEN', 'MEDIAN LATE (s)'];
      const table = [head, ...rows.map((r) => [r.campaign ?? '*', r.agent === null ? '*' : r.agent || '-', r.day ?? '*', r.booked, r.dialed, r.keptOnTime, r.completed, r.noAnswer, r.busy, r.failed, r.cancelled, r.open, r.medianLatenessSec ?? '-'].map(String))];
      const widths = head.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
      for (const t of table) console.log(t.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
    });

  program
    .command('export')
    .description('callbacks as CSV (the columns of the API view), streamed: any number of rows in little memory')
    .option('--state <states>', 'comma-separated states')
    .option('--campaign <ids>', 'comma-separated campaigns')
    .option('--list <ids>', 'comma-separated lists')
    .option('--agent <ids>', 'comma-separated owner agents')
    .option('--type <type>', 'USERONLY or ANYONE')
    .option('--from <when>', 'due at or after')
    .option('--to <when>', 'due at or before')
    .option('--out <file>', 'write here instead of stdout')
    .option('--db <file>', dbHelp)
    .option('-c, --config <file>', 'read database.path from this config file')
    .action(async (o: { state?: string; campaign?: string; list?: string; agent?: string; type?: string; from?: string; to?: string; out?: string; db?: string; config?: string }) => {
      const state = o.state ? list(o.state).map((s) => s.toUpperCase()) : undefined;
      const bad = state?.find((s) => !(CALLBACK_STATES as readonly string[]).includes(s));
      if (bad) throw new CallbackdError(ErrorCodes.INPUT_INVALID, `--state: "${bad}" is not one of ${CALLBACK_STATES.join(', ')}`);
      const type = o.type?.toUpperCase();
      if (type && type !== 'USERONLY' && type !== 'ANYONE') throw new CallbackdError(ErrorCodes.INPUT_INVALID, '--type must be USERONLY or ANYONE');
      const out = o.out ? createWriteStream(o.out) : process.stdout;
      await withDb(o, async (db) => {
        const q = {
          scope: { kind: 'all' as const }, state, campaign: o.campaign ? list(o.campaign) : undefined, list: o.list ? list(o.list) : undefined,
          agent: o.agent ? list(o.agent) : undefined, type: type as 'USERONLY' | 'ANYONE' | undefined, from: o.from ? instant(o.from) : undefined, to: o.to ? instant(o.to) : undefined,
        };
        for await (const chunk of callbacksCsv(db, q, Date.now)) if (!out.write(chunk)) await once(out, 'drain');
      });
      if (o.out) await new Promise<void>((r) => (out as ReturnType<typeof createWriteStream>).end(r));
    });
}
