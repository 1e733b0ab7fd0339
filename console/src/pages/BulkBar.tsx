import { useState } from 'react';
import { api, ApiFailure, ok } from '../api';
import type { Row } from './callback-columns';

interface ItemResult {
  id: number;
  ok: boolean;
  message: string;
}

// Bulk changes on the selected callbacks. Cancel is one API call; reassign and convert are one
// PATCH per callback (each with the version the manager saw), so each refusal is the API's own.

export function BulkBar({ selected, rows, onDone }: { selected: number[]; rows: Row[]; onDone: () => void }) {
  const [agent, setAgent] = useState('');
  const [results, setResults] = useState<ItemResult[] | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (f: () => Promise<ItemResult[]>) => {
    setBusy(true);
    try {
      setResults(await f());
    } finally {
      setBusy(false);
      onDone();
    }
  };
  const patchEach = (body: { owner?: string; type?: 'ANYONE' }, said: string) =>
    run(async () => {
      const out: ItemResult[] = [];
      for (const id of selected) {
        const version = rows.find((r) => r.id === id)?.version ?? 1;
        try {
          await ok(api.PATCH('/callbacks/{id}', { params: { path: { id } }, body: { version, ...body } }));
          out.push({ id, ok: true, message: said });
        } catch (e) {
          out.push({ id, ok: false, message: e instanceof ApiFailure ? `${e.body.code}: ${e.message}` : String(e) });
        }
      }
      return out;
    });
  const cancel = () =>
    run(async () => {
      const r = await ok(api.POST('/callbacks/bulk', { body: { action: 'cancel', ids: selected } }));
      return [...r.changed.map((id) => ({ id, ok: true, message: 'cancelled' })), ...r.refused.map((x) => ({ id: x.id, ok: false, message: `${x.code}: ${x.message}` }))];
    });
  return (
    <div className="bulk" role="group" aria-label="Bulk actions">
      <span>{selected.length} selected</span>
      <button type="button" disabled={!selected.length || busy} onClick={cancel}>
        Cancel selected
      </button>
      <label className="inline">
        Reassign to agent
        <input name="reassign-to" value={agent} onChange={(e) => setAgent(e.target.value)} size={10} />
      </label>
      <button type="button" disabled={!selected.length || !agent || busy} onClick={() => patchEach({ owner: agent }, `reassigned to ${agent}`)}>
        Reassign
      </button>
      <button type="button" disabled={!selected.length || busy} onClick={() => patchEach({ type: 'ANYONE' }, 'converted to ANYONE')}>
        Convert to ANYONE
      </button>
      {results && (
        <ul className="results" aria-label="Bulk results">
          {results.map((r) => (
            <li key={r.id} className={r.ok ? 'ok' : 'refused'}>
              #{r.id}: {r.ok ? r.message : `refused — ${r.message}`}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
