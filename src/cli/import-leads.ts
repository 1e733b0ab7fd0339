import type { Command } from 'commander';
import { parseMap } from '../csv-columns.js';
import { CallbackdError, ErrorCodes } from '../errors.js';
import { importCsvLeads, type CsvLeadResult } from '../import-csv.js';
import { progressBar } from './progress.js';
import { dbOptions, dbTarget, examples, openTarget, positiveInt, printJson, type DbOptions } from './shared.js';

// `callbackd import-leads FILE.csv`: leads from a CSV, the way call centers load them (README
// "Import leads from CSV"). The call center itself (campaigns, lists…) comes from `callbackd import`.

interface Options extends DbOptions {
  list?: string;
  campaign?: string;
  map?: string;
  skipBad?: boolean;
  ignoreExtraColumns?: boolean;
  batch: number;
  json?: boolean;
}

function summary(r: CsvLeadResult): string {
  const head = `imported ${r.file}: ${r.created + r.updated} of ${r.rows} row(s) — ${r.created} new lead(s), ${r.updated} updated${r.listCreated ? `, list ${r.listCreated} created` : ''}`;
  return r.skipped ? `${head}; skipped ${r.skipped} bad row(s) (--skip-bad):\n  ${r.problems.join('\n  ')}` : head;
}

export function importLeadsCommand(program: Command): void {
  examples(
    dbOptions(
      program
        .command('import-leads <file>')
        .description(
          'load leads from a CSV file with a header row: the header is checked first, then every row as `import` checks a lead; all or nothing unless --skip-bad; a lead whose id exists is updated; streams, so any size fits in memory',
        ),
    ),
    [
      'callbackd import-leads leads.csv --list L-SPRING --db callbackd.db',
      'callbackd import-leads new.csv --list L-JUNE --campaign sales --db callbackd.db',
      'callbackd import-leads export.csv --list L1 --map "id=Vendor ID,phone=Phone Number,first_name=First" --ignore-extra-columns -c /etc/callbackd/callbackd.yaml',
    ],
  )
    .option('--list <id>', "the list of every row (a `list` column, when there is one, wins where it is filled); required without a `list` column")
    .option('--campaign <id>', 'create --list in this campaign when it does not exist yet')
    .option('--map <pairs>', 'which column fills which lead field: "FIELD=COLUMN,…" (default: the column named like the field; "First Name" fills first_name)')
    .option('--skip-bad', 'import the good rows and report the bad ones (default: a bad row stops the whole import)')
    .option('--ignore-extra-columns', 'ignore columns that fill no lead field (default: refuse them, naming the closest field)')
    .option('--batch <rows>', 'rows per transaction while writing (a running daemon writes between them)', positiveInt, 2000)
    .option('--json', 'print the result as JSON (and no progress bar)')
    .action(async (file: string, o: Options) => {
      const m = parseMap(o.map);
      if ('error' in m) throw new CallbackdError(ErrorCodes.INPUT_INVALID, m.error);
      const bar = progressBar(process.stderr, !o.json);
      const db = await openTarget(dbTarget(o));
      try {
        const r = await importCsvLeads(db, file, {
          list: o.list,
          campaign: o.campaign,
          map: m.map,
          skipBad: !!o.skipBad,
          ignoreExtraColumns: !!o.ignoreExtraColumns,
          batchRows: o.batch,
          now: Date.now(),
          progress: (p) => bar.update(p.phase, p.bytes, p.totalBytes, `${p.rows.toLocaleString('en-US')} rows`),
        });
        bar.end();
        if (o.json) printJson(r);
        else console.log(summary(r));
      } finally {
        bar.end();
        await db.close();
      }
    });
}
