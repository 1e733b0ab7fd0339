import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ok } from '../api';
import { Problem } from '../components/Problem';
import { clock, viewerZone, when } from '../format';
import { useSession } from '../session';
import type { CallbackView, Facts } from '../types';

type ZoneChoice = 'lead' | 'campaign' | 'your' | 'agent';

// The ipSCAPE-style edit dialog: a read-only part, and behind "override existing details" the
// campaign, type, agent, the time-zone selector and the date and time. The API decides: its
// refusals (DST gap/overlap with the alternatives, rules) are shown word for word.

export function EditDialog({ cb, facts, onClose, onSaved }: { cb: CallbackView; facts: Facts; onClose: () => void; onSaved: () => void }) {
  const session = useSession();
  const ref = useRef<HTMLDialogElement>(null);
  const [override, setOverride] = useState(false);
  const [campaign, setCampaign] = useState(cb.campaign);
  const [type, setType] = useState(cb.type);
  const [owner, setOwner] = useState(cb.owner ?? '');
  const [zone, setZone] = useState<ZoneChoice>('lead');
  const [date, setDate] = useState(cb.dueLocal.slice(0, 10));
  const [time, setTime] = useState(cb.dueLocal.slice(11, 16));
  const [error, setError] = useState<unknown>(null);
  useEffect(() => ref.current?.showModal(), []);
  const zoneName: Record<ZoneChoice, string> = { lead: facts.lead.zone, campaign: facts.campaign?.zone ?? '', your: viewerZone, agent: facts.agentZone ?? '' };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await ok(
        api.PATCH('/callbacks/{id}', {
          params: { path: { id: cb.id } },
          body: {
            version: cb.version,
            due: `${date}T${time}`,
            zone: zone === 'your' ? viewerZone : zone,
            ...(campaign !== cb.campaign ? { campaign } : {}),
            ...(type !== cb.type ? { type } : {}),
            ...(owner !== (cb.owner ?? '') ? { owner: owner || null } : {}),
          },
        }),
      );
      ref.current?.close();
      onSaved();
      onClose();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <dialog ref={ref} aria-labelledby="edit-title" onClose={onClose} className="edit">
      <form onSubmit={submit}>
        <h2 id="edit-title">Edit callback #{cb.id}</h2>
        <dl className="facts" aria-label="Current details">
          <dt>Campaign</dt>
          <dd>
            {facts.campaign?.name} ({facts.campaign?.running ? 'running' : 'not running'}, {facts.campaign?.dialOrder === 'CUSTOMER_FIRST' ? 'customer first' : 'agent first'})
          </dd>
          <dt>Status</dt>
          <dd>{cb.state}</dd>
          <dt>Today's dialling window (yours)</dt>
          <dd>{facts.campaign?.windowsToday.length ? facts.campaign.windowsToday.map((w) => `${clock(w.start)}–${clock(w.end)}`).join(', ') : 'no calling today'}</dd>
          <dt>Lead</dt>
          <dd>
            {facts.lead.name ?? facts.lead.id} {facts.lead.phoneNational} ({facts.lead.zone})
          </dd>
          <dt>Next attempt</dt>
          <dd>{when(facts.nextAttemptAt ?? cb.earliestDialableAt ?? cb.dueAt)}</dd>
        </dl>
        {facts.pastDue && <p className="alert">The date is past: pick a new one.</p>}
        <label className="check">
          <input type="checkbox" checked={override} onChange={(e) => setOverride(e.target.checked)} /> Override existing details
        </label>
        <fieldset disabled={!override}>
          <label>
            Campaign
            <select value={campaign} onChange={(e) => setCampaign(e.target.value)}>
              {[...new Set([cb.campaign, ...session.campaigns])].map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </label>
          <label>
            Type
            <select value={type} onChange={(e) => setType(e.target.value as CallbackView['type'])}>
              <option value="USERONLY">USERONLY (my callback)</option>
              <option value="ANYONE">ANYONE</option>
            </select>
          </label>
          <label>
            Agent
            <input name="owner" value={owner} onChange={(e) => setOwner(e.target.value)} />
          </label>
          <fieldset className="zones">
            <legend>Time zone</legend>
            {(['lead', 'campaign', 'your', 'agent'] as const).map((z) => (
              <label key={z} className="inline">
                <input type="radio" name="zone" value={z} checked={zone === z} onChange={() => setZone(z)} disabled={z === 'agent' && !facts.agentZone} />
                {z === 'your' ? 'Your' : z[0]!.toUpperCase() + z.slice(1)} <small>{zoneName[z]}</small>
              </label>
            ))}
          </fieldset>
          <label>
            Date
            <input type="date" name="date" value={date} onChange={(e) => setDate(e.target.value)} required />
          </label>
          <label>
            Time
            <input type="time" name="time" step={1} value={time} onChange={(e) => setTime(e.target.value)} required />
          </label>
        </fieldset>
        <Problem error={error} />
        <p className="actions">
          <button type="submit" disabled={!override}>
            Save
          </button>
          <button type="button" onClick={() => ref.current?.close()}>
            Close
          </button>
        </p>
      </form>
    </dialog>
  );
}
