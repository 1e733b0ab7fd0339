import { useCallback, useState } from 'react';
import { api, ok } from '../api';
import { alertClasses } from '../alert';
import { Problem } from '../components/Problem';
import { when } from '../format';
import { useLiveUpdates } from '../live';
import { Link } from '../router';
import type { MyCallbacks, Ringing } from '../types';
import { ScreenPop } from './ScreenPop';

// The agent's screen: my callbacks (the API applies hours block, display days and count mode),
// the alert line in the campaign's style (callback_alert, from the API), and the screen pop while callbackd rings my phone. Updated live.

export function AgentPage() {
  const [mine, setMine] = useState<MyCallbacks | null>(null);
  const [ringing, setRinging] = useState<Ringing[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState(false);
  const [seen, setSeen] = useState<number | null>(null);
  const refresh = useCallback(async () => {
    try {
      const [m, r] = await Promise.all([ok(api.GET('/me/callbacks')), ok(api.GET('/me/ringing'))]);
      setMine(m);
      setRinging(r.items);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, []);
  const mode = useLiveUpdates(refresh);
  if (!mine) return error ? <Problem error={error} /> : <p>Loading…</p>;
  const classes = alertClasses(mine.alert, mine.counted, seen);
  return (
    <section aria-labelledby="agent-title">
      <h1 id="agent-title">My callbacks</h1>
      <Problem error={error} />
      {ringing.map((r) => (
        <ScreenPop key={r.callback.id} item={r} />
      ))}
      <p className={['alert-line', ...classes].join(' ')} data-testid="alert-line" role="status">
        Callbacks: {mine.counted} <small>(LIVE {mine.live} · ACTIVE {mine.active})</small>
      </p>
      <p className="muted">
        Updates: {mode}. <span data-testid="alert-style">Alert style: {mine.alert} (the campaign's)</span>
      </p>
      <details
        open={open}
        onToggle={(e) => {
          const now = (e.target as HTMLDetailsElement).open;
          if (now && !open) setSeen(mine.counted); // DEFER: opening the list counts as seen
          setOpen(now);
        }}
      >
        <summary>Open my list ({mine.callbacks.length})</summary>
        <table className="grid" aria-label="My callbacks">
          <thead>
            <tr>
              <th>ID</th><th>State</th><th>Lead</th><th>Due (yours)</th><th>Lead's clock</th><th>Campaign</th><th>Notes</th>
            </tr>
          </thead>
          <tbody>
            {mine.callbacks.map((c) => (
              <tr key={c.id} data-id={c.id} className={c.state === 'LIVE' ? 'live' : undefined}>
                <td>
                  <Link to={`/console/callbacks/${c.id}`}>#{c.id}</Link>
                </td>
                <td>
                  <span className={`state ${c.state}`}>{c.state}</span>
                </td>
                <td>{c.lead}</td>
                <td>{when(c.dueAt)}</td>
                <td>
                  {c.dueLocal} {c.dueZone}
                </td>
                <td>{c.campaign}</td>
                <td>{c.notes ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}
