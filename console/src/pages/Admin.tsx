import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ok } from '../api';
import { Problem } from '../components/Problem';
import { Link } from '../router';

// Admin screens over /admin/*: the directory as the API lists it, and a change as an entry of the
// import file (the API runs the same checks as `callbackd import` and its messages are shown).

const ENTITIES = ['campaigns', 'lists', 'leads', 'agents', 'phones', 'trunks', 'numbers', 'users'] as const;
type Entity = (typeof ENTITIES)[number];
const KEY: Record<Entity, string> = { campaigns: 'id', lists: 'id', leads: 'id', agents: 'id', phones: 'endpoint', trunks: 'id', numbers: 'e164', users: 'id' };
const VIEW: Partial<Record<Entity, string>> = { campaigns: 'campaign', lists: 'list', agents: 'agent' };

export function AdminPage({ entity }: { entity: string }) {
  const e = (ENTITIES as readonly string[]).includes(entity) ? (entity as Entity) : 'campaigns';
  const [items, setItems] = useState<Record<string, unknown>[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [said, setSaid] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setItems((await ok(api.GET('/admin/{entity}', { params: { path: { entity: e }, query: { limit: 1000 } } }))).items);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [e]);
  useEffect(() => {
    void load();
  }, [load]);
  const cols = [...new Set(items.flatMap((i) => Object.keys(i)))].filter((c) => c !== 'updatedAt');
  const put = async (id: string, body: Record<string, unknown>) => {
    setSaid(null);
    try {
      await ok(api.PUT('/admin/{entity}/{id}', { params: { path: { entity: e, id } }, body }));
      setSaid(`${e.slice(0, -1)} ${id} saved`);
      setError(null);
      await load();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Admin — {e}</h1>
      <nav className="tabs" aria-label="Directory">
        {ENTITIES.map((x) => (
          <Link key={x} to={`/console/admin/${x}`} aria-current={x === e ? 'page' : undefined}>
            {x}
          </Link>
        ))}
        <Link to="/console/admin/dnc">dnc</Link>
      </nav>
      <Problem error={error} />
      {said && <p role="status">{said}</p>}
      <EntryForm entity={e} onSave={put} />
      <table className="grid" aria-label={e}>
        <thead>
          <tr>
            {cols.map((c) => (
              <th key={c}>{c}</th>
            ))}
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => {
            const id = String(i[KEY[e]]);
            return (
              <tr key={id}>
                {cols.map((c) => (
                  <td key={c}>{typeof i[c] === 'object' ? JSON.stringify(i[c]) : String(i[c] ?? '')}</td>
                ))}
                <td>
                  {VIEW[e] && <Link to={`/console/callbacks?${VIEW[e]}=${encodeURIComponent(id)}`}>callbacks</Link>}
                  {e === 'phones' && (
                    <>
                      <button type="button" onClick={() => void put(id, { agent: i.agentId, active_account: !i.activeAccount, status: i.status })}>
                        {i.activeAccount ? 'Deactivate account' : 'Activate account'}
                      </button>
                      <select aria-label={`Status of ${id}`} value={String(i.status)} onChange={(ev) => void put(id, { agent: i.agentId, active_account: i.activeAccount, status: ev.target.value })}>
                        {['ACTIVE', 'ADMIN', 'SUSPENDED', 'CLOSED', 'PENDING', 'DELETED'].map((s) => (
                          <option key={s}>{s}</option>
                        ))}
                      </select>
                    </>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

/** Create or replace one entry, written as in the import file (README "Import file"). */
function EntryForm({ entity, onSave }: { entity: Entity; onSave: (id: string, body: Record<string, unknown>) => Promise<void> }) {
  const [id, setId] = useState('');
  const [text, setText] = useState('{}');
  const [bad, setBad] = useState<string | null>(null);
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    try {
      const body = JSON.parse(text) as Record<string, unknown>;
      setBad(null);
      await onSave(id, body);
    } catch (err) {
      setBad(err instanceof SyntaxError ? `not JSON: ${err.message}` : null);
    }
  };
  return (
    <form onSubmit={submit} className="entry" aria-label={`Save one of ${entity}`}>
      <label className="inline">
        {KEY[entity]}
        <input value={id} onChange={(e) => setId(e.target.value)} required />
      </label>
      <label>
        Entry (import-file fields, JSON; every option not given takes its default)
        <textarea rows={4} cols={60} value={text} onChange={(e) => setText(e.target.value)} />
      </label>
      <button type="submit">Save {entity.slice(0, -1)}</button>
      {bad && <p role="alert" className="error">{bad}</p>}
    </form>
  );
}

export function DncPage() {
  const [items, setItems] = useState<Record<string, unknown>[]>([]);
  const [number, setNumber] = useState('');
  const [campaign, setCampaign] = useState('');
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => setItems((await ok(api.GET('/admin/dnc'))).items), []);
  useEffect(() => {
    void load();
  }, [load]);
  const change = async (remove: boolean) => {
    try {
      const body = { number, ...(campaign ? { campaign } : {}) };
      await ok(remove ? api.POST('/admin/dnc/remove', { body }) : api.POST('/admin/dnc', { body }));
      setError(null);
      await load();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section aria-labelledby="dnc-title">
      <h1 id="dnc-title">Admin — DNC</h1>
      <Link to="/console/admin/campaigns">‹ directory</Link>
      <Problem error={error} />
      <form onSubmit={(e) => (e.preventDefault(), void change(false))} aria-label="DNC">
        <label className="inline">
          Number
          <input value={number} onChange={(e) => setNumber(e.target.value)} required />
        </label>
        <label className="inline">
          Campaign (empty: everywhere)
          <input value={campaign} onChange={(e) => setCampaign(e.target.value)} />
        </label>
        <button type="submit">Add</button>
        <button type="button" onClick={() => void change(true)}>
          Remove
        </button>
      </form>
      <ul>
        {items.map((i, n) => (
          <li key={n}>
            {String(i.phoneE164)} {i.campaignId ? `(${String(i.campaignId)})` : '(everywhere)'}
          </li>
        ))}
      </ul>
    </section>
  );
}
