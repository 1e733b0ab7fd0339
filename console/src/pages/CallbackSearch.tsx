import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api';
import type { ListQuery } from '../types';

export function QuickSearch({ onSearch }: { onSearch: (phone: string, region: string) => void }) {
  const [phone, setPhone] = useState('');
  const [region, setRegion] = useState('US');
  return (
    <form
      role="search"
      aria-label="Quick search by phone"
      onSubmit={(e) => {
        e.preventDefault();
        onSearch(phone, region);
      }}
    >
      <label className="inline">
        Phone (E.164 or national)
        <input name="phone" value={phone} onChange={(e) => setPhone(e.target.value)} placeholder="+12125550101 or (212) 555-0101" required />
      </label>
      <label className="inline">
        Region
        <input name="region" value={region} onChange={(e) => setRegion(e.target.value.toUpperCase())} size={3} maxLength={2} />
      </label>
      <button type="submit">Find</button>
    </form>
  );
}

const STATES = ['ACTIVE', 'LIVE', 'DIALING', 'COMPLETED', 'NO_ANSWER', 'BUSY', 'FAILED', 'CANCELLED'];
const multi = (e: { target: HTMLSelectElement }) => [...e.target.selectedOptions].map((o) => o.value);
const toLocalInput = (iso: string | undefined) => (iso ? new Date(new Date(iso).getTime() - new Date(iso).getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : '');

/** Date range, campaigns, lists of those campaigns, type, agent, disposition, state. */
export function AdvancedSearch({ initial, campaigns, onApply }: { initial: Partial<ListQuery>; campaigns: string[] | null; onApply: (q: Partial<ListQuery>) => void }) {
  const [q, setQ] = useState<Record<string, string>>(initial as Record<string, string>);
  const [allCampaigns, setAllCampaigns] = useState<string[]>(campaigns ?? []);
  const [lists, setLists] = useState<{ id: string; campaign: string }[] | null>(null);
  useEffect(() => {
    if (campaigns !== null) return; // an admin: every campaign and list from the directory
    void api.GET('/admin/{entity}', { params: { path: { entity: 'campaigns' }, query: { limit: 1000 } } }).then((r) => setAllCampaigns((r.data?.items ?? []).map((c) => String(c.id))));
    void api.GET('/admin/{entity}', { params: { path: { entity: 'lists' }, query: { limit: 1000 } } }).then((r) => setLists((r.data?.items ?? []).map((l) => ({ id: String(l.id), campaign: String(l.campaignId) }))));
  }, [campaigns]);
  const chosen = (q.campaign ?? '').split(',').filter(Boolean);
  const set = (k: string, v: string | string[]) => setQ((o) => ({ ...o, [k]: Array.isArray(v) ? v.join(',') : v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const out = Object.fromEntries(Object.entries(q).filter(([, v]) => v));
    for (const k of ['from', 'to']) if (out[k]) out[k] = new Date(out[k]!).toISOString();
    if (out.type !== 'USERONLY') delete out.agent;
    onApply(out as Partial<ListQuery>);
  };
  const visibleLists = lists?.filter((l) => chosen.length === 0 || chosen.includes(l.campaign));
  return (
    <details className="advanced">
      <summary>Advanced search</summary>
      <form onSubmit={submit} aria-label="Advanced search">
        <label>
          Due from
          <input type="datetime-local" value={toLocalInput(q.from)} onChange={(e) => set('from', e.target.value ? new Date(e.target.value).toISOString() : '')} />
        </label>
        <label>
          Due to
          <input type="datetime-local" value={toLocalInput(q.to)} onChange={(e) => set('to', e.target.value ? new Date(e.target.value).toISOString() : '')} />
        </label>
        <label>
          Campaigns
          <select multiple value={chosen} onChange={(e) => set('campaign', multi(e))}>
            {allCampaigns.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          Lists
          {visibleLists ? (
            <select multiple value={(q.list ?? '').split(',').filter(Boolean)} onChange={(e) => set('list', multi(e))}>
              {visibleLists.map((l) => (
                <option key={l.id}>{l.id}</option>
              ))}
            </select>
          ) : (
            <input value={q.list ?? ''} onChange={(e) => set('list', e.target.value)} placeholder="L1,L2" />
          )}
        </label>
        <label>
          Type
          <select value={q.type ?? ''} onChange={(e) => set('type', e.target.value)}>
            <option value="">any</option>
            <option value="USERONLY">USERONLY (an agent's)</option>
            <option value="ANYONE">ANYONE</option>
          </select>
        </label>
        {q.type === 'USERONLY' && (
          <label>
            Agent
            <input value={q.agent ?? ''} onChange={(e) => set('agent', e.target.value)} />
          </label>
        )}
        <label>
          Wrap code / disposition
          <input value={q.disposition ?? ''} onChange={(e) => set('disposition', e.target.value)} placeholder="BUSY,NO_ANSWER" />
        </label>
        <label>
          State
          <select multiple value={(q.state ?? '').split(',').filter(Boolean)} onChange={(e) => set('state', multi(e))}>
            {STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
        <button type="button" onClick={() => onApply({})}>
          Clear
        </button>
      </form>
    </details>
  );
}
