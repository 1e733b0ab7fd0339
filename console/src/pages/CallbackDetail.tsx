import { useCallback, useEffect, useState } from 'react';
import { api, ApiFailure, ok } from '../api';
import { Problem } from '../components/Problem';
import { clock, when } from '../format';
import { Link } from '../router';
import { useSession } from '../session';
import type { Detail, Facts } from '../types';
import { AttemptRecording } from './AttemptRecording';
import { EditDialog } from './EditDialog';

export function CallbackDetail({ id }: { id: number }) {
  const session = useSession();
  const [detail, setDetail] = useState<Detail | null>(null);
  const [facts, setFacts] = useState<Facts | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState(false);
  const load = useCallback(async () => {
    try {
      setDetail(await ok(api.GET('/callbacks/{id}', { params: { path: { id } } })));
      setFacts(await ok(api.GET('/callbacks/{id}/facts', { params: { path: { id } } })));
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);
  if (error instanceof ApiFailure && error.status === 404) {
    return (
      <section>
        <h1>Not found</h1>
        <p role="alert">No callback {id} (it does not exist, or it is not yours to see).</p>
      </section>
    );
  }
  if (!detail || !facts) return error ? <Problem error={error} /> : <p>Loading…</p>;
  const cb = detail.callback;
  const canEdit = session.role === 'admin' || (session.role === 'manager' && session.leadModify);
  const cancel = async () => {
    try {
      await ok(api.POST('/callbacks/{id}/cancel', { params: { path: { id } }, body: { version: cb.version, reason: 'cancelled in the console' } }));
      await load();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section aria-labelledby="d-title">
      <h1 id="d-title">
        Callback #{cb.id} <span className={`state ${cb.state}`}>{cb.state}</span>
      </h1>
      <Problem error={error} />
      {facts.pastDue && <p className="alert">The due time has passed ({when(cb.dueAt)}).</p>}
      <dl className="facts">
        <dt>Lead</dt>
        <dd>
          {facts.lead.name ?? cb.lead} — {facts.lead.phoneNational} ({facts.lead.phone}), zone {facts.lead.zone}
        </dd>
        <dt>Campaign</dt>
        <dd>
          <span className={facts.campaign?.running ? 'dot on' : 'dot off'} /> {facts.campaign?.name ?? cb.campaign} ({facts.campaign?.running ? 'in calling hours' : 'outside calling hours'}); list {cb.list ?? facts.lead.list}
        </dd>
        {cb.numbers && cb.numbers.length > 1 && (
          <>
            <dt>Numbers</dt>
            <dd>
              <ol className="numbers" aria-label="Numbers">
                {cb.numbers.map((n) => (
                  <li key={n.position}>
                    {n.number} {n.label} ({n.zone}){n.dnc && ' · DNC'}
                    {cb.nextNumber?.position === n.position && ' · dialed next'}
                  </li>
                ))}
              </ol>
              {cb.nextNumber?.why && <small>{cb.nextNumber.why}</small>}
            </dd>
          </>
        )}
        <dt>Type / agent</dt>
        <dd>
          {cb.type} {cb.owner ? `— ${cb.owner}` : ''}
        </dd>
        <dt>Due</dt>
        <dd>
          {when(cb.dueAt)} · lead's clock {cb.dueLocal} {cb.dueZone}
          {cb.earliestDialableAt && cb.earliestDialableAt !== cb.dueAt && ` · earliest dialable ${when(cb.earliestDialableAt)} (${cb.earliestDialableWhy})`}
        </dd>
        <dt>Attempts</dt>
        <dd>
          {cb.attempts}/{cb.maxAttempts} {cb.lastOutcome && `· last ${cb.lastOutcome}`} {cb.waitReason && `· ${cb.waitReason}`} {cb.failReason && `· ${cb.failReason}`}
        </dd>
        <dt>Notes</dt>
        <dd>{cb.notes ?? '—'}</dd>
      </dl>
      {canEdit && (
        <p className="actions">
          <button type="button" onClick={() => setEditing(true)}>
            Edit…
          </button>
          <button type="button" onClick={cancel} disabled={!['ACTIVE', 'LIVE'].includes(cb.state)}>
            Cancel callback
          </button>
        </p>
      )}
      {editing && <EditDialog cb={cb} facts={facts} onClose={() => setEditing(false)} onSaved={() => void load()} />}
      <h2>Call log</h2>
      <table className="grid" aria-label="Call log">
        <thead>
          <tr>
            <th>#</th><th>Agent</th><th>Phone</th><th>From → number</th><th>Trunk</th><th>Started</th><th>Agent rang / answered</th><th>Customer rang / answered</th><th>Ended</th><th>Outcome</th><th>Cause</th><th>Talk</th><th>Recording</th>
          </tr>
        </thead>
        <tbody>
          {facts.attempts.map((a) => (
            <tr key={a.seq}>
              <td>{a.seq}</td>
              <td>{a.agent ?? '—'}</td>
              <td>{a.phone ?? '—'}</td>
              <td>
                {a.callerId} → {a.number}
                {a.numberPosition !== null && ` (number ${a.numberPosition})`}
              </td>
              <td>{a.trunk}</td>
              <td>{when(a.startedAt)}</td>
              <td>
                {clock(a.agentRingingAt)} / {clock(a.agentAnsweredAt)}
              </td>
              <td>
                {clock(a.customerRingingAt)} / {clock(a.customerAnsweredAt)}
              </td>
              <td>{clock(a.endedAt)}</td>
              <td>{a.outcome ?? 'in progress'}</td>
              <td>{a.cause ?? '—'}</td>
              <td>{a.talkSeconds === null ? '—' : `${a.talkSeconds} s`}</td>
              <td>
                <AttemptRecording seq={a.seq} recording={a.recording} />
              </td>
            </tr>
          ))}
          {facts.attempts.length === 0 && (
            <tr>
              <td colSpan={13} className="empty">
                Not dialed yet
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <h2>Audit trail</h2>
      <ol className="audit" aria-label="Audit trail">
        {detail.audit.map((a, i) => (
          <li key={i}>
            {when(new Date(Number(a.at)).toISOString())} — {String(a.actor)}: {String(a.action)}
            {a.reason ? ` (${String(a.reason)})` : ''}
          </li>
        ))}
      </ol>
      <h2>Transcript / context</h2>
      <pre className="transcript">{detail.context ?? 'none'}</pre>
      <h2>Other callbacks of this lead</h2>
      <ul>
        {facts.previous.map((p) => (
          <li key={p.id}>
            <Link to={`/console/callbacks/${p.id}`}>#{p.id}</Link> {p.state} {when(p.dueAt)} {p.notes ?? ''}
          </li>
        ))}
        {facts.previous.length === 0 && <li>none</li>}
      </ul>
    </section>
  );
}
