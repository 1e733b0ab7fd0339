import type { RowSelectionState, SortingState } from '@tanstack/react-table';
import { useCallback, useEffect, useState } from 'react';
import { api, ok } from '../api';
import { DataTable } from '../components/DataTable';
import { Problem } from '../components/Problem';
import { navigate } from '../router';
import { useSession } from '../session';
import type { ListQuery } from '../types';
import { AdvancedSearch, QuickSearch } from './CallbackSearch';
import { BulkBar } from './BulkBar';
import { callbackColumns, type Row } from './callback-columns';

// The manager's callbacks list. Filters live in the URL (views by user / campaign / list are links),
// paging is the API's cursor, sorting the API's sort.

const FILTERS = ['state', 'campaign', 'list', 'agent', 'disposition', 'type', 'from', 'to'] as const;

export function queryOf(search: URLSearchParams): Partial<ListQuery> {
  const q: Record<string, string> = {};
  for (const k of FILTERS) {
    const v = search.get(k);
    if (v) q[k] = v;
  }
  return q as Partial<ListQuery>;
}

async function withFacts(items: Row[]): Promise<Row[]> {
  if (items.length === 0) return items;
  const f = await ok(api.GET('/callbacks/facts', { params: { query: { ids: items.map((i) => i.id).join(',') } } }));
  const byId = new Map(f.items.map((x) => [x.id, x]));
  return items.map((i) => ({ ...i, facts: byId.get(i.id) }));
}

export function CallbacksPage({ search }: { search: URLSearchParams }) {
  const session = useSession();
  const [rows, setRows] = useState<Row[]>([]);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [next, setNext] = useState<string | null>(null);
  const [sorting, setSorting] = useState<SortingState>([{ id: 'due', desc: false }]);
  const [limit, setLimit] = useState(50);
  const [selection, setSelection] = useState<RowSelectionState>({});
  const [error, setError] = useState<unknown>(null);
  const [phoneHit, setPhoneHit] = useState<string | null>(null);
  const filters = queryOf(search);
  const filterKey = search.toString();
  const cursor = cursors[cursors.length - 1];

  const load = useCallback(async () => {
    setError(null);
    try {
      const sort = sorting[0];
      const page = await ok(api.GET('/callbacks', { params: { query: { ...filters, sort: sort?.id === 'id' ? 'id' : 'due', order: sort?.desc ? 'desc' : 'asc', limit, cursor } as ListQuery } }));
      setRows(await withFacts(page.items));
      setNext(page.nextCursor);
      setPhoneHit(null);
    } catch (e) {
      setError(e);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [filterKey, sorting, limit, cursor]);

  useEffect(() => {
    setCursors([undefined]);
    setSelection({});
  }, [filterKey, sorting, limit]);
  useEffect(() => {
    void load();
  }, [load]);

  const onPhone = async (phone: string, region: string) => {
    setError(null);
    try {
      const r = await ok(api.GET('/callbacks/search', { params: { query: { phone, region } } }));
      setRows(await withFacts(r.items));
      setNext(null);
      setPhoneHit(r.e164);
    } catch (e) {
      setError(e);
    }
  };
  const selected = Object.keys(selection).filter((k) => selection[k]).map(Number);
  const view = filters.agent ? `Agent ${filters.agent}` : filters.campaign ? `Campaign ${filters.campaign}` : filters.list ? `List ${filters.list}` : 'All callbacks';

  return (
    <section aria-labelledby="cb-title">
      <h1 id="cb-title">Callbacks — {view}</h1>
      <div className="toolbar">
        <QuickSearch onSearch={onPhone} />
        <AdvancedSearch initial={filters} campaigns={session.role === 'admin' ? null : session.campaigns} onApply={(q) => navigate(`/console/callbacks?${new URLSearchParams(q as Record<string, string>)}`)} />
      </div>
      {phoneHit && (
        <p className="notice">
          Callbacks of {phoneHit}{' '}
          <button type="button" onClick={() => void load()}>
            Back to the list
          </button>
        </p>
      )}
      <Problem error={error} />
      <BulkBar selected={selected} rows={rows} onDone={() => void load()} />
      <DataTable label="Callbacks" data={rows} columns={callbackColumns} sorting={sorting} onSortingChange={setSorting} selection={selection} onSelectionChange={setSelection} />
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={cursors.length < 2} onClick={() => setCursors((c) => c.slice(0, -1))}>
          ‹ Previous
        </button>
        <span>Page {cursors.length}</span>
        <button type="button" disabled={!next} onClick={() => setCursors((c) => [...c, next ?? undefined])}>
          Next ›
        </button>
        <label className="inline">
          Rows
          <select value={limit} onChange={(e) => setLimit(Number(e.target.value))}>
            {[25, 50, 100, 200].map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
      </nav>
    </section>
  );
}
