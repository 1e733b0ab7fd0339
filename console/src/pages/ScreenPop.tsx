import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiFailure, ok } from '../api';
import { when } from '../format';
import { useSession } from '../session';
import type { Ringing } from '../types';

// The screen pop while callbackd rings (or has connected) the agent's phone: lead name and number,
// notes, the lead's previous callbacks, the earlier conversation; and booking the next callback.

export function ScreenPop({ item }: { item: Ringing }) {
  const { callback: cb, facts } = item;
  return (
    <aside className="pop" role="dialog" aria-label={`Incoming callback ${cb.id}`}>
      <h2>
        {item.answered ? 'On the call' : 'Ringing'}: {facts.lead.name ?? cb.lead} — {facts.lead.phoneNational}
      </h2>
      <p>
        Callback #{cb.id} · {facts.campaign?.name} · due {when(cb.dueAt)}
      </p>
      <p>
        <strong>Notes:</strong> {cb.notes ?? '—'}
      </p>
      <h3>Previous callbacks</h3>
      <ul>
        {facts.previous.map((p) => (
          <li key={p.id}>
            #{p.id} {p.state} {when(p.dueAt)} {p.lastOutcome ?? ''} {p.notes ?? ''}
          </li>
        ))}
        {facts.previous.length === 0 && <li>none</li>}
      </ul>
      <Transcript id={cb.id} />
      <BookNext lead={cb.lead} zone={facts.lead.zone} mineByDefault={facts.campaign?.myCallbackDefault !== 'ANYONE'} />
    </aside>
  );
}

function Transcript({ id }: { id: number }) {
  const [text, setText] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    void api.GET('/callbacks/{id}', { params: { path: { id } } }).then((r) => setText(r.data?.context ?? null));
  }, [id]);
  return (
    <>
      <h3>Earlier conversation</h3>
      <pre className="transcript">{text ?? 'none'}</pre>
    </>
  );
}

export function BookNext({ lead, zone, mineByDefault }: { lead: string; zone: string; mineByDefault: boolean }) {
  const session = useSession();
  const [date, setDate] = useState('');
  const [time, setTime] = useState('');
  const [mine, setMine] = useState(mineByDefault);
  const [notes, setNotes] = useState('');
  const [said, setSaid] = useState<{ ok: boolean; text: string } | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const r = await ok(api.POST('/callbacks', { body: { lead, due: `${date}T${time}`, zone: 'lead', type: mine ? 'USERONLY' : 'ANYONE', owner: mine ? session.agentId : null, notes: notes || null } }));
      setSaid({ ok: true, text: `Booked #${r.callback.id} for ${r.callback.dueLocal} (${zone})${r.notices.length ? ` — ${r.notices.join('; ')}` : ''}` });
    } catch (err) {
      setSaid({ ok: false, text: err instanceof ApiFailure ? err.message : String(err) });
    }
  };
  return (
    <form onSubmit={submit} aria-label="Book a callback" className="book">
      <h3>Book a callback (lead's time, {zone})</h3>
      <label className="inline">
        Date
        <input type="date" value={date} onChange={(e) => setDate(e.target.value)} required />
      </label>
      <label className="inline">
        Time
        <input type="time" value={time} onChange={(e) => setTime(e.target.value)} required />
      </label>
      <label className="inline">
        <input type="checkbox" checked={mine} onChange={(e) => setMine(e.target.checked)} /> My callback
      </label>
      <label className="inline">
        Notes
        <input value={notes} onChange={(e) => setNotes(e.target.value)} />
      </label>
      <button type="submit">Book</button>
      {said && (
        <p role={said.ok ? 'status' : 'alert'} className={said.ok ? 'ok' : 'error'}>
          {said.text}
        </p>
      )}
    </form>
  );
}
