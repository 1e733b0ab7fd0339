import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ApiFailure, ok } from '../api';
import { Problem } from '../components/Problem';
import { SchemaForm, type FieldErrors, type JsonSchema, type Values } from '../components/SchemaForm';
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
  const [editing, setEditing] = useState<{ id: string } | null>(null);
  useEffect(() => setEditing(null), [e]);
  /** Saves; resolves to the API's failure (shown by the form next to its fields) or null. */
  const put = async (id: string, body: Record<string, unknown>): Promise<unknown> => {
    setSaid(null);
    try {
      await ok(api.PUT('/admin/{entity}/{id}', { params: { path: { entity: e, id } }, body }));
      setSaid(`${e.slice(0, -1)} ${id} saved`);
      setError(null);
      await load();
      return null;
    } catch (err) {
      setError(err);
      return err;
    }
  };
  /** Changes some options of a stored entry: the rest is sent as the server reads it back (nothing dropped). */
  const change = async (id: string, options: Record<string, unknown>) => {
    try {
      const { [shapeKey(e)]: _, ...entry } = await entryOf(e, id);
      await put(id, { ...entry, ...options });
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
      <EntryForm entity={e} editing={editing} onSave={put} />
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
                  <button type="button" aria-label={`Edit ${id}`} onClick={() => setEditing({ id })}>
                    Edit
                  </button>
                  {VIEW[e] && <Link to={`/console/callbacks?${VIEW[e]}=${encodeURIComponent(id)}`}>callbacks</Link>}
                  {e === 'phones' && (
                    <>
                      <button type="button" onClick={() => void change(id, { active_account: !i.activeAccount })}>
                        {i.activeAccount ? 'Deactivate account' : 'Activate account'}
                      </button>
                      <select aria-label={`Status of ${id}`} value={String(i.status)} onChange={(ev) => void change(id, { status: ev.target.value })}>
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

/**
 * Create or replace one entry: a form drawn from the API's schema of the section (one input per
 * option), or the same entry as JSON ("advanced"). A save sends only the options set; the server
 * fills the defaults, checks, and its messages are shown next to the option they name.
 */
function EntryForm({ entity, editing, onSave }: { entity: Entity; editing: { id: string } | null; onSave: (id: string, body: Record<string, unknown>) => Promise<unknown> }) {
  const [shape, setShape] = useState<{ idField: string; schema: JsonSchema } | null>(null);
  const [id, setId] = useState('');
  const [values, setValues] = useState<Values>({});
  const [json, setJson] = useState(false);
  const [text, setText] = useState('{}');
  const [bad, setBad] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  useEffect(() => {
    setShape(null);
    ok(api.GET('/admin/schema/{entity}', { params: { path: { entity } } })).then(
      (r) => setShape({ idField: r.idField, schema: r.schema as JsonSchema }),
      (err: unknown) => setBad(err instanceof ApiFailure ? err.message : String(err)),
    );
  }, [entity]);
  // Edit starts from the entry as the server reads it back (GET …/entry: the PUT body that changes
  // nothing), so options the listing does not carry (an agent's campaigns…) are kept by a save.
  // A new entry or another one to edit starts empty; the schema arriving does not wipe what the
  // admin has typed meanwhile (it did: an id typed before the options loaded was lost).
  useEffect(() => {
    setId('');
    setValues({});
    setErrors({});
  }, [entity, editing]);
  useEffect(() => {
    let current = true;
    if (editing && shape) {
      // The id is shown with the entry, once it is here (not before: a save then would replace it with defaults).
      entryOf(entity, editing.id).then(
        ({ [shape.idField]: _, ...entry }) => current && (setId(editing.id), setValues(entry as Values)),
        (err: unknown) => current && setBad(err instanceof ApiFailure ? err.message : String(err)),
      );
    }
    return () => {
      current = false;
    };
  }, [entity, editing, shape]);
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    let body = values;
    if (json) {
      try {
        body = JSON.parse(text) as Values;
        setValues(body);
      } catch (err) {
        return setBad(`not JSON: ${(err as Error).message}`);
      }
    }
    setBad(null);
    setErrors(fieldErrors(await onSave(id, body)));
  };
  const toggle = (on: boolean) => {
    if (on) setText(JSON.stringify(values, null, 2));
    else {
      try {
        setValues(JSON.parse(text) as Values);
      } catch {
        return setBad('not JSON: fix it before leaving the JSON view');
      }
    }
    setBad(null);
    setJson(on);
  };
  return (
    <form onSubmit={submit} className="entry" aria-label={`Save one of ${entity}`}>
      <label className="inline">
        {KEY[entity]}
        <input value={id} onChange={(e) => setId(e.target.value)} required />
      </label>
      <label className="inline">
        <input type="checkbox" checked={json} onChange={(e) => toggle(e.target.checked)} /> Advanced: edit as JSON
      </label>
      {json ? (
        <label>
          Entry (import-file fields, JSON; every option not given takes its default)
          <textarea rows={8} cols={60} value={text} onChange={(e) => setText(e.target.value)} />
        </label>
      ) : shape ? (
        <SchemaForm schema={shape.schema} skip={shape.idField} values={values} onChange={setValues} errors={errors} />
      ) : (
        !bad && <p>Loading the options…</p>
      )}
      <button type="submit">Save {entity.slice(0, -1)}</button>
      {bad && <p role="alert" className="error">{bad}</p>}
    </form>
  );
}

/** The server's 400 issues (zod paths under [section, 0, …]) by option path. */
function fieldErrors(err: unknown): FieldErrors {
  const issues = err instanceof ApiFailure && Array.isArray(err.body.details) ? (err.body.details as { path?: unknown[]; message?: string }[]) : [];
  const out: FieldErrors = {};
  for (const i of issues) {
    const key = (i.path ?? []).slice(2).filter((x) => typeof x === 'string').join('.');
    if (key && i.message) out[key] = out[key] ? `${out[key]}; ${i.message}` : i.message;
  }
  return out;
}

/** One entry as the import file writes it (the body a PUT takes unchanged). */
const entryOf = (entity: Entity, id: string) => ok(api.GET('/admin/{entity}/{id}/entry', { params: { path: { entity, id } } }));
/** The field of an import-file entry that holds its id (the listing's KEY is the store's column). */
const shapeKey = (e: Entity) => (e === 'numbers' ? 'number' : KEY[e]);

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
