import { BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { useCallback, useState } from 'react';
import { Bar } from 'react-chartjs-2';
import { api, ok } from '../api';
import { Problem } from '../components/Problem';
import { clock } from '../format';
import { useLiveUpdates } from '../live';
import type { Dashboard } from '../types';

Chart.register(BarElement, CategoryScale, LinearScale, Tooltip, Legend);
const COLORS = ['#2e7d32', '#c62828', '#f9a825', '#1565c0', '#6a1b9a', '#00838f', '#5d4037', '#455a64'];

export function DashboardPage() {
  const [d, setD] = useState<Dashboard | null>(null);
  const [error, setError] = useState<unknown>(null);
  const refresh = useCallback(async () => {
    const from = new Date();
    from.setHours(0, 0, 0, 0);
    const to = new Date(from.getTime() + 86_400_000);
    try {
      setD(await ok(api.GET('/dashboard', { params: { query: { from: from.toISOString(), to: to.toISOString() } } })));
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, []);
  useLiveUpdates(refresh, 5000);
  if (!d) return error ? <Problem error={error} /> : <p>Loading…</p>;
  const outcomes = [...new Set(d.outcomesPerHour.flatMap((h) => Object.keys(h.outcomes)))];
  return (
    <section aria-labelledby="dash-title" className="dashboard">
      <h1 id="dash-title">Dashboard</h1>
      <Problem error={error} />
      <p className="links" aria-label="Asterisk links">
        ARI <span className={d.links.ari ? 'dot on' : 'dot off'} /> {d.links.ari ? 'connected' : 'down'} · AMI <span className={d.links.ami ? 'dot on' : 'dot off'} /> {d.links.ami ? 'connected' : 'down'} · presence{' '}
        {d.links.presence ? 'fresh' : 'stale'}
      </p>
      <div className="cards">
        <div>
          <h2>Today's callbacks by state</h2>
          <table className="grid" aria-label="Callbacks by state">
            <tbody>
              {d.byState.map((s) => (
                <tr key={s.state}>
                  <th>{s.state}</th>
                  <td>{s.n}</td>
                </tr>
              ))}
              {d.byState.length === 0 && (
                <tr>
                  <td className="empty">none due today</td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        <div>
          <h2>Calls per trunk</h2>
          <table className="grid" aria-label="Trunks">
            <tbody>
              {d.trunks.map((t) => (
                <tr key={t.id}>
                  <th>{t.id}</th>
                  <td>
                    {t.inUse} / {t.maxChannels || '∞'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      <div className="charts">
        <figure>
          <figcaption>On-time lateness (due → dial), since the daemon started</figcaption>
          <Bar aria-label="Lateness histogram" role="img" data={{ labels: d.lateness.map((b) => (b.le === '+Inf' ? '> 120 s' : `≤ ${b.le} s`)), datasets: [{ label: 'callbacks', data: d.lateness.map((b) => b.count), backgroundColor: '#1565c0' }] }} options={{ animation: false, responsive: true }} />
        </figure>
        <figure>
          <figcaption>Outcomes per hour (yours)</figcaption>
          <Bar
            aria-label="Outcomes per hour"
            role="img"
            data={{ labels: d.outcomesPerHour.map((h) => clock(h.hour)), datasets: outcomes.map((o, i) => ({ label: o, data: d.outcomesPerHour.map((h) => h.outcomes[o] ?? 0), backgroundColor: COLORS[i % COLORS.length] })) }}
            options={{ animation: false, responsive: true, scales: { x: { stacked: true }, y: { stacked: true } } }}
          />
        </figure>
      </div>
      <h2>Phones</h2>
      <table className="grid" aria-label="Phones">
        <thead>
          <tr>
            <th>Phone</th><th>Agent</th><th>Server</th><th>Status</th><th>Active account</th><th>Registered</th><th>In use</th><th>Not rung because</th>
          </tr>
        </thead>
        <tbody>
          {d.phones.map((p) => (
            <tr key={p.endpoint}>
              <td>{p.endpoint}</td>
              <td>{p.agent}</td>
              <td>{p.server}</td>
              <td>{p.status}</td>
              <td>{p.activeAccount ? 'yes' : 'no'}</td>
              <td>{p.registered ? 'yes' : 'no'}</td>
              <td>{p.inUseText}</td>
              <td>{p.notRungBecause ?? 'ready'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
