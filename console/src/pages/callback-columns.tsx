import { createColumnHelper } from '@tanstack/react-table';
import { Link } from '../router';
import { when } from '../format';
import type { CallbackView, RowFacts } from '../types';

export type Row = CallbackView & { facts?: RowFacts };
const col = createColumnHelper<Row>();

/** The manager list's columns: what an ipSCAPE / VICIdial manager expects to read. */
export const callbackColumns = [
  col.display({
    id: 'select',
    header: ({ table }) => <input type="checkbox" aria-label="Select all on this page" checked={table.getIsAllRowsSelected()} onChange={table.getToggleAllRowsSelectedHandler()} />,
    cell: ({ row }) => <input type="checkbox" aria-label={`Select callback ${row.original.id}`} checked={row.getIsSelected()} onChange={row.getToggleSelectedHandler()} />,
  }),
  col.accessor('id', { header: 'ID', cell: (c) => <Link to={`/console/callbacks/${c.getValue()}`}>#{c.getValue()}</Link> }),
  col.accessor('type', { header: 'Type', enableSorting: false }),
  col.display({ id: 'phone', header: 'Phone', cell: ({ row }) => <span title={row.original.facts?.phone ?? ''}>{row.original.facts?.phoneNational ?? '…'}</span> }),
  col.accessor('dueAt', {
    id: 'due',
    header: 'Date & time (yours)',
    cell: ({ row: { original: r } }) => (
      <span>
        {when(r.dueAt)}
        {r.earliestDialableAt && r.earliestDialableAt !== r.dueAt && (
          <span className="earliest" title={r.earliestDialableWhy}>
            {' '}
            [{when(r.earliestDialableAt)}] <small>{r.earliestDialableWhy}</small>
          </span>
        )}
      </span>
    ),
  }),
  col.accessor('campaign', {
    header: 'Campaign',
    enableSorting: false,
    cell: ({ row: { original: r } }) => (
      <span>
        <span className={r.facts?.campaignRunning ? 'dot on' : 'dot off'} title={r.facts?.campaignRunning ? 'in calling hours now' : 'outside calling hours now'} aria-label={r.facts?.campaignRunning ? 'running' : 'not running'} />{' '}
        <Link to={`/console/callbacks?campaign=${encodeURIComponent(r.campaign)}`}>{r.facts?.campaignName ?? r.campaign}</Link>
      </span>
    ),
  }),
  col.accessor('list', { header: 'List', enableSorting: false, cell: (c) => (c.getValue() ? <Link to={`/console/callbacks?list=${encodeURIComponent(c.getValue()!)}`}>{c.getValue()}</Link> : '—') }),
  col.accessor('owner', { header: 'Agent', enableSorting: false, cell: (c) => (c.getValue() ? <Link to={`/console/callbacks?agent=${encodeURIComponent(c.getValue()!)}`}>{c.getValue()}</Link> : 'anyone') }),
  col.accessor('lead', { header: 'Lead', enableSorting: false, cell: ({ row: { original: r } }) => `${r.lead}${r.facts?.leadName ? ` (${r.facts.leadName})` : ''}` }),
  col.accessor('state', { header: 'State', enableSorting: false, cell: (c) => <span className={`state ${c.getValue()}`}>{c.getValue()}</span> }),
  col.display({ id: 'attempts', header: 'Attempts', cell: ({ row: { original: r } }) => `${r.attempts}/${r.maxAttempts}` }),
  col.accessor('lastOutcome', { header: 'Last outcome', enableSorting: false, cell: (c) => c.getValue() ?? '—' }),
];
