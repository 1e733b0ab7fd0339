import { useState, type FormEvent } from 'react';
import { api, ok } from '../api';
import { Problem } from '../components/Problem';

export function PurgeForm() {
  const [days, setDays] = useState(90);
  const [said, setSaid] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const r = await ok(api.POST('/callbacks/purge', { body: { olderThanDays: days } }));
      setSaid(`${r.archived} finished callbacks archived`);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="purge-title">
      <h1 id="purge-title">Purge finished callbacks</h1>
      <form onSubmit={submit}>
        <label className="inline">
          Older than (days)
          <input type="number" min={1} max={3650} value={days} onChange={(e) => setDays(Number(e.target.value))} />
        </label>
        <button type="submit">Purge</button>
      </form>
      <Problem error={error} />
      {said && <p role="status">{said}</p>}
    </section>
  );
}
